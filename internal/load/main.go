package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"servebench/internal/record"
)

// InterruptedError reports the signal that ended a run early. Its exit code
// follows the shell's convention, 128 + the signal number (130 for SIGINT,
// 143 for SIGTERM), so scripts can tell an interrupted run from a failed one.
type InterruptedError struct{ Signal os.Signal }

func (e *InterruptedError) Error() string { return fmt.Sprintf("interrupted by %v", e.Signal) }

// Is makes errors.Is(err, ErrInterrupted) hold.
func (e *InterruptedError) Is(target error) bool { return target == ErrInterrupted }

// ExitStatus is 128 + the signal number.
func (e *InterruptedError) ExitStatus() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// flushInterval is how long a record may wait to be written together with
// others: under load, one write call per interval rather than one per
// record (docs/perf.md); unnoticeable to tail -f and to a pipe.
const flushInterval = 2 * time.Millisecond

// Main runs genload: records go to stdout, people's messages to stderr.
// The first SIGINT or SIGTERM stops sending and lets requests in flight
// finish for cfg.Grace; a second one cancels them at once. Both ways every
// attempt made has a complete line on stdout before Main returns.
func Main(cfg *Config, stdout, stderr io.Writer) error {
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	abort, abortNow := context.WithCancel(context.Background())
	defer abortNow()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var first os.Signal
	gotFirst := make(chan struct{})
	go func() {
		select {
		case first = <-sigs:
		case <-abort.Done():
			return
		}
		close(gotFirst)
		fmt.Fprintf(stderr, "\ngenload: %v: no new requests; waiting up to %v for those in flight (again to cancel them)\n", first, cfg.Grace)
		stopNow()
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "genload: canceling requests in flight")
			abortNow()
		case <-abort.Done():
		}
	}()

	out := record.NewWriter(stdout)
	out.SetFlushInterval(flushInterval)
	res, err := Run(stop, abort, cfg, out, stderr)
	if !cfg.Quiet && res.Model != "" {
		fmt.Fprintf(stderr, "genload: run %s (%s): %d requests, %d failed, %.2fs\n",
			res.RunID, res.Model, res.Sent, res.Failed, res.Elapsed.Seconds())
	}
	if errors.Is(err, ErrInterrupted) {
		<-gotFirst
		return &InterruptedError{Signal: first}
	}
	return err
}
