package cmdline

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// Interrupted is the cause of a context cancelled by a signal. Its exit
// code follows the shell's convention, 128 + the signal number (130 for
// SIGINT, 143 for SIGTERM), so scripts can tell an interrupted run from a
// failed one.
type Interrupted struct{ Signal os.Signal }

func (e *Interrupted) Error() string { return fmt.Sprintf("interrupted by %v", e.Signal) }

// ExitStatus is 128 + the signal number.
func (e *Interrupted) ExitStatus() ExitCode {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return ExitCode(128 + int(s))
	}
	return ExitSIGINT
}

type abortKey struct{}

// WithInterrupts returns a context that the first call of interrupt
// cancels, with an *Interrupted as its cause: "stop starting work, finish
// what is in flight". A second call cancels Abort(ctx): "stop now". Main
// feeds it the process's SIGINT and SIGTERM; tests call interrupt
// themselves.
func WithInterrupts(parent context.Context) (ctx context.Context, interrupt func(os.Signal)) {
	abort, abortNow := context.WithCancel(parent)
	stop, stopNow := context.WithCancelCause(context.WithValue(parent, abortKey{}, abort))
	var mu sync.Mutex
	n := 0
	return stop, func(s os.Signal) {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 1 {
			stopNow(&Interrupted{Signal: s})
		} else {
			abortNow()
		}
	}
}

// Abort is the context that a second interrupt cancels (see
// WithInterrupts); without WithInterrupts it is ctx itself.
func Abort(ctx context.Context) context.Context {
	if a, ok := ctx.Value(abortKey{}).(context.Context); ok {
		return a
	}
	return ctx
}

// Signal is the signal that cancelled ctx, nil when none did.
func Signal(ctx context.Context) os.Signal {
	if in, ok := context.Cause(ctx).(*Interrupted); ok {
		return in.Signal
	}
	return nil
}
