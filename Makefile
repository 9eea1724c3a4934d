# servebench: two commands do all the set-up on a fresh machine.
#   make bench   runs the standard suite (starts llmsim when no URL is given)
#   make test    runs every test
GO      ?= go
BIN     := bin
TOOLS   := probe genload summarize llmsim
# Extra flags for the suite, e.g. make bench BENCH_FLAGS='--url http://gpu:8000'
BENCH_FLAGS ?=

.PHONY: all build test bench clean vet fmt
all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(TOOLS))

test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)
	# The end-to-end tests time real servers to the millisecond: run them
	# alone, after the unit tests, so that nothing else competes for the CPU.
	$(GO) test -count=1 ./e2e

bench: build
	scripts/run_benchmarks.sh $(if $(SERVEBENCH_URL),--url "$(SERVEBENCH_URL)",--sim) $(BENCH_FLAGS)

clean:
	rm -rf $(BIN)
