#!/usr/bin/env python3
"""Writes sharegpt.json: a small ShareGPT file whose conversations sit on
the edges of vLLM's filter. Each prompt starts with its case name, so that
a test can tell which were kept; the rest of a text is filler words, and its
length in words is the number after the case name in the comments below.

Run from this folder: python3 gen_sharegpt.py > sharegpt.json
"""
import json


def text(tag, n):
    """tag followed by filler: n words in all."""
    return " ".join([tag] + ["word"] * (n - 1))


def conv(*turns, key="conversations", **extra):
    return {**extra, key: [{"from": f, "value": v} for f, v in turns]}


entries = [
    conv(("human", text("case-basic", 5)), ("gpt", text("reply", 6))),
    conv(("human", text("case-one-turn", 10))),
    conv(("human", text("case-short-prompt", 3)), ("gpt", text("reply", 10))),
    conv(("human", text("case-short-reply", 10)), ("gpt", text("reply", 3))),
    conv(("human", text("case-min", 4)), ("gpt", text("reply", 4))),
    conv(("human", text("case-long-prompt", 1025)), ("gpt", text("reply", 10))),
    conv(("human", text("case-max", 1024)), ("gpt", text("reply", 1024))),
    conv(("human", text("case-long-total", 1000)), ("gpt", text("reply", 1049))),
    conv(("human", text("case-singular-key", 5)), ("gpt", text("reply", 5)), key="conversation"),
    conv(("gpt", text("hello", 5)), ("human", text("case-model-first", 6)), ("gpt", text("reply", 7))),
    conv(("system", text("be", 5)), ("human", text("case-system-first", 5)), ("gpt", text("reply", 8))),
    conv(("human", text("case-two-humans", 5)), ("human", text("again", 9)), ("gpt", text("reply", 10))),
    conv(("human", text("case-no-reply", 5)), ("human", text("again", 9))),
    conv(("gpt", text("case-no-human", 5)), ("gpt", text("reply", 9))),
    conv(("human", "case-cjk 请解释这个"), ("gpt", "好的 我来解释")),  # 6 and 6
    None,
    {},
    {"conversations": []},
    {"id": "x1", "conversations": [{"from": "human", "value": None}, {"from": "gpt", "value": text("reply", 9)}]},
    conv(("human", text("case-extra-fields", 5)), ("gpt", text("reply", 5)),
         id="abc", markdown={"answer": [1, 2, {"x": None}]}, lang="en"),
    conv(("user", text("case-user-assistant", 5)), ("assistant", text("reply", 12))),
]

print(json.dumps(entries, ensure_ascii=False, indent=1))
