package cmdline

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// FlagsFirst returns args (args[0] is the program name) with every flag
// moved before the positional arguments, keeping the order within each.
// urfave/cli, like Go's flag package, stops at the first positional
// argument, so without it `summarize results/*.jsonl --format csv` would
// read "--format" and "csv" as file names. A shell glob puts the files
// first, which is why the tools that take files call this.
//
// It knows which flags take a value from flags, so the value after
// "--format" moves with it and "-n 3" stays a pair. "--name=value" is one
// token. A flag the app does not define is moved as a flag without a value
// and left for the parser to reject. A lone "-" (stdin) is positional.
// Everything after "--" is positional: then "--" goes before all the
// positional arguments, so a file whose name starts with a dash can still be
// named and the parser passes on every argument unchanged.
func FlagsFirst(args []string, flags []cli.Flag) []string {
	if len(args) == 0 {
		return args
	}
	takesValue := valueFlags(flags)
	out := []string{args[0]}
	var positional []string
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		arg := rest[i]
		switch {
		case arg == "--":
			positional = append(positional, rest[i+1:]...)
			return append(append(out, "--"), positional...)
		case len(arg) < 2 || arg[0] != '-':
			positional = append(positional, arg)
		default:
			out = append(out, arg)
			name := strings.TrimLeft(arg, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(rest) {
				i++
				out = append(out, rest[i])
			}
		}
	}
	return append(out, positional...)
}

// valueFlags maps every name and alias of a flag that takes a value to true.
// Boolean flags take none ("--strict"); "--strict=false" is one token.
func valueFlags(flags []cli.Flag) map[string]bool {
	m := make(map[string]bool)
	for _, f := range flags {
		v, ok := f.(cli.DocGenerationFlag)
		if !ok || !v.TakesValue() {
			continue
		}
		for _, name := range f.Names() {
			m[name] = true
		}
	}
	return m
}
