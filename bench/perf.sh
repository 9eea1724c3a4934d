#!/usr/bin/env bash
# perf.sh: what genload costs per request, next to vegeta and hey.
#
# Builds bin/, installs the peers (once, into a cache folder: they come from
# the Go module proxy like any Go module), starts llmsim with zero delays and
# runs each generator in turn against it, closed loop at the same
# concurrency for the same time, alternating the order (A B C, C B A, ...)
# so that drift cancels. For each tool: requests/s, CPU per request from the
# rusage of the generator process alone, peak RSS, the server's CPU per
# request, and genload's CPU and rate divided by each peer's in the same
# rounds (medians). genload's streaming run adds CPU per received token.
# Output: a table on stderr and CSV on stdout. docs/perf.md explains it.
#
#   bench/perf.sh [perf peers flags]        e.g. --c 16 --duration 4s --rounds 5
#   SERVEBENCH_PERF_ROUNDS=3 SERVEBENCH_PERF_DURATION=2s bench/perf.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${SERVEBENCH_BIN:-$root/bin}
peers=${SERVEBENCH_PEERS:-${XDG_CACHE_HOME:-$HOME/.cache}/servebench/peers}
vegeta_version=v12.13.0
hey_version=v0.1.5

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$bin/" ./cmd/genload ./cmd/summarize ./cmd/llmsim && go build -o "$work/" ./bench/perf)

# install NAME MODULE VERSION: go install into a folder of its own per
# version, so that a cached older build is never mistaken for this one.
install() {
	local dir=$peers/$1-$3
	if [ ! -x "$dir/$1" ]; then
		echo "perf: installing $2@$3 into $dir" >&2
		mkdir -p "$dir"
		(cd "$work" && GOBIN=$dir GOFLAGS='' go install "$2@$3")
	fi
	ln -sf "$dir/$1" "$work/$1"
}
install vegeta github.com/tsenart/vegeta/v12 "$vegeta_version"
install hey github.com/rakyll/hey "$hey_version"

"$work/perf" peers --bin "$bin" --peers "$work" \
	${SERVEBENCH_PERF_ROUNDS:+--rounds "$SERVEBENCH_PERF_ROUNDS"} ${SERVEBENCH_PERF_DURATION:+--duration "$SERVEBENCH_PERF_DURATION"} ${SERVEBENCH_PERF_CONCURRENCY:+--c "$SERVEBENCH_PERF_CONCURRENCY"} "$@"
