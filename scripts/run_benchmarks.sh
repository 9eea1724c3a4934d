#!/usr/bin/env bash
# run_benchmarks.sh: servebench's standard suite.
#
#   probe (waits for readiness)  ->  latency test (serial)
#                                ->  throughput test (concurrent)
#                                ->  summarize: report on stdout, one CSV row per
#                                    test appended to benchmarks.csv, a timestamped
#                                    block appended to benchmark_results.log, the
#                                    raw JSON lines kept under raw/ (the server's
#                                    /metrics samples under metrics/), a picture
#                                    of the run under plots/, a page to share
#                                    (self-contained HTML) under reports/.
#                                ->  with --baseline: summarize compares the run
#                                    with the baseline's runs and appends what
#                                    regressed to benchmark_results.log.
#
# With no --url (or with --sim) it starts llmsim on a free loopback port and
# stops it on exit, Ctrl-C included. Run with --help for the options.
#
# --cron is for crontab: no colour, no report on stdout (the log file has
# it), only the timestamped progress lines and problems on stderr, and the
# raw files and plots pruned to the newest --keep-raw. Files in the results
# folder are only ever appended to, added or (past --keep-raw) deleted,
# never rewritten; a lock keeps two runs from overlapping. For example
# (docs/compare.md explains it):
#
#   */30 * * * * cd /srv/servebench && scripts/run_benchmarks.sh --cron --url http://gpu1:8000 --baseline results/baseline.jsonl >>results/cron.log 2>&1
#
# Exit codes are servebench's one table (docs/exit-codes.md): 0 all good;
# 1 internal error (build, summarize); 2 usage; 3-7 the server is not ready,
# probe's own code passed on (3 unreachable, 4 not ready, 5 model not
# served, 6 key rejected, 7 smoke completion failed); 10 a regression
# against --baseline; 11 a test failed (genload error or any failed
# request; wins over 10); 12 another run holds the results folder's lock;
# 130/143 interrupted.
#
# Every environment variable it reads is prefixed SERVEBENCH_, so that
# cron's or CI's own TIMEOUT or CONCURRENCY cannot leak into a run.
set -euo pipefail

# The codes of the one table this script uses (cmdline's exitcode_test.go
# checks them against the table).
readonly EXIT_FAILURE=1 EXIT_USAGE=2 EXIT_REGRESSION=10 EXIT_TEST_FAILED=11 EXIT_LOCKED=12

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

url=${SERVEBENCH_URL:-}
model=${SERVEBENCH_MODEL:-}
results=${SERVEBENCH_RESULTS_DIR:-./results}
latency_requests=${SERVEBENCH_LATENCY_REQUESTS:-20}
throughput_requests=${SERVEBENCH_THROUGHPUT_REQUESTS:-25}
concurrency=${SERVEBENCH_CONCURRENCY:-5}
timeout=${SERVEBENCH_TIMEOUT:-30s}
max_tokens=${SERVEBENCH_MAX_TOKENS:-64}
endpoint=${SERVEBENCH_ENDPOINT:-completions}
wait_for=${SERVEBENCH_PROBE_WAIT:-2m}
lock_wait=${SERVEBENCH_LOCK_WAIT:-0}
sim_flags=${SERVEBENCH_SIM_FLAGS:---ttft 20ms --itl 5ms}
bin=${SERVEBENCH_BIN:-$root/bin}
baseline=${SERVEBENCH_BASELINE:-}
# The default gates: medians and errors, which one run of the suite can test
# per request. A p99 gate needs a few hundred requests a test to be testable.
fail_on=${SERVEBENCH_FAIL_ON:-ttft_median_ms>+10%,tpot_median_ms>+10%,latency_median_ms>+10%,error_rate>+0.05}
keep_raw=${SERVEBENCH_KEEP_RAW:-}
sweep_concurrency=${SERVEBENCH_SWEEP_CONCURRENCY:-}
sweep_rates=${SERVEBENCH_SWEEP_RATES:-}
sweep_requests=${SERVEBENCH_SWEEP_REQUESTS:-20}
capacity_slo=${SERVEBENCH_CAPACITY_SLO:-}
capacity_search=${SERVEBENCH_CAPACITY_SEARCH:-concurrency}
capacity_min_goodput=${SERVEBENCH_CAPACITY_MIN_GOODPUT:-0.95}
capacity_requests=${SERVEBENCH_CAPACITY_REQUESTS:-60}
use_sim=0
cron=0

usage() {
	cat <<EOF
usage: run_benchmarks.sh [options]

  --url URL                server to test (env SERVEBENCH_URL); without it, --sim
  --sim                    start llmsim on a free port and test it (env SERVEBENCH_SIM_FLAGS: "$sim_flags")
  --model M                model (env SERVEBENCH_MODEL; default: the first one served)
  --endpoint E             completions or chat (env SERVEBENCH_ENDPOINT; default $endpoint)
  --results DIR            results folder (env SERVEBENCH_RESULTS_DIR; default $results)
  --latency-requests N     serial requests of the latency test (env SERVEBENCH_LATENCY_REQUESTS; default $latency_requests)
  --sweep-concurrency LIST optional sweep stage: closed loop at each concurrency, e.g. 1,2,4,8
                           (env SERVEBENCH_SWEEP_CONCURRENCY)
  --sweep-rates LIST       optional sweep stage: open loop (Poisson) at each rate in req/s, e.g. 1,2,4,8
                           (env SERVEBENCH_SWEEP_RATES)
  --sweep-requests N       measured requests per sweep point (env SERVEBENCH_SWEEP_REQUESTS; default $sweep_requests)
  --capacity-slo SLO       optional capacity stage: genload --search finds the highest load meeting SLO
                           (summarize's --slo keys, e.g. ttft=500,tpot=50; env SERVEBENCH_CAPACITY_SLO)
  --capacity-search S      concurrency or rate (env SERVEBENCH_CAPACITY_SEARCH; default $capacity_search)
  --capacity-min-goodput R share of requests that must meet the SLO (env SERVEBENCH_CAPACITY_MIN_GOODPUT; default $capacity_min_goodput)
  --capacity-requests N    measured requests per probed load (env SERVEBENCH_CAPACITY_REQUESTS; default $capacity_requests)
  --throughput-requests N  requests of the throughput test (env SERVEBENCH_THROUGHPUT_REQUESTS; default $throughput_requests)
  --concurrency C          in flight during the throughput test (env SERVEBENCH_CONCURRENCY; default $concurrency)
  --timeout D              per request (env SERVEBENCH_TIMEOUT; default $timeout)
  --max-tokens N           per request, with ignore_eos (env SERVEBENCH_MAX_TOKENS; default $max_tokens)
  --wait D                 how long probe waits for readiness (env SERVEBENCH_PROBE_WAIT; default $wait_for)
  --lock-wait SECONDS      wait this long for another run to finish (env SERVEBENCH_LOCK_WAIT; default $lock_wait)
  --baseline FILE          compare the run with the runs in FILE (JSON lines, such as earlier
                           raw files concatenated); exit 10 on a regression (env SERVEBENCH_BASELINE)
  --fail-on LIMITS         what counts as a regression (env SERVEBENCH_FAIL_ON; default
                           '$fail_on')
  --cron                   for crontab: no colour, no report on stdout, old raw files pruned
  --keep-raw N             keep the newest N raw files, plots and HTML reports, delete older; 0 keeps
                           all (env SERVEBENCH_KEEP_RAW; default 0, with --cron 200)

Environment: every variable read is prefixed SERVEBENCH_ (as listed above).

Exit codes (servebench's one table, docs/exit-codes.md): 0 ok, 1 internal error,
2 usage, 3-7 server not ready (probe's code: 3 unreachable, 4 not ready,
5 model not served, 6 API key rejected, 7 smoke completion failed),
10 a regression against --baseline, 11 a test failed (wins over 10),
12 another run holds the lock, 130/143 interrupted.
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
	--baseline) need_value "$@"; baseline=$2; shift 2 ;;
	--fail-on) need_value "$@"; fail_on=$2; shift 2 ;;
	--cron) cron=1; shift ;;
	--keep-raw) need_value "$@"; keep_raw=$2; shift 2 ;;
	--sweep-concurrency) need_value "$@"; sweep_concurrency=$2; shift 2 ;;
	--sweep-rates) need_value "$@"; sweep_rates=$2; shift 2 ;;
	--sweep-requests) need_value "$@"; sweep_requests=$2; shift 2 ;;
	--capacity-slo) need_value "$@"; capacity_slo=$2; shift 2 ;;
	--capacity-search) need_value "$@"; capacity_search=$2; shift 2 ;;
	--capacity-min-goodput) need_value "$@"; capacity_min_goodput=$2; shift 2 ;;
	--capacity-requests) need_value "$@"; capacity_requests=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) die_usage "unknown option: $1" ;;
	esac
done

if [ -z "$keep_raw" ]; then
	keep_raw=0
	if [ "$cron" = 1 ]; then keep_raw=200; fi
fi
for n in "$latency_requests" "$throughput_requests" "$concurrency" "$max_tokens" "$lock_wait" "$keep_raw" "$sweep_requests" "$capacity_requests"; do
	case "$n" in '' | *[!0-9]*) die_usage "not a whole number: '$n'" ;; esac
done
case "$capacity_search" in
concurrency | rate) ;;
*) die_usage "--capacity-search $capacity_search: want concurrency or rate" ;;
esac
if [ -z "$url" ]; then
	use_sim=1
elif [ "$use_sim" = 1 ]; then
	die_usage "give --url or --sim, not both"
fi
if [ -n "$url" ]; then
	case "$url" in
	http://?* | https://?*) ;;
	*://*) die_usage "--url $url: want http:// or https://" ;;
	*) die_usage "--url $url: want http:// or https:// (did you mean http://$url?)" ;;
	esac
fi
if [ -n "$baseline" ] && [ ! -r "$baseline" ]; then
	die_usage "--baseline $baseline: no such readable file"
fi
if [ -n "$baseline" ] && [ ! -s "$baseline" ]; then
	die_usage "--baseline $baseline is empty: nothing to compare with (give the raw records of earlier runs)"
fi
if [ "$cron" = 1 ]; then
	export NO_COLOR=1 # genload runs --quiet in any case: no progress line
fi

# log writes a timestamped line to stderr, for people and cron mail.
log() {
	printf '[%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

if ! mkdir_err=$(mkdir -p "$results/raw" "$results/metrics" "$results/plots" "$results/reports" 2>&1); then
	printf 'run_benchmarks.sh: cannot create the results folder %s: %s\n' "$results" "${mkdir_err%%$'\n'*}" >&2
	exit "$EXIT_FAILURE"
fi
csv=$results/benchmarks.csv
logfile=$results/benchmark_results.log

# One run at a time per results folder: two overlapping cron runs must not
# interleave their CSV rows or log blocks, nor build the binaries at once.
# The lock is released when the script exits, however it exits.
exec 9>>"$results/.lock"
if ! flock -n 9; then
	if [ "$lock_wait" -gt 0 ]; then
		log "another run_benchmarks.sh holds $results/.lock; waiting up to ${lock_wait}s for it to finish"
	fi
	if ! flock -w "$lock_wait" 9; then
		log "another run_benchmarks.sh holds $results/.lock; not starting (use --lock-wait SECONDS to wait)"
		exit "$EXIT_LOCKED"
	fi
fi

# Build the binaries when they are missing: no separate install step.
if [ ! -x "$bin/genload" ] || [ ! -x "$bin/summarize" ] || [ ! -x "$bin/probe" ] || [ ! -x "$bin/llmsim" ]; then
	log "building the binaries into $bin"
	(cd "$root" && go build -o "$bin/" ./cmd/probe ./cmd/genload ./cmd/summarize ./cmd/llmsim) || exit "$EXIT_FAILURE"
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
	# shellcheck disable=SC2086 # SERVEBENCH_SIM_FLAGS is a list of flags, split on purpose
	"$bin/llmsim" --addr 127.0.0.1:0 $sim_flags 2>"$work/llmsim.err" 9>&- &
	sim_pid=$!
	for _ in $(seq 100); do
		url=$(grep -o 'http://[^ ]*' "$work/llmsim.err" 2>/dev/null | head -n 1 || true)
		[ -n "$url" ] && break
		kill -0 "$sim_pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$url" ]; then
		log "llmsim did not start: $(cat "$work/llmsim.err")"
		exit "$EXIT_FAILURE"
	fi
	log "started llmsim at $url ($sim_flags)"
fi

log "probing $url (waiting up to $wait_for)"
probe_args=(--url "$url" --wait "$wait_for" --smoke --endpoint "$endpoint")
[ -n "$model" ] && probe_args+=(--model "$model")
rc=0
"$bin/probe" "${probe_args[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then
	log "server not ready: no tests run (probe exit $rc)"
	exit "$rc" # probe's code of the one table: 3-7 (2 or 1 if it failed to run)
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)-$$
common=(--url "$url" --endpoint "$endpoint" --timeout "$timeout" --max-tokens "$max_tokens" --ignore-eos --quiet)
[ -n "$model" ] && common+=(--model "$model")
failed=0

# run_test LABEL GENLOAD-FLAGS...: one genload run, its lines kept in raw/
# and the server's own metrics, sampled during it, in metrics/ under the
# same name (a server without /metrics: a warning, an empty file).
# A failed request fails the test, except in the capacity stage, whose
# search goes past the server's capacity on purpose: there only genload's
# exit code does (the stop rule's 14, for one).
run_test() {
	local label=$1
	shift
	local raw="$results/raw/$stamp-$label.jsonl"
	local metrics="$results/metrics/$stamp-$label.jsonl"
	log "$label test: $*"
	local rc=0
	"$bin/genload" "${common[@]}" --label "$label" --run-id "$stamp-$label" --server-metrics "$metrics" "$@" >"$raw" || rc=$?
	if [ "$rc" -ge 128 ]; then
		exit "$rc"
	fi
	local bad
	bad=$(grep -c '"ok":false' "$raw" || true)
	if [ "$label" = capacity ]; then bad=0; fi
	if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
		log "$label test FAILED: genload exit $rc, $bad failed requests (see $raw)"
		failed=1
	fi
	raws+=("$raw")
	metrics_files+=("$metrics")
}

raws=()
metrics_files=()
run_test latency --concurrency 1 --requests "$latency_requests" --warmup 1
run_test throughput --concurrency "$concurrency" --requests "$throughput_requests" --warmup "$concurrency"
# The optional sweep stage: one load point after another in one genload run,
# so summarize gives one CSV row per point and the plot the
# throughput-latency curve. genload checks the lists.
if [ -n "$sweep_concurrency" ]; then
	run_test sweep-concurrency --concurrency "$sweep_concurrency" --requests "$sweep_requests" --warmup 1
fi
if [ -n "$sweep_rates" ]; then
	run_test sweep-rate --request-rate "$sweep_rates" --requests "$sweep_requests" --warmup 1
fi
# The optional capacity stage: genload searches for the highest load that
# meets the SLO (docs/genload.md#capacity-search); it says the answer on
# stderr, and summarize adds a capacity row to the CSV.
if [ -n "$capacity_slo" ]; then
	run_test capacity --search "$capacity_search" --slo "$capacity_slo" --min-goodput-ratio "$capacity_min_goodput" \
		--requests "$capacity_requests" --warmup 1
fi

# report runs a command whose stdout is a report: shown, or under --cron
# dropped, since the log file holds it. (Not ">/dev/stdout": reopening a
# file that stdout appends to would truncate it.)
report() {
	if [ "$cron" = 1 ]; then "$@" >/dev/null; else "$@"; fi
}

plot=$results/plots/$stamp.png
# The HTML report: of the runs, or with --baseline of the comparison (which
# shows both sides' runs too), written once either way.
html=$results/reports/$stamp.html
html_runs=(--html "$html")
if [ -n "$baseline" ]; then html_runs=(); fi
# A CSV written by an older summarize has other columns, and summarize
# refuses to mix them: start a new file and keep the old one beside it.
# (A capacity stage adds columns too: its runs' header is not the others'.)
if [ -s "$csv" ]; then
	header=$("$bin/summarize" --format csv "${raws[@]}" 2>/dev/null | head -n 1 || true)
	if [ -n "$header" ] && [ "$(head -n 1 "$csv" | tr -d '\r')" != "$header" ]; then
		old="${csv%.csv}.$stamp.old.csv"
		mv "$csv" "$old"
		log "$csv had other columns (an older version wrote it): moved to $old, starting a new one"
	fi
fi
log "summarizing into $csv, $logfile, $plot and $html"
# stdout gets the answer (--brief: one table row per load point); the log
# file keeps the full blocks.
report "$bin/summarize" --brief --csv "$csv" --log "$logfile" --plot "$plot" "${html_runs[@]}" "${raws[@]}" "${metrics_files[@]}" || exit "$EXIT_FAILURE"

regressed=0
if [ -n "$baseline" ]; then
	log "comparing with the baseline $baseline (--fail-on '$fail_on')"
	rc=0
	report "$bin/summarize" --baseline "$baseline" --fail-on "$fail_on" --log "$logfile" --html "$html" "${raws[@]}" "${metrics_files[@]}" || rc=$?
	case "$rc" in
	0) log "no regression against $baseline" ;;
	"$EXIT_REGRESSION")
		log "REGRESSION against $baseline: see the lines above and the last block of $logfile"
		regressed=1
		;;
	*)
		log "comparing with $baseline failed (summarize exit $rc)"
		exit "$EXIT_FAILURE"
		;;
	esac
fi

# prune DIR PATTERN keeps the newest $keep_raw files matching PATTERN in
# DIR. Names start with the run's UTC time stamp: name order is time order.
prune() {
	[ "$keep_raw" -gt 0 ] || return 0
	local old
	old=$(find "$1" -maxdepth 1 -type f -name "$2" | LC_ALL=C sort | head -n "-$keep_raw")
	[ -n "$old" ] || return 0
	log "deleting $(printf '%s\n' "$old" | wc -l) old files from $1 (--keep-raw $keep_raw)"
	printf '%s\n' "$old" | while IFS= read -r f; do rm -f -- "$f"; done
}
prune "$results/raw" '[0-9]*T[0-9]*Z-*.jsonl'
prune "$results/metrics" '[0-9]*T[0-9]*Z-*.jsonl'
prune "$results/plots" '[0-9]*T[0-9]*Z-*.png'
prune "$results/reports" '[0-9]*T[0-9]*Z-*.html'

# Where everything went, then the verdict in one line: the last lines are
# what a person (or cron mail) reads first.
log "results: report $logfile (this run's blocks appended)"
log "results: CSV $csv (one row per load point appended)"
log "results: records ${raws[*]}"
log "results: server metrics ${metrics_files[*]}"
if [ -f "$plot" ]; then log "results: plot $plot"; fi
if [ -f "$html" ]; then log "results: HTML report $html (one file to share)"; fi
tests="${#raws[@]} tests"
against=""
if [ -n "$baseline" ]; then against=" against $baseline"; fi
if [ "$failed" -ne 0 ]; then
	log "verdict: FAILED: $tests, some failed (see the lines above)$([ "$regressed" -ne 0 ] && echo ", and a regression$against")"
	exit "$EXIT_TEST_FAILED"
fi
if [ "$regressed" -ne 0 ]; then
	log "verdict: REGRESSION: $tests passed, but slower or worse$against (see the last block of $logfile)"
	exit "$EXIT_REGRESSION"
fi
if [ -n "$baseline" ]; then
	log "verdict: OK: $tests passed, no regression$against"
else
	log "verdict: OK: $tests passed"
fi
