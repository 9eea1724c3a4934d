package cmdline

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// flagErr picks the flag out of the flag package's errors: "flag provided
// but not defined: -timout", "invalid value "5" for flag -timeout: parse
// error", "flag needs an argument: -requests".
var flagErr = regexp.MustCompile(`^(flag provided but not defined|invalid value "(.*)" for flag|flag needs an argument):? -{1,2}([^ :]+)`)

// usageMessage words a flag-parsing error for people: the flag as they
// typed it with two dashes, a "did you mean" for a mistyped one, the format
// of a duration or a number that did not parse.
func usageMessage(err error, flags []cli.Flag) string {
	m := flagErr.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	name := m[3]
	switch {
	case strings.HasPrefix(m[1], "flag provided"):
		msg := fmt.Sprintf("unknown flag --%s", name)
		if s := suggest(flags, name); s != "" {
			msg += fmt.Sprintf(": did you mean --%s?", s)
		}
		return msg
	case strings.HasPrefix(m[1], "flag needs"):
		return fmt.Sprintf("--%s needs a value", canonical(flags, name))
	}
	return fmt.Sprintf("--%s %q: %s", canonical(flags, name), m[2], want(flags, name))
}

// suggest is the flag name closest to a mistyped one, "" when none is
// close: at most one edit in four letters (and at least one allowed), so
// --timout finds --timeout and --bogus finds nothing.
func suggest(flags []cli.Flag, typed string) string {
	best, bestDist := "", max(1, len(typed)/4)+1
	for _, f := range flags {
		for _, n := range f.Names() {
			if d := editDistance(typed, n); d < bestDist {
				best, bestDist = f.Names()[0], d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// canonical is the flag's long name for any of its names.
func canonical(flags []cli.Flag, name string) string {
	if f := find(flags, name); f != nil {
		return f.Names()[0]
	}
	return name
}

func find(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// want says what a flag's value must look like.
func want(flags []cli.Flag, name string) string {
	switch find(flags, name).(type) {
	case *cli.DurationFlag:
		return "want a duration with its unit, such as 500ms, 30s, 2m or 1h30m"
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return "want a whole number"
	case *cli.Float64Flag:
		return "want a number, such as 0.5"
	case *cli.BoolFlag:
		return "want true or false"
	}
	return "not a valid value"
}

// Version is the build's version: the module's, or for a build from a
// checkout the commit and whether the tree was modified.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "devel " + rev + modified
	}
	if v == "" {
		return "(devel)"
	}
	return v
}
