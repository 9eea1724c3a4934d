#!/usr/bin/env bash
# run_benchmarks.sh: servebench's standard suite.
#
#   probe (waits for readiness)  ->  latency test (serial)
#                                ->  throughput test (concurrent)
#                                ->  summarize: report on stdout, one CSV row per
#                                    test appended to benchmarks.csv, a timestamped
#                                    block appended to benchmark_results.log, the
#                                    raw JSON lines kept under raw/.
#
# With no --url (or with --sim) it starts llmsim on a free loopback port and
# stops it on exit, Ctrl-C included. Run with --help for the options.
#
# Exit codes: 0 all good; 1 internal error (build, summarize); 2 usage;
# 3 server not ready (probe failed); 4 a test failed (genload error or any
# failed request); 5 another run holds the results folder's lock;
# 130/143 interrupted.
set -euo pipefail

readonly EXIT_USAGE=2 EXIT_NOT_READY=3 EXIT_RUN_FAILED=4 EXIT_LOCKED=5

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

url=${SERVEBENCH_URL:-}
model=${SERVEBENCH_MODEL:-}
results=${RESULTS_DIR:-./results}
latency_requests=${LATENCY_REQUESTS:-20}
throughput_requests=${THROUGHPUT_REQUESTS:-25}
concurrency=${CONCURRENCY:-5}
timeout=${TIMEOUT:-30s}
max_tokens=${MAX_TOKENS:-64}
endpoint=${ENDPOINT:-completions}
wait_for=${PROBE_WAIT:-2m}
lock_wait=${LOCK_WAIT:-0}
sim_flags=${SIM_FLAGS:---ttft 20ms --itl 5ms}
bin=${SERVEBENCH_BIN:-$root/bin}
use_sim=0

usage() {
	cat <<EOF
usage: run_benchmarks.sh [options]

  --url URL                server to test (env SERVEBENCH_URL); without it, --sim
  --sim                    start llmsim on a free port and test it (env SIM_FLAGS: "$sim_flags")
  --model M                model (env SERVEBENCH_MODEL; default: the first one served)
  --endpoint E             completions or chat (env ENDPOINT; default $endpoint)
  --results DIR            results folder (env RESULTS_DIR; default $results)
  --latency-requests N     serial requests of the latency test (env LATENCY_REQUESTS; default $latency_requests)
  --throughput-requests N  requests of the throughput test (env THROUGHPUT_REQUESTS; default $throughput_requests)
  --concurrency C          in flight during the throughput test (env CONCURRENCY; default $concurrency)
  --timeout D              per request (env TIMEOUT; default $timeout)
  --max-tokens N           per request, with ignore_eos (env MAX_TOKENS; default $max_tokens)
  --wait D                 how long probe waits for readiness (env PROBE_WAIT; default $wait_for)
  --lock-wait SECONDS      wait this long for another run to finish (env LOCK_WAIT; default $lock_wait)

Exit codes: 0 ok, 1 internal error, 2 usage, 3 server not ready, 4 a test failed,
5 another run holds the lock, 130/143 interrupted.
EOF
}

die_usage() {
	printf 'run_benchmarks.sh: %s (see --help)\n' "$1" >&2
	exit "$EXIT_USAGE"
}

need_value() {
	[ "$#" -ge 2 ] || die_usage "$1 needs a value"
}

while [ "$#" -gt 0 ]; do
	case "$1" in
	--url) need_value "$@"; url=$2; shift 2 ;;
	--sim) use_sim=1; shift ;;
	--model) need_value "$@"; model=$2; shift 2 ;;
	--endpoint) need_value "$@"; endpoint=$2; shift 2 ;;
	--results) need_value "$@"; results=$2; shift 2 ;;
	--latency-requests) need_value "$@"; latency_requests=$2; shift 2 ;;
	--throughput-requests) need_value "$@"; throughput_requests=$2; shift 2 ;;
	--concurrency) need_value "$@"; concurrency=$2; shift 2 ;;
	--timeout) need_value "$@"; timeout=$2; shift 2 ;;
	--max-tokens) need_value "$@"; max_tokens=$2; shift 2 ;;
	--wait) need_value "$@"; wait_for=$2; shift 2 ;;
	--lock-wait) need_value "$@"; lock_wait=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) die_usage "unknown option: $1" ;;
	esac
done

for n in "$latency_requests" "$throughput_requests" "$concurrency" "$max_tokens" "$lock_wait"; do
	case "$n" in '' | *[!0-9]*) die_usage "not a whole number: '$n'" ;; esac
done
if [ -z "$url" ]; then
	use_sim=1
elif [ "$use_sim" = 1 ]; then
	die_usage "give --url or --sim, not both"
fi

# log writes a timestamped line to stderr, for people and cron mail.
log() {
	printf '[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

# Build the binaries when they are missing: no separate install step.
if [ ! -x "$bin/genload" ] || [ ! -x "$bin/summarize" ] || [ ! -x "$bin/probe" ] || [ ! -x "$bin/llmsim" ]; then
	log "building the binaries into $bin"
	(cd "$root" && go build -o "$bin/" ./cmd/probe ./cmd/genload ./cmd/summarize ./cmd/llmsim) || exit 1
fi

mkdir -p "$results/raw"
csv=$results/benchmarks.csv
logfile=$results/benchmark_results.log

# One run at a time per results folder: two overlapping cron runs must not
# interleave their CSV rows or log blocks. The lock is released when the
# script exits, however it exits.
exec 9>>"$results/.lock"
if ! flock -w "$lock_wait" 9; then
	log "another run_benchmarks.sh holds $results/.lock; not starting (use --lock-wait SECONDS to wait)"
	exit "$EXIT_LOCKED"
fi

sim_pid=
work=$(mktemp -d)
cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

if [ "$use_sim" = 1 ]; then
	# shellcheck disable=SC2086 # SIM_FLAGS is a list of flags, split on purpose
	"$bin/llmsim" --addr 127.0.0.1:0 $sim_flags 2>"$work/llmsim.err" 9>&- &
	sim_pid=$!
	for _ in $(seq 100); do
		url=$(grep -o 'http://[^ ]*' "$work/llmsim.err" | head -n 1 || true)
		[ -n "$url" ] && break
		kill -0 "$sim_pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$url" ]; then
		log "llmsim did not start: $(cat "$work/llmsim.err")"
		exit 1
	fi
	log "started llmsim at $url ($sim_flags)"
fi

log "probing $url (waiting up to $wait_for)"
probe_args=(--url "$url" --wait "$wait_for" --smoke --endpoint "$endpoint")
[ -n "$model" ] && probe_args+=(--model "$model")
if ! "$bin/probe" "${probe_args[@]}"; then
	log "server not ready: no tests run"
	exit "$EXIT_NOT_READY"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)-$$
common=(--url "$url" --endpoint "$endpoint" --timeout "$timeout" --max-tokens "$max_tokens" --ignore-eos --quiet)
[ -n "$model" ] && common+=(--model "$model")
failed=0

# run_test LABEL GENLOAD-FLAGS...: one genload run, its lines kept in raw/.
run_test() {
	local label=$1
	shift
	local raw="$results/raw/$stamp-$label.jsonl"
	log "$label test: $*"
	local rc=0
	"$bin/genload" "${common[@]}" --label "$label" --run-id "$stamp-$label" "$@" >"$raw" || rc=$?
	if [ "$rc" -ge 128 ]; then
		exit "$rc"
	fi
	local bad
	bad=$(grep -c '"ok":false' "$raw" || true)
	if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
		log "$label test FAILED: genload exit $rc, $bad failed requests (see $raw)"
		failed=1
	fi
	raws+=("$raw")
}

raws=()
run_test latency --concurrency 1 --requests "$latency_requests" --warmup 1
run_test throughput --concurrency "$concurrency" --requests "$throughput_requests" --warmup "$concurrency"

log "summarizing into $csv and $logfile"
"$bin/summarize" --csv "$csv" --log "$logfile" "${raws[@]}" || exit 1

if [ "$failed" -ne 0 ]; then
	log "done, with failures"
	exit "$EXIT_RUN_FAILED"
fi
log "done"
