#!/usr/bin/env python3
"""Writes mixed.jsonl, the golden tests' input: three runs, a sweep of two
load points, warmup, failures of several kinds, chunk-counted tokens, a
non-streaming run whose label tries formula injection, and bad lines. Only
r1 asks for ignore_eos yet gets 4 of 8 tokens (a server that ignored it); r3
asks for it and gets all 8.
Run it again only to change the input; the golden outputs follow with -update."""
import datetime, json

T0 = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=datetime.timezone.utc)

def ts(ms):
    t = T0 + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%09dZ" % (t.microsecond * 1000)

def rec(run, label, seq, phase, conc, rate, sched_ms, queue_ms, latency_ms, ttft=None, itl=None,
        prompt=10, out=4, tokens_from="usage", stream=True, ok=True, kind=None, status=200, model="m",
        ignore_eos=False):
    r = {"schema": 1, "run_id": run, "label": label, "seq": seq, "phase": phase, "model": model,
         "url": "http://127.0.0.1:8000/v1/completions", "endpoint": "/v1/completions", "stream": stream,
         "ignore_eos": ignore_eos, "concurrency": conc, "rate": rate, "max_tokens": 8,
         "scheduled_at": ts(sched_ms), "sent_at": ts(sched_ms + queue_ms), "queue_ms": queue_ms}
    if ttft is not None:
        r["ttft_ms"] = ttft
    r["latency_ms"] = latency_ms
    if itl:
        r["itl_ms"] = itl
    if ok and ttft is not None and out > 1:
        r["tpot_ms"] = (latency_ms - ttft) / (out - 1)
    r.update({"prompt_tokens": prompt, "output_tokens": out if ok else 0, "tokens_from": tokens_from if ok else "none"})
    if ok:
        r["finish_reason"] = "length"
    r.update({"status": status, "ok": ok})
    if not ok:
        r["error_kind"] = kind
        r["error"] = kind + " failure"
    return json.dumps(r, separators=(",", ":"))

lines = []
# r2: a sweep, two open-loop load points; listed first but starts later.
for i in range(4):
    lines.append(rec("r2", "throughput", i, "measure", 4, 2, 10000 + 500 * i, 0.25 * i, 300 + 10 * i,
                     ttft=50 + i, itl=[80, 85 + i, 90], tokens_from="chunks" if i == 3 else "usage"))
lines.append(rec("r2", "throughput", 4, "measure", 4, 2, 12000, 0, 5, ok=False, kind="http", status=503))
lines.append("not json at all")
for i in range(3):
    lines.append(rec("r2", "throughput", 5 + i, "measure", 4, 4, 20000 + 250 * i, 20 + 10 * i, 200,
                     ttft=40, itl=[50, 60, 70]))
lines.append(rec("r2", "throughput", 8, "measure", 4, 4, 20750, 0, 1000, ok=False, kind="connect", status=0))
lines.append('{"schema":1,"run_id":"r2","seq":9,')
lines.append("")
# r1: closed loop, one at a time, with a warmup and a timeout.
lines.append(rec("r1", "latency", 0, "warmup", 1, 0, 0, 0, 999, ttft=999, itl=[999, 999, 999], ignore_eos=True))
for i, (lat, ttft, itl) in enumerate([(400, 100, [90, 100, 110]), (420, 120, [100, 100, 100]),
                                       (380, 80, [95, 100, 105]), (500, 110, [130, 130, 130])]):
    lines.append(rec("r1", "latency", 1 + i, "measure", 1, 0, 1000 + 500 * i, 0, lat, ttft=ttft, itl=itl, ignore_eos=True))
lines.append(rec("r1", "latency", 5, "measure", 1, 0, 3000, 0, 1500, ok=False, kind="timeout", status=0, ignore_eos=True))
# r3: not streaming, a label that a spreadsheet would evaluate.
for i in range(2):
    lines.append(rec("r3", "=cmd()", i, "measure", 2, 0, 30000, 0, 250 + 50 * i, prompt=20, out=8,
                     stream=False, model="org/model, \"quoted\"", ignore_eos=True))
print("\n".join(lines))
