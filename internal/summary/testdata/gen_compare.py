#!/usr/bin/env python3
"""Writes old.jsonl and new.jsonl, the comparison tests' input.

latency, concurrency 1: six runs a side of five requests (a per-run test);
the new runs' TTFT is 10 ms slower, everything else the same shape.
throughput, concurrency 4: one run a side of 40 requests (a per-request
test); the new run fails 10 of them.
throughput, concurrency 8: only in new (not compared, a warning).

Jitter is arithmetic, not random, so the files never change. Run it again
only to change the input; the golden outputs follow with go test -update."""
import datetime, json

T0 = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=datetime.timezone.utc)

def ts(ms):
    t = T0 + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%09dZ" % (t.microsecond * 1000)

def jitter(a, b):
    return ((a * 7 + b * 3) % 10) / 10

def rec(run, label, seq, conc, sched_ms, ttft, itl, ok=True):
    latency = ttft + sum(itl) if ok else 5.0
    r = {"schema": 1, "run_id": run, "label": label, "seq": seq, "phase": "measure", "model": "m",
         "url": "http://127.0.0.1:8000/v1/completions", "endpoint": "/v1/completions", "stream": True,
         "ignore_eos": True, "concurrency": conc, "rate": 0, "max_tokens": 4,
         "scheduled_at": ts(sched_ms), "sent_at": ts(sched_ms), "queue_ms": 0}
    if ok:
        r.update({"ttft_ms": ttft, "latency_ms": latency, "itl_ms": itl, "tpot_ms": sum(itl) / len(itl),
                  "prompt_tokens": 10, "output_tokens": len(itl) + 1, "tokens_from": "usage",
                  "finish_reason": "length", "status": 200, "ok": True})
    else:
        r.update({"latency_ms": latency, "prompt_tokens": 10, "output_tokens": 0, "tokens_from": "none",
                  "status": 503, "ok": False, "error_kind": "http", "error": "http failure"})
    return json.dumps(r, separators=(",", ":"))

def side(name, slower_ms, failures, extra_point):
    lines = []
    for run in range(6):
        start = run * 10000
        for j in range(5):
            ttft = 50 + slower_ms + jitter(run, j)
            itl = [5 + jitter(j, run) / 10, 5 + jitter(run + 1, j) / 10, 5.0]
            lines.append(rec("%s-lat-%d" % (name, run), "latency", j, 1, start + 100 * j, ttft, itl))
    start = 100000
    for j in range(40):
        ttft = 80 + 5 * jitter(j, 1)
        itl = [6 + jitter(j, 2), 6 + jitter(j, 3), 6 + jitter(j, 4)]
        lines.append(rec("%s-tput" % name, "throughput", j, 4, start + 25 * j, ttft, itl, ok=j >= failures))
    if extra_point:
        for j in range(8):
            lines.append(rec("%s-tput" % name, "throughput", 40 + j, 8, start + 2000 + 10 * j, 90.0, [7.0, 7.0, 7.0]))
    return lines

with open("old.jsonl", "w") as f:
    f.write("\n".join(side("old", 0, 0, False)) + "\n")
with open("new.jsonl", "w") as f:
    f.write("\n".join(side("new", 10, 10, True)) + "\n")
