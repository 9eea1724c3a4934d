#!/usr/bin/env bash
# schedule_lag.sh: how closely genload keeps an open-loop schedule.
#
# Starts llmsim with tiny latencies, then drives it at each rate with
# constant arrivals for a fixed time and reports the client's schedule lag
# (queue_ms = sent_at - scheduled_at; nothing caps the requests in flight, so
# it is all client lag) at p50 and p99, and the achieved rate against the
# target. Output: a table on stderr and CSV on stdout.
#
#   bench/schedule_lag.sh [RATE...]        default rates: 100 1000 5000
#   SERVEBENCH_LAG_DURATION=5s bench/schedule_lag.sh 100 1000
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${SERVEBENCH_BIN:-$root/bin}
duration=${SERVEBENCH_LAG_DURATION:-5s}
rates=("$@")
[ "${#rates[@]}" -gt 0 ] || rates=(100 1000 5000)

(cd "$root" && go build -o "$bin/" ./cmd/genload ./cmd/summarize ./cmd/llmsim)

work=$(mktemp -d)
sim_pid=
cleanup() {
	[ -z "$sim_pid" ] || kill "$sim_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

"$bin/llmsim" --addr 127.0.0.1:0 --ttft 1ms --itl 1ms --quiet 2>"$work/sim.err" &
sim_pid=$!
url=
for _ in $(seq 100); do
	url=$(grep -o 'http://[^ ]*' "$work/sim.err" | head -n 1 || true)
	[ -n "$url" ] && break
	sleep 0.05
done
[ -n "$url" ] || { echo "llmsim did not start" >&2; exit 1; }

# column NAME: the index of NAME in a CSV header line on stdin.
column() {
	tr ',' '\n' | grep -nx "$1" | cut -d: -f1
}

echo "target_req_per_s,sent,achieved_req_per_s,lag_p50_ms,lag_p99_ms,failed"
printf '%-10s %8s %10s %12s %12s %7s\n' target sent achieved "lag p50 ms" "lag p99 ms" failed >&2
for rate in "${rates[@]}"; do
	"$bin/genload" --url "$url" --request-rate "$rate" --arrival constant --duration "$duration" \
		--max-tokens 2 --ignore-eos --quiet >"$work/run.jsonl"
	"$bin/summarize" --format csv "$work/run.jsonl" >"$work/run.csv"
	header=$(head -n 1 "$work/run.csv")
	row=$(sed -n 2p "$work/run.csv")
	get() { echo "$row" | cut -d, -f"$(echo "$header" | column "$1")"; }
	sent=$(get requests)
	achieved=$(get req_per_s)
	p50=$(get queue_p50_ms)
	p99=$(get queue_p99_ms)
	failed=$(get failed)
	echo "$rate,$sent,$achieved,$p50,$p99,$failed"
	printf '%-10s %8s %10s %12s %12s %7s\n' "$rate" "$sent" "$achieved" "$p50" "$p99" "$failed" >&2
done
