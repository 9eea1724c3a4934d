# servebench: two commands do all the set-up on a fresh machine.
#   make bench   runs the standard suite (starts llmsim when no URL is given)
#   make test    runs every test
GO      ?= go
BIN     := bin
TOOLS   := probe genload summarize llmsim
# Extra flags for the suite, e.g. make bench BENCH_FLAGS='--url http://gpu:8000'
BENCH_FLAGS ?=

# How much each fuzz target runs in make fuzz: a count of inputs (Nx), not a
# time: timed fuzzing can end on "context deadline exceeded" when the clock
# runs out mid-input (seen here on FuzzReadShareGPT), a false failure.
FUZZTIME ?= 50000x

.PHONY: all build test test-browser bench clean fuzz lint test-real perf perf-floor perf-scale perf-go
all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -buildvcs=auto -o $(BIN)/ $(addprefix ./cmd/,$(TOOLS))

test: lint
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)
	# The end-to-end tests time real servers to the millisecond: run them
	# alone, after the unit tests, so that nothing else competes for the CPU.
	# TestBrowserReports needs Chromium and skips without it: say so.
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || test -n "$$SERVEBENCH_CHROMIUM" || \
		echo "chromium not installed: the HTML report's browser test (e2e TestBrowserReports) will skip (apt-get install chromium)"
	$(GO) test -count=1 ./e2e

# The HTML report in headless Chromium alone, verbose: the screenshots'
# paths are in its log (make test runs it too).
test-browser:
	$(GO) test -count=1 -v -run TestBrowserReports ./e2e

bench: build
	scripts/run_benchmarks.sh $(if $(SERVEBENCH_URL),--url "$(SERVEBENCH_URL)",--sim) $(BENCH_FLAGS)

clean:
	rm -rf $(BIN)

# shellcheck the scripts when it is installed (.ci/run installs it).
lint:
	@if command -v shellcheck >/dev/null 2>&1; then shellcheck scripts/*.sh bench/*.sh .ci/run && echo "shellcheck: ok"; \
	else echo "shellcheck not installed: scripts not linted (apt-get install shellcheck)"; fi

# Every fuzz target for FUZZTIME each, found by name so new ones are not missed.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
			echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# The end-to-end suite against a real engine: Ollama built from source (cached
# under ~/.cache/servebench/ollama) serving a generated tiny model.
test-real: build
	scripts/real_engine.sh -- $(GO) test -count=1 -v ./e2e/real

# genload against vegeta and hey on a zero-delay llmsim (docs/perf.md);
# make perf ROUNDS=3 DURATION=2s CONCURRENCY=8 overrides the defaults (the
# script reads them as SERVEBENCH_PERF_*).
# Then the streaming floor (bench/floor.sh): genload's CPU per token beside
# the C and Go floor readers on the same pinned streams; make perf
# FLOOR_STREAMS=256 FLOOR_WAVES=4 shortens it, make perf-floor runs it alone.
perf:
	SERVEBENCH_PERF_ROUNDS=$(ROUNDS) SERVEBENCH_PERF_DURATION=$(DURATION) SERVEBENCH_PERF_CONCURRENCY=$(CONCURRENCY) bench/perf.sh
	SERVEBENCH_FLOOR_STREAMS=$(FLOOR_STREAMS) SERVEBENCH_FLOOR_WAVES=$(FLOOR_WAVES) bench/floor.sh

perf-floor:
	SERVEBENCH_FLOOR_STREAMS=$(FLOOR_STREAMS) SERVEBENCH_FLOOR_WAVES=$(FLOOR_WAVES) bench/floor.sh

# One genload holding 5,000 streams; summarize over 1,000,000 records.
perf-scale:
	bench/scale.sh all

# Go benchmarks of the hot paths.
perf-go:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/openai ./internal/record ./bench/perf
