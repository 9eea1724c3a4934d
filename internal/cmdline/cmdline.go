// Package cmdline is what servebench's four programs share: the exit-code
// table, the one program signature and its main, errors printed as
// "tool: message", the signal handling, the colour decision, flags after
// file names, and the connection flags (API key, TLS). Libraries in
// internal/ know none of this; each cmd/<tool> turns their typed errors
// into messages that name its flags.
package cmdline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
)

// Program is a servebench tool: everything it does goes through its
// arguments (args[0] is its name), its streams and ctx, so a test runs the
// whole program in-process, as benchstat's main calls benchstat(stdout,
// stderr, args). ctx is cancelled by the first SIGINT or SIGTERM (see
// WithInterrupts); the result is the process's exit code.
type Program func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) ExitCode

// Option changes how Main runs a program.
type Option int

// DefaultSignals leaves SIGINT and SIGTERM to the Go runtime (the process
// ends at once), for a program with nothing to finish on Ctrl-C.
const DefaultSignals Option = 1

// Main runs program with the process's arguments and streams and exits
// with its code. Unless DefaultSignals is given, the first SIGINT or
// SIGTERM cancels the program's context and a second one its Abort
// context.
func Main(program Program, opts ...Option) {
	ctx := context.Background()
	catch := true
	for _, o := range opts {
		catch = catch && o != DefaultSignals
	}
	if catch {
		var interrupt func(os.Signal)
		ctx, interrupt = WithInterrupts(ctx)
		sigs := make(chan os.Signal, 2)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go func() {
			for s := range sigs {
				interrupt(s)
			}
		}()
	}
	os.Exit(int(program(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)))
}

// UsageError marks a problem with the command line (exit code 2).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a usage error.
func Usage(err error) error { return UsageError{Err: err} }

// Usagef formats a usage error.
func Usagef(format string, args ...any) error { return UsageError{Err: fmt.Errorf(format, args...)} }

// CodeError carries an exit code of the table (a gate, a probe outcome).
// With a nil Err nothing more is printed: the tool has said it already.
type CodeError struct {
	Code ExitCode
	Err  error
}

func (e *CodeError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *CodeError) Unwrap() error { return e.Err }

// Coder is any error that knows its exit code. (The method is not called
// ExitCode on purpose: urfave/cli would then exit by itself.)
type Coder interface{ ExitStatus() ExitCode }

// ExitStatus implements Coder.
func (e *CodeError) ExitStatus() ExitCode { return e.Code }

// Code maps an error to the process exit code.
func Code(err error) ExitCode {
	var c Coder
	var u UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &c):
		return c.ExitStatus()
	case errors.As(err, &u):
		return ExitUsage
	}
	return ExitFailure
}

// Run runs app with args and returns the exit code, printing the error (if
// any) as "name: message" on stderr. Flag errors are usage errors, worded
// by usageMessage; urfave's help is not dumped on them, only a pointer to
// --help. Every tool gets --version.
func Run(app *cli.App, args []string, stdout, stderr io.Writer) ExitCode {
	app.HideHelpCommand = true
	app.Writer = stdout
	app.ErrWriter = stderr
	if app.Version == "" {
		app.Version = Version()
	}
	app.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return Usagef("%s (see --help)", usageMessage(err, app.Flags))
	}
	err := app.Run(args)
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
	}
	return Code(err)
}

// IsTerminal says whether stream (stdin, stdout or stderr) is a terminal:
// a *os.File on one, Cygwin's included.
func IsTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// UseColor says whether output to w may be coloured: only a terminal, and
// only when NO_COLOR (https://no-color.org) is unset or empty.
func UseColor(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && IsTerminal(w)
}

// lockedWriter serializes writes from several goroutines (a progress line,
// a signal's message, the final line).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Locked makes w safe for writes from several goroutines, each write whole.
func Locked(w io.Writer) io.Writer { return &lockedWriter{w: w} }
