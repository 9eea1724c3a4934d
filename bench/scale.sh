#!/usr/bin/env bash
# scale.sh: servebench at scale on one machine.
#
#   streams     one genload holds 5,000 concurrent streams against llmsim
#               (ttft 100ms, itl 100ms, 50 tokens: each lasts about 5 s, so
#               they overlap); reports genload's peak RSS, the peak number
#               in flight (from the records) and every failure by kind.
#   summarize   summarize over 1,000,000 records made from a real genload
#               run (16 tokens each, 10 run_ids); reports the median wall
#               time and the peak RSS of 3 runs.
#
#   bench/scale.sh [streams|summarize|all] [perf flags]
#   bench/scale.sh streams --streams 2000
#   bench/scale.sh summarize --records 200000
# Output: progress on stderr, one CSV block per scale run on stdout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${SERVEBENCH_BIN:-$root/bin}
what=${1:-all}
[ $# -eq 0 ] || shift

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$bin/" ./cmd/genload ./cmd/summarize ./cmd/llmsim && go build -o "$work/" ./bench/perf)

# Every stream is a connection: one descriptor in genload and one in
# llmsim, plus headroom. Raise the limit as far as allowed.
want=16384
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
	ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
echo "scale: open files limit $(ulimit -n)" >&2

case $what in
streams) "$work/perf" streams --bin "$bin" "$@" ;;
summarize) "$work/perf" summarize --bin "$bin" "$@" ;;
all)
	"$work/perf" streams --bin "$bin"
	"$work/perf" summarize --bin "$bin"
	;;
*)
	echo "usage: bench/scale.sh [streams|summarize|all] [flags]" >&2
	exit 2
	;;
esac
