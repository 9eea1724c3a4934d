// Package cmdline runs servebench's commands the same way: errors on stderr
// prefixed with the tool's name, and exit codes scripts can branch on
// (0 success, 1 runtime failure, 2 usage error, higher codes per tool).
package cmdline

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/urfave/cli/v2"
)

// Exit codes shared by every tool.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// UsageError marks a problem with the command line (exit code 2).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a usage error.
func Usage(err error) error { return UsageError{Err: err} }

// Usagef formats a usage error.
func Usagef(format string, args ...any) error { return UsageError{Err: fmt.Errorf(format, args...)} }

// CodeError carries a tool's own exit code (a gate, a probe outcome). With
// a nil Err nothing more is printed: the tool has said it already.
type CodeError struct {
	Code int
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
type Coder interface{ ExitStatus() int }

// ExitStatus implements Coder.
func (e *CodeError) ExitStatus() int { return e.Code }

// Code maps an error to the process exit code.
func Code(err error) int {
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
// any) as "name: message" on stderr. Flag errors are usage errors; urfave's
// help is not dumped on them, only a pointer to --help.
func Run(app *cli.App, args []string, stderr io.Writer) int {
	app.HideHelpCommand = true
	app.ErrWriter = stderr
	app.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return Usagef("%v (see --help)", err)
	}
	err := app.Run(args)
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "%s: %v\n", app.Name, err)
	}
	return Code(err)
}

// UseColor says whether output to f may be coloured: only a terminal, and
// only when NO_COLOR (https://no-color.org) is unset or empty.
func UseColor(f *os.File) bool {
	return os.Getenv("NO_COLOR") == "" && isatty.IsTerminal(f.Fd())
}
