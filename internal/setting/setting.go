// Package setting is how a library reports a bad setting without knowing
// the command line: the message names the Config field, in braces, and
// each command words it with its own flag (cmd/genload says
// "--input-tokens" where package dataset says {InputTokens}).
package setting

import (
	"fmt"
	"strings"
)

// Error is a bad setting. Its message holds {Field} for each Config field
// it is about.
type Error struct{ msg string }

// Errorf formats an Error; write the fields concerned as {Field}.
func Errorf(format string, args ...any) *Error { return &Error{msg: fmt.Sprintf(format, args...)} }

// Error is the message with the fields' own names.
func (e *Error) Error() string { return e.Named(func(f string) (string, bool) { return f, true }) }

// Named is the message with each {Field} that name knows replaced by its
// name; others stay as they are (a value in braces is not a field).
func (e *Error) Named(name func(field string) (string, bool)) string {
	var b strings.Builder
	rest := e.msg
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			break
		}
		b.WriteString(rest[:open])
		if n, ok := name(rest[open+1 : open+end]); ok {
			b.WriteString(n)
		} else {
			b.WriteString(rest[open : open+end+1])
		}
		rest = rest[open+end+1:]
	}
	b.WriteString(rest)
	return b.String()
}
