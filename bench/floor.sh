#!/usr/bin/env bash
# floor.sh: what genload spends per streamed token, beside the least any
# client can spend on the same streams.
#
# Builds bin/, the C floor reader (bench/floor/floor.c: level-triggered
# epoll, one read per ready socket, nothing parsed but each answer's end)
# and the Go floor (a goroutine per connection doing plain reads), starts
# llmsim pinned to CPU 0 for each number of streams and runs the three
# clients in turn pinned to CPU 1, closed loop, WAVES answers a stream.
# Table on stderr, CSV on stdout; docs/perf.md explains it.
#
#   bench/floor.sh [perf floor flags]      e.g. --streams 256,1024 --waves 6
#   SERVEBENCH_FLOOR_STREAMS=256,1024 SERVEBENCH_FLOOR_WAVES=6 bench/floor.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${SERVEBENCH_BIN:-$root/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$bin/" ./cmd/genload ./cmd/llmsim && go build -o "$work/" ./bench/perf)

floor=()
if command -v cc >/dev/null 2>&1; then
	cc -O2 -o "$work/floor" "$root/bench/floor/floor.c"
	floor=(--floor "$work/floor")
else
	echo "floor: no C compiler (apt-get install gcc): the C floor rows are left out" >&2
fi
if [ "$(nproc)" -lt 2 ]; then
	echo "floor: one CPU: the server and the client share it; figures are not the floor's" >&2
fi
"$work/perf" floor --bin "$bin" "${floor[@]}" \
	${SERVEBENCH_FLOOR_STREAMS:+--streams "$SERVEBENCH_FLOOR_STREAMS"} ${SERVEBENCH_FLOOR_WAVES:+--waves "$SERVEBENCH_FLOOR_WAVES"} "$@"
