package cmdline

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestUsageMessages: flag errors say what was wrong and what to type.
func TestUsageMessages(t *testing.T) {
	newApp := func() *cli.App {
		return &cli.App{Name: "tool", Flags: []cli.Flag{
			&cli.DurationFlag{Name: "timeout"},
			&cli.IntFlag{Name: "requests", Aliases: []string{"n"}},
			&cli.Float64Flag{Name: "alpha"},
		}, Action: func(*cli.Context) error { return nil }}
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--timout", "5s"}, "tool: unknown flag --timout: did you mean --timeout? (see --help)\n"},
		{[]string{"--zzzzzz"}, "tool: unknown flag --zzzzzz (see --help)\n"},
		{[]string{"--reqests", "3"}, "tool: unknown flag --reqests: did you mean --requests? (see --help)\n"},
		{[]string{"--alph", "3"}, "tool: unknown flag --alph: did you mean --alpha? (see --help)\n"},
		{[]string{"--bogus"}, "tool: unknown flag --bogus (see --help)\n"},
		{[]string{"--timeout", "5"}, `tool: --timeout "5": want a duration with its unit, such as 500ms, 30s, 2m or 1h30m (see --help)` + "\n"},
		{[]string{"-n", "x"}, `tool: --requests "x": want a whole number (see --help)` + "\n"},
		{[]string{"--alpha", "high"}, `tool: --alpha "high": want a number, such as 0.5 (see --help)` + "\n"},
		{[]string{"--requests"}, "tool: --requests needs a value (see --help)\n"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := Run(newApp(), append([]string{"tool"}, tt.args...), &out, &errOut)
		if code != ExitUsage || errOut.String() != tt.want || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2, %q", tt.args, code, errOut.String(), out.String(), tt.want)
		}
	}
}

// TestVersion: every tool run through Run answers --version on stdout.
func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "tool", Action: func(*cli.Context) error { return nil }}
	if code := Run(app, []string{"tool", "--version"}, &out, &errOut); code != ExitOK || !strings.HasPrefix(out.String(), "tool version ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
