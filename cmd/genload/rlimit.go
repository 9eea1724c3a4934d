package main

import (
	"fmt"
	"io"

	"servebench/internal/load"
)

// fdReserve is the open files genload needs besides one per request in
// flight: its standard streams, idle connections, files, the runtime's.
const fdReserve = 32

// inFlight is the most requests cfg can have in flight at once; 0 when an
// open loop has no cap (then a guess: what the rate sends in a second).
func inFlight(cfg *load.Config) int {
	n := cfg.MaxConcurrency
	for _, c := range cfg.Concurrencies {
		n = max(n, c)
	}
	if n == 0 {
		for _, r := range cfg.Rates {
			n = max(n, int(r))
		}
	}
	return n
}

// checkOpenFiles compares the open-file limit with what cfg needs, raises
// the soft limit when the hard one allows, and says what to do when it
// cannot: a request without a file descriptor fails as kind client.
func checkOpenFiles(stderr io.Writer, cfg *load.Config) {
	need := uint64(inFlight(cfg) + fdReserve)
	soft, hard, ok := openFileLimit()
	if !ok || soft >= need {
		return
	}
	if hard >= need && raiseOpenFileLimit(need) {
		return
	}
	fmt.Fprint(stderr, openFilesAdvice(need, soft, hard))
}

// openFilesAdvice is the warning for a limit below need.
func openFilesAdvice(need, soft, hard uint64) string {
	return fmt.Sprintf("genload: warning: %d requests in flight need about %d open files, and the limit is %d (hard limit %d): "+
		"raise it (ulimit -n %d) or lower the concurrency, or requests will fail as error_kind client\n", need-fdReserve, need, soft, hard, need)
}
