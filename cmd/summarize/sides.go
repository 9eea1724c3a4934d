package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"servebench/internal/cmdline"
)

// side is one side of a comparison: a name and its files ("-" is stdin).
type side struct {
	name  string
	files []string
}

// label matches the NAME of a NAME=FILE argument: a short word, so that a
// path with "=" in a directory name is not mistaken for one.
var label = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// sidesOf finds the two sides of a comparison in cfg, or nil when the
// command line asks for none. --baseline files are the old side and the
// other files (or stdin) the new one. Otherwise NAME=FILE arguments name
// the sides in the order they first appear, as benchstat's; an argument
// that names an existing file is a file, whatever its characters.
func sidesOf(cfg config) ([]side, error) {
	sides, plain := namedSides(cfg.Files)
	switch {
	case len(cfg.Baseline) > 0 && len(sides) > 0:
		return nil, cmdline.Usagef("give --baseline or NAME=FILE arguments, not both")
	case len(cfg.Baseline) > 0:
		sides = []side{{"baseline", cfg.Baseline}, {"new", cfg.Files}}
		if len(cfg.Files) == 0 {
			sides[1].files = []string{"-"}
		}
	case len(sides) == 0:
		return nil, nil
	case plain > 0:
		return nil, cmdline.Usagef("every file of a comparison needs a NAME= (old=a.jsonl new=b.jsonl), or use --baseline")
	case len(sides) != 2:
		return nil, cmdline.Usagef("a comparison has two sides, old=FILE and new=FILE; got %d (%s)", len(sides), sideNames(sides))
	}
	if stdinUses(sides) > 1 {
		return nil, cmdline.Usagef("stdin (-) can feed only one side of a comparison")
	}
	return sides, nil
}

// namedSides collects the NAME=FILE arguments into sides, in the order
// the names first appear, and counts the plain file names.
func namedSides(args []string) (sides []side, plain int) {
	for _, arg := range args {
		name, file, ok := strings.Cut(arg, "=")
		if _, err := os.Stat(arg); err == nil || !ok || !label.MatchString(name) || file == "" {
			plain++
			continue
		}
		i := 0
		for i < len(sides) && sides[i].name != name {
			i++
		}
		if i == len(sides) {
			sides = append(sides, side{name: name})
		}
		sides[i].files = append(sides[i].files, file)
	}
	return sides, plain
}

// stdinUses counts the sides' files that are stdin.
func stdinUses(sides []side) int {
	n := 0
	for _, s := range sides {
		for _, f := range s.files {
			if f == "-" {
				n++
			}
		}
	}
	return n
}

func sideNames(sides []side) string {
	names := make([]string, len(sides))
	for i, s := range sides {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// from lists the side's files for the report: "base.jsonl, stdin".
func (s side) from() string {
	files := make([]string, len(s.files))
	for i, f := range s.files {
		files[i] = f
		if f == "-" {
			files[i] = "stdin"
		}
	}
	if len(files) > 3 {
		files = append(files[:2], fmt.Sprintf("and %d more files", len(files)-2))
	}
	return strings.Join(files, ", ")
}
