package cmdline

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// TestInterrupts: the first signal stops (cause and exit code say which),
// the second aborts.
func TestInterrupts(t *testing.T) {
	ctx, interrupt := WithInterrupts(context.Background())
	abort := Abort(ctx)
	if ctx.Err() != nil || abort.Err() != nil || Signal(ctx) != nil {
		t.Fatal("cancelled before any signal")
	}
	interrupt(syscall.SIGTERM)
	if ctx.Err() == nil || abort.Err() != nil || Signal(ctx) != syscall.SIGTERM {
		t.Fatalf("after one signal: stop %v, abort %v, signal %v", ctx.Err(), abort.Err(), Signal(ctx))
	}
	if code := Code(context.Cause(ctx)); code != ExitSIGTERM {
		t.Errorf("exit code %d, want %d", code, ExitSIGTERM)
	}
	interrupt(os.Interrupt)
	if abort.Err() == nil || Signal(ctx) != syscall.SIGTERM {
		t.Fatalf("after two: abort %v, signal %v (the first one counts)", abort.Err(), Signal(ctx))
	}
	if Abort(context.Background()) != context.Background() {
		t.Error("Abort without WithInterrupts is ctx itself")
	}
}
