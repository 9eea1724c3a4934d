package summary

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/compare"
	"servebench/internal/report"
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
func sidesOf(cfg Config) ([]side, error) {
	var sides []side
	labelled, plain := 0, 0
	for _, arg := range cfg.Files {
		name, file, ok := strings.Cut(arg, "=")
		if _, err := os.Stat(arg); err == nil || !ok || !label.MatchString(name) || file == "" {
			plain++
			continue
		}
		labelled++
		i := 0
		for i < len(sides) && sides[i].name != name {
			i++
		}
		if i == len(sides) {
			sides = append(sides, side{name: name})
		}
		sides[i].files = append(sides[i].files, file)
	}
	switch {
	case len(cfg.Baseline) > 0 && labelled > 0:
		return nil, cmdline.Usagef("give --baseline or NAME=FILE arguments, not both")
	case len(cfg.Baseline) > 0:
		sides = []side{{"baseline", cfg.Baseline}, {"new", cfg.Files}}
		if len(cfg.Files) == 0 {
			sides[1].files = []string{"-"}
		}
	case labelled == 0:
		return nil, nil
	case plain > 0:
		return nil, cmdline.Usagef("every file of a comparison needs a NAME= (old=a.jsonl new=b.jsonl), or use --baseline")
	case len(sides) != 2:
		return nil, cmdline.Usagef("a comparison has two sides, old=FILE and new=FILE; got %d (%s)", len(sides), sideNames(sides))
	}
	stdin := 0
	for _, s := range sides {
		for _, f := range s.files {
			if f == "-" {
				stdin++
			}
		}
	}
	if stdin > 1 {
		return nil, cmdline.Usagef("stdin (-) can feed only one side of a comparison")
	}
	return sides, nil
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

// compareMain reads both sides, compares them and writes the comparison:
// the plot and the log block first, then stdout, then the warnings and
// regressions on stderr.
func compareMain(stdout, stderr io.Writer, stdin io.Reader, cfg Config, p *plan) error {
	var runs [2][]compare.Run
	var sampled [2][]Sampled
	for i, sd := range p.sides {
		in, err := read(stderr, stdin, sd.files)
		if err != nil {
			return err
		}
		if err := checkInput(in, cfg.Strict, sd.name+" ("+sd.from()+")"); err != nil {
			return err
		}
		sampled[i] = in.agg.Sampled(p.percentiles)
		runs[i] = toRuns(sampled[i])
	}
	res := compare.Compare(runs[0], runs[1], compare.Options{
		Old: p.sides[0].name, New: p.sides[1].name, OldFrom: p.sides[0].from(), NewFrom: p.sides[1].from(),
		Alpha: p.alpha, FailOn: p.thresholds,
	})
	warnings := report.CompareWarnings(res)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "summarize: warning: %s\n", w)
	}
	if len(res.Tables) == 0 {
		return fmt.Errorf("nothing to compare: %s and %s share no load point (label, concurrency, rate)", p.sides[0].name, p.sides[1].name)
	}
	var out bytes.Buffer
	var err error
	switch p.format {
	case "csv":
		err = report.WriteCompareCSV(&out, res)
	case "json":
		err = report.WriteCompareJSON(&out, res)
	default:
		err = report.WriteCompareText(&out, res, report.ColorEnabled(stdout))
	}
	if err != nil {
		return err
	}
	if cfg.Plot != "" {
		fig, warnings := sidesFigure(p.sides, sampled)
		picture, err := renderPlot(stderr, cfg.Plot, fig, warnings)
		if err == nil {
			err = writePlot(cfg.Plot, picture)
		}
		if err != nil {
			return err
		}
	}
	if cfg.LogFile != "" {
		now := cfg.Now
		if now == nil {
			now = time.Now
		}
		if err := report.AppendLog(cfg.LogFile, report.CompareLogBlock(res, now())); err != nil {
			return err
		}
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return err
	}
	for _, reg := range res.Regressions {
		fmt.Fprintf(stderr, "summarize: regression: %s\n", report.RegressionText(reg))
	}
	if n := len(res.Regressions); n > 0 {
		return &cmdline.CodeError{Code: ExitRegression, Err: fmt.Errorf("%d %s past --fail-on %s", n, plural(n, "regression"), cfg.FailOn)}
	}
	return nil
}

// toRuns turns the groups of one side into runs to compare. A group with
// no measured request (warmup only) is no run.
func toRuns(groups []Sampled) []compare.Run {
	var runs []compare.Run
	for i := range groups {
		g := &groups[i]
		if g.Requests == 0 {
			continue
		}
		r := compare.Run{
			ID: g.RunID, Point: compare.Point{Label: g.Label, Concurrency: g.Concurrency, Rate: g.Rate},
			Model: g.Model, Endpoint: g.Endpoint, Stream: g.Stream, MaxTokens: g.MaxTokens,
			Requests: g.Requests, Failed: g.Failed, ReqPerS: g.ReqPerS, OutputTokPerS: g.OutputTokPerS,
		}
		r.Samples[compare.TTFT] = g.Samples[report.TTFT]
		r.Samples[compare.TPOT] = g.Samples[report.TPOT]
		r.Samples[compare.ITL] = g.Samples[report.ITL]
		r.Samples[compare.Latency] = g.Samples[report.Latency]
		runs = append(runs, r)
	}
	return runs
}
