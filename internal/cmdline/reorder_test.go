package cmdline

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

var testFlags = []cli.Flag{
	&cli.StringFlag{Name: "format", Aliases: []string{"f"}},
	&cli.IntFlag{Name: "requests", Aliases: []string{"n"}},
	&cli.StringSliceFlag{Name: "baseline"},
	&cli.BoolFlag{Name: "strict"},
}

func TestFlagsFirst(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"already in order", "p --format csv a b", "p --format csv a b"},
		{"glob first, then flags", "p a.jsonl b.jsonl --format csv", "p --format csv a.jsonl b.jsonl"},
		{"flags between files", "p a --strict b -n 3 c", "p --strict -n 3 a b c"},
		{"inline value is one token", "p a --format=json b", "p --format=json a b"},
		{"bool flag takes no value", "p --strict a", "p --strict a"},
		{"bool with explicit value", "p a --strict=false", "p --strict=false a"},
		{"value that looks like a flag", "p a -n -5", "p -n -5 a"},
		{"value that looks like a file", "p --baseline old.jsonl new.jsonl", "p --baseline old.jsonl new.jsonl"},
		{"repeated slice flag", "p new --baseline a --baseline b", "p --baseline a --baseline b new"},
		{"dash is stdin, positional", "p - --format csv", "p --format csv -"},
		// "--" goes before every positional argument: the parser drops it
		// and takes the rest as they are.
		{"after -- all positional", "p a -- --format b", "p -- a --format b"},
		{"flags before --", "p a --strict -- -x.jsonl", "p --strict -- a -x.jsonl"},
		{"unknown flag moves alone", "p a --bogus b", "p --bogus a b"},
		{"value flag last, missing value", "p a --format", "p --format a"},
		{"benchstat-style labels", "p old=a.jsonl --format csv new=b.jsonl", "p --format csv old=a.jsonl new=b.jsonl"},
		{"single dash long flag", "p a -format csv", "p -format csv a"},
		{"nothing but the program", "p", "p"},
	}
	for _, tt := range tests {
		got := strings.Join(FlagsFirst(strings.Fields(tt.in), testFlags), " ")
		if got != tt.want {
			t.Errorf("%s: %q -> %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
	if got := FlagsFirst(nil, testFlags); got != nil {
		t.Errorf("nil args -> %q", got)
	}
}

// TestFlagsFirstParses runs the reordered arguments through urfave/cli:
// the files arrive as arguments and the flags as flags.
func TestFlagsFirstParses(t *testing.T) {
	var format string
	var files []string
	var strict bool
	app := &cli.App{
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Destination: &format},
			&cli.BoolFlag{Name: "strict", Destination: &strict},
		},
		Action: func(c *cli.Context) error { files = c.Args().Slice(); return nil },
	}
	args := []string{"summarize", "results/a.jsonl", "results/b.jsonl", "--format", "csv", "--strict"}
	if err := app.Run(FlagsFirst(args, app.Flags)); err != nil {
		t.Fatal(err)
	}
	if format != "csv" || !strict || !slices.Equal(files, []string{"results/a.jsonl", "results/b.jsonl"}) {
		t.Errorf("format %q strict %v files %q", format, strict, files)
	}
}

func FuzzFlagsFirst(f *testing.F) {
	f.Add("p a --format csv -- b")
	f.Add("p -n --strict - x")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Fields(s)
		got := FlagsFirst(args, testFlags)
		// A permutation: nothing lost, nothing added, except nothing.
		if len(got) != len(args) {
			t.Fatalf("%q -> %q: length changed", args, got)
		}
		a, b := slices.Clone(args), slices.Clone(got)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("%q -> %q: not a permutation", args, got)
		}
		if len(args) > 0 && got[0] != args[0] {
			t.Fatalf("program name moved")
		}
	})
}
