#!/usr/bin/env bash
# real_engine.sh: a real inference engine on loopback, for tests where no GPU
# and no model download are possible. Ollama is built from source (the Go
# module proxy) with its CPU backend, and serves a tiny random-weight model
# written here (realtest/tinymodel) that always generates max_tokens tokens.
#
#   scripts/real_engine.sh                 print the base URL on stdout, serve until Ctrl-C
#   scripts/real_engine.sh -- CMD ARGS...  run CMD with SERVEBENCH_URL, SERVEBENCH_MODEL
#                                          and SERVEBENCH_REAL_URL set, then stop the
#                                          server; exit with CMD's exit code
#   scripts/real_engine.sh --build-only    build (or find) Ollama and the model, exit
#
# The first run installs what the build needs (Debian packages
# nlohmann-json3-dev and libstb-dev, when their headers are missing), writes a
# stub miniaudio.h (module zips drop Ollama's vendored headers; audio is never
# used for text), and builds Ollama with go install: a few minutes and about a
# gigabyte of Go caches. The binary is kept in the cache folder and reused by
# every later run, which then starts in a few seconds.
#
# The server is private: its own port, models folder and HOME (so nothing is
# written to ~/.ollama), OLLAMA_NUM_PARALLEL=4, OLLAMA_KEEP_ALIVE=-1,
# OLLAMA_NO_CLOUD=1. It is stopped on exit, Ctrl-C included.
#
# Exit codes (servebench's one table, docs/exit-codes.md): 0 ok (or CMD's
# code); 1 build or start-up failure; 2 usage; 3-7 the server did not
# become ready (probe's code); 130/143 interrupted. Every variable it reads
# is prefixed SERVEBENCH_.
set -euo pipefail

readonly EXIT_USAGE=2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

version=${SERVEBENCH_OLLAMA_VERSION:-0.17.4}
cache=${SERVEBENCH_OLLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/servebench/ollama}
parallel=${SERVEBENCH_OLLAMA_NUM_PARALLEL:-4}
wait_for=${SERVEBENCH_PROBE_WAIT:-2m}
model_name=tiny
bin=${SERVEBENCH_BIN:-$root/bin}
build_only=0
keep_work=0
cmd=()

usage() {
	cat <<EOF
usage: real_engine.sh [options] [-- COMMAND [ARGS...]]

  --version V    Ollama version to build (env SERVEBENCH_OLLAMA_VERSION; default $version)
  --cache DIR    where the built binary is kept and reused
                 (env SERVEBENCH_OLLAMA_CACHE; default $cache)
  --parallel N   OLLAMA_NUM_PARALLEL: requests decoded together
                 (env SERVEBENCH_OLLAMA_NUM_PARALLEL; default $parallel)
  --wait D       how long probe waits for readiness (env SERVEBENCH_PROBE_WAIT; default $wait_for)
  --build-only   build Ollama and check the model generator, then exit
  --keep         keep the work folder (server log, model) after exit
  -h, --help     this text

With a COMMAND: runs it with SERVEBENCH_URL (the base URL), SERVEBENCH_MODEL
($model_name:latest), SERVEBENCH_REAL_URL (the same URL, which enables the
e2e/real tests) and SERVEBENCH_REAL_EOS_FREE=1 (the model never stops early),
then stops the server and exits with COMMAND's exit code.
Without one: prints the base URL on stdout and serves until interrupted.

Exit codes: 0 ok (or COMMAND's code), 1 build or start-up failure, 2 usage,
3 the server did not become ready, 130/143 interrupted.
EOF
}

die_usage() {
	printf 'real_engine.sh: %s (see --help)\n' "$1" >&2
	exit "$EXIT_USAGE"
}

need_value() {
	[ "$#" -ge 2 ] || die_usage "$1 needs a value"
}

while [ "$#" -gt 0 ]; do
	case "$1" in
	--version) need_value "$@"; version=${2#v}; shift 2 ;;
	--cache) need_value "$@"; cache=$2; shift 2 ;;
	--parallel) need_value "$@"; parallel=$2; shift 2 ;;
	--wait) need_value "$@"; wait_for=$2; shift 2 ;;
	--build-only) build_only=1; shift ;;
	--keep) keep_work=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; cmd=("$@"); break ;;
	*) die_usage "unknown option: $1" ;;
	esac
done
case "$parallel" in '' | *[!0-9]* | 0) die_usage "--parallel: not a positive whole number: '$parallel'" ;; esac
case "$version" in '' | *[!0-9.]*) die_usage "--version: not a version number: '$version'" ;; esac

# log writes a timestamped line to stderr.
log() {
	printf '[%s] real_engine: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

# need_headers installs the Debian packages whose headers the build
# includes, when the headers are missing.
need_headers() {
	local missing=()
	[ -f /usr/include/nlohmann/json.hpp ] || missing+=(nlohmann-json3-dev)
	[ -f /usr/include/stb/stb_image.h ] || missing+=(libstb-dev)
	command -v g++ >/dev/null 2>&1 || missing+=(g++)
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		log "the build needs ${missing[*]}: install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]})"
		exit 1
	fi
	log "installing ${missing[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$cache/apt.log" 2>&1; then
		apt-get update >>"$cache/apt.log" 2>&1 || true
		if ! apt-get install -y --no-install-recommends "${missing[@]}" >>"$cache/apt.log" 2>&1; then
			log "apt-get install ${missing[*]} failed; see $cache/apt.log"
			exit 1
		fi
	fi
}

# write_miniaudio_stub writes the one header no Debian package has. Only
# mtmd-helper.cpp includes it, to decode audio for multimodal models; these
# decoder functions always fail, which text models never notice.
write_miniaudio_stub() {
	mkdir -p "$cache/include/miniaudio"
	cat >"$cache/include/miniaudio/miniaudio.h" <<'EOF'
/* A stub of miniaudio.h, written by servebench's scripts/real_engine.sh:
 * Ollama's module zip lacks llama.cpp's vendored copy. Audio decoding always
 * fails; text models never call it. MA_API is defined (static) by the
 * includer. */
#ifndef SERVEBENCH_MINIAUDIO_STUB_H
#define SERVEBENCH_MINIAUDIO_STUB_H
#include <stddef.h>
#include <stdint.h>
typedef int ma_result;
typedef uint32_t ma_uint32;
typedef uint64_t ma_uint64;
typedef enum { ma_format_unknown = 0, ma_format_f32 = 5 } ma_format;
#define MA_SUCCESS 0
#define MA_ERROR (-1)
typedef struct { ma_format format; ma_uint32 channels; ma_uint32 sampleRate; } ma_decoder_config;
typedef struct { int unused; } ma_decoder;
MA_API ma_decoder_config ma_decoder_config_init(ma_format f, ma_uint32 ch, ma_uint32 rate) { ma_decoder_config c; c.format = f; c.channels = ch; c.sampleRate = rate; return c; }
MA_API ma_result ma_decoder_init_memory(const void *d, size_t n, const ma_decoder_config *c, ma_decoder *dec) { (void)d; (void)n; (void)c; (void)dec; return MA_ERROR; }
MA_API ma_result ma_decoder_get_length_in_pcm_frames(ma_decoder *dec, ma_uint64 *n) { (void)dec; *n = 0; return MA_ERROR; }
MA_API ma_result ma_decoder_read_pcm_frames(ma_decoder *dec, void *out, ma_uint64 n, ma_uint64 *read) { (void)dec; (void)out; (void)n; *read = 0; return MA_ERROR; }
MA_API ma_result ma_decoder_uninit(ma_decoder *dec) { (void)dec; return MA_SUCCESS; }
#endif
EOF
}

ollama=$cache/$version/ollama

# build_ollama builds Ollama into the cache unless it is there already. A
# lock keeps two runs from building at once; the binary is moved into place
# only when whole.
build_ollama() {
	mkdir -p "$cache"
	exec 8>>"$cache/.lock"
	if ! flock -n 8; then
		log "another run is building Ollama in $cache; waiting for it"
		flock 8
	fi
	if [ -x "$ollama" ]; then
		log "using Ollama $version from $ollama"
		exec 8>&-
		return 0
	fi
	command -v go >/dev/null 2>&1 || { log "Go is not installed; see README.md"; exit 1; }
	need_headers
	write_miniaudio_stub
	log "building Ollama $version with go install (first run only: a few minutes, ~1 GB of Go caches)"
	local start tmp
	start=$(date +%s)
	tmp="$cache/$version.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if ! (cd "$tmp" &&
		GOBIN="$tmp" CGO_ENABLED=1 GOFLAGS='' CGO_CPPFLAGS="-I$cache/include ${CGO_CPPFLAGS:-}" \
			go install -ldflags "-X github.com/ollama/ollama/version.Version=$version" \
			"github.com/ollama/ollama@v$version" 2>"$cache/build.log"); then
		log "building Ollama failed; the last lines of $cache/build.log:"
		tail -n 20 "$cache/build.log" >&2
		exit 1
	fi
	mkdir -p "$cache/$version"
	mv "$tmp/ollama" "$ollama"
	rm -rf "$tmp"
	log "built Ollama $version in $(($(date +%s) - start)) s: $ollama"
	exec 8>&-
}

build_ollama

# The model generator is in its own module (realtest/), so that Ollama's
# dependencies stay out of the main go.mod. It is built once per cache too.
gen=$cache/$version/tinymodel
if [ ! -x "$gen" ] || [ -n "$(find "$root/realtest" -newer "$gen" -name '*.go' -print -quit)" ]; then
	log "building the model generator (realtest/tinymodel)"
	(cd "$root/realtest" && GOFLAGS='' go build -buildvcs=false -o "$gen" ./tinymodel) || { log "building realtest/tinymodel failed"; exit 1; }
fi
if [ "$build_only" = 1 ]; then
	log "build only: Ollama $version and the model generator are ready in $cache/$version"
	exit 0
fi

if [ ! -x "$bin/probe" ]; then
	log "building the binaries into $bin"
	(cd "$root" && go build -o "$bin/" ./cmd/probe ./cmd/genload ./cmd/summarize ./cmd/llmsim) || exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/servebench-ollama.XXXXXX")
server_pid=
# shellcheck disable=SC2317 # run by the EXIT trap (shellcheck 0.9 misses that when the script ends in exit)
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		log "stopping the server (pid $server_pid)"
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$server_pid" 2>/dev/null; then
			log "the server did not stop in 10 s; killing it"
			kill -KILL "$server_pid" 2>/dev/null || true
		fi
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ "$keep_work" = 1 ]; then
		log "kept the work folder $work (serve.log, tiny.gguf)"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

"$gen" -o "$work/tiny.gguf" || { log "writing the model failed"; exit 1; }
cp "$root/realtest/Modelfile" "$work/Modelfile"
mkdir -p "$work/models" "$work/home"

# Port 0: the kernel picks a free port, and Ollama logs which.
log "starting ollama serve (OLLAMA_NUM_PARALLEL=$parallel; log: $work/serve.log)"
HOME="$work/home" OLLAMA_HOST=127.0.0.1:0 OLLAMA_MODELS="$work/models" \
	OLLAMA_NUM_PARALLEL="$parallel" OLLAMA_NO_CLOUD=1 OLLAMA_KEEP_ALIVE=-1 \
	"$ollama" serve >"$work/serve.log" 2>&1 &
server_pid=$!
addr=
for _ in $(seq 300); do
	addr=$(sed -n 's/.*Listening on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/serve.log" | head -n 1)
	[ -n "$addr" ] && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$addr" ]; then
	log "ollama serve did not start; the last lines of its log:"
	tail -n 20 "$work/serve.log" >&2
	exit 1
fi
url=http://$addr
log "ollama serve is listening at $url"

if ! (cd "$work" && HOME="$work/home" OLLAMA_HOST="$addr" "$ollama" create "$model_name" -f Modelfile >"$work/create.log" 2>&1); then
	log "ollama create failed:"
	tail -n 20 "$work/create.log" >&2
	exit 1
fi
log "created the model $model_name:latest"

# A smoke completion loads the model (0.3 s), so the first test request
# does not pay for it.
rc=0
"$bin/probe" --url "$url" --model "$model_name:latest" --wait "$wait_for" --smoke || rc=$?
if [ "$rc" -ne 0 ]; then
	log "the server is not ready (probe exit $rc); the last lines of its log:"
	tail -n 20 "$work/serve.log" >&2
	exit "$rc"
fi

if [ "${#cmd[@]}" -eq 0 ]; then
	printf '%s\n' "$url"
	log "serving $model_name:latest at $url until interrupted (Ctrl-C); for example:"
	log "  export SERVEBENCH_URL=$url SERVEBENCH_MODEL=$model_name:latest"
	wait "$server_pid" || true
	server_pid=
	log "ollama serve exited; the last lines of its log:"
	tail -n 20 "$work/serve.log" >&2
	exit 1
fi

log "running: ${cmd[*]}"
rc=0
SERVEBENCH_URL=$url SERVEBENCH_MODEL=$model_name:latest SERVEBENCH_REAL_URL=$url SERVEBENCH_REAL_EOS_FREE=1 \
	"${cmd[@]}" || rc=$?
log "command exited with $rc"
exit "$rc"
