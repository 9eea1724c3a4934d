package summary

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/compare"
	"servebench/internal/plot"
	"servebench/internal/record"
	"servebench/internal/report"
	"servebench/internal/stats"
)

// summarize's own exit codes. The shared codes are cmdline's: 0 success,
// 1 runtime failure (unreadable input, no records, an output that cannot be
// written, nothing to compare), 2 usage error. 4 is kept for the SLO gate.
const (
	// ExitBadInput: with --strict, some input lines were not records.
	ExitBadInput = 3
	// ExitRegression: a comparison found a significant change that crossed
	// a --fail-on threshold. Everything was written before it is returned.
	ExitRegression = 5
)

// maxBadLineMessages caps the bad-line messages on stderr; the rest are
// counted in one line.
const maxBadLineMessages = 20

// Config is what the command line asks for.
type Config struct {
	// Files are the inputs; none, or "-", read stdin. In a comparison they
	// are the new side, or NAME=FILE arguments name both sides (benchstat's
	// old=a.jsonl new=b.jsonl; a name may be given for several files).
	Files       []string
	Baseline    []string         // compare these files (the old side) with Files
	Format      string           // stdout format: "text" (default), "csv" or "json"
	Percentiles string           // e.g. "50,90,99.9"; empty means stats.DefaultPercentiles
	CSVFile     string           // also append one CSV row per group here (not with a comparison)
	LogFile     string           // also append a timestamped text block here
	Plot        string           // also draw the runs into this .png or .svg file
	FailOn      string           // comparison thresholds, e.g. "ttft_p99_ms>+10%,req_per_s<-5%"
	Alpha       float64          // significance level of comparisons; 0 means compare.DefaultAlpha
	Strict      bool             // any bad input line fails the run (ExitBadInput)
	Now         func() time.Time // clock for log timestamps; nil means time.Now
}

// Main is the summarize program: it reads records from cfg.Files (or stdin),
// reports bad lines on stderr, and writes the report to stdout and the
// optional CSV, plot and log files. The files are written before stdout, the
// CSV first, so an error such as a CSV header mismatch leaves every output
// untouched.
//
// The error carries the exit code for cmdline.Code: a cmdline.UsageError
// (2), a cmdline.CodeError with ExitBadInput (3), or any other error (1).
//
// With --baseline or NAME=FILE arguments it compares two sides instead (see
// package compare) and returns a cmdline.CodeError with ExitRegression when
// a --fail-on threshold was crossed.
func Main(stdout, stderr io.Writer, stdin io.Reader, cfg Config) error {
	p, err := newPlan(cfg)
	if err != nil {
		return err
	}
	if p.sides != nil {
		return compareMain(stdout, stderr, stdin, cfg, p)
	}
	rep, err := read(stderr, stdin, cfg.Files)
	if err != nil {
		return err
	}
	if err := checkInput(rep, cfg.Strict, ""); err != nil {
		return err
	}
	rep.Percentiles = p.percentiles
	sampled := rep.agg.Sampled(p.percentiles)
	for i := range sampled {
		rep.Groups = append(rep.Groups, sampled[i].Group)
	}
	var picture []byte
	if cfg.Plot != "" {
		fig, warnings := groupsFigure(sampled)
		if picture, err = renderPlot(stderr, cfg.Plot, fig, warnings); err != nil {
			return err
		}
	}
	return write(stdout, &rep.Report, p.format, cfg, picture)
}

// plan is a checked Config.
type plan struct {
	format      string
	percentiles []float64
	sides       []side // the two sides of a comparison; nil when summarizing
	thresholds  []compare.Threshold
	alpha       float64
}

// newPlan checks everything the command line says before any input is
// read, so that a usage error costs nothing and writes nothing.
func newPlan(cfg Config) (*plan, error) {
	p := &plan{format: cfg.Format, alpha: cfg.Alpha}
	if p.format == "" {
		p.format = "text"
	}
	if p.format != "text" && p.format != "csv" && p.format != "json" {
		return nil, cmdline.Usagef("--format %q: want text, csv or json", cfg.Format)
	}
	spec := cfg.Percentiles
	if strings.TrimSpace(spec) == "" {
		spec = stats.DefaultPercentiles
	}
	var err error
	if p.percentiles, err = stats.ParsePercentiles(spec); err != nil {
		return nil, cmdline.Usagef("--percentiles: %v", err)
	}
	for _, name := range append(slices.Clone(cfg.Files), cfg.Baseline...) {
		if _, err := os.Stat(name); name != "-" && strings.HasPrefix(name, "-") && errors.Is(err, fs.ErrNotExist) {
			return nil, cmdline.Usagef("%s: no such file, and not a flag (flags go before a --)", name)
		}
	}
	if cfg.Plot != "" && !slices.Contains(plot.Formats, strings.ToLower(filepath.Ext(cfg.Plot))) {
		return nil, cmdline.Usagef("--plot %s: want a file name ending in %s", cfg.Plot, strings.Join(plot.Formats, " or "))
	}
	if p.sides, err = sidesOf(cfg); err != nil {
		return nil, err
	}
	if p.thresholds, err = compare.ParseThresholds(cfg.FailOn); err != nil {
		return nil, cmdline.Usagef("--fail-on %v", err)
	}
	switch {
	case p.sides == nil && len(p.thresholds) > 0:
		return nil, cmdline.Usagef("--fail-on needs a comparison: --baseline OLD.jsonl, or old=OLD.jsonl new=NEW.jsonl")
	case p.sides == nil && cfg.Alpha != 0:
		return nil, cmdline.Usagef("--alpha needs a comparison: --baseline OLD.jsonl, or old=OLD.jsonl new=NEW.jsonl")
	case p.sides != nil && cfg.CSVFile != "":
		return nil, cmdline.Usagef("--csv appends per-run rows and cannot hold a comparison; use --format csv, or summarize the runs without --baseline")
	case p.alpha == 0:
		p.alpha = compare.DefaultAlpha
	case !(p.alpha > 0 && p.alpha < 1):
		return nil, cmdline.Usagef("--alpha %v: want a level between 0 and 1, such as 0.05", cfg.Alpha)
	}
	return p, nil
}

// checkInput fails on bad lines under --strict (before anything is
// written) and on an input without a single record. side names the side of
// a comparison the input is, "" when summarizing.
func checkInput(in *input, strict bool, side string) error {
	where := "the input"
	if side != "" {
		where = side
	}
	if strict && in.BadLines > 0 {
		if side != "" {
			side = " in " + side
		}
		return &cmdline.CodeError{Code: ExitBadInput, Err: fmt.Errorf("%d bad input %s%s (--strict)", in.BadLines, plural(in.BadLines, "line"), side)}
	}
	if in.Records == 0 {
		return fmt.Errorf("no records in %s (%d bad %s)", where, in.BadLines, plural(in.BadLines, "line"))
	}
	return nil
}

// input is a report in the making.
type input struct {
	report.Report
	agg          *Aggregator
	schemaWarned bool
}

// read aggregates every input in order and reports bad lines on stderr, the
// first maxBadLineMessages of them in full.
func read(stderr io.Writer, stdin io.Reader, files []string) (*input, error) {
	in := &input{agg: NewAggregator()}
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		if err := in.readFile(stderr, stdin, name); err != nil {
			return nil, err
		}
	}
	if more := in.BadLines - maxBadLineMessages; more > 0 {
		fmt.Fprintf(stderr, "summarize: ... %d more bad %s\n", more, plural(more, "line"))
	}
	in.Records = in.agg.Records()
	return in, nil
}

func (in *input) readFile(stderr io.Writer, stdin io.Reader, name string) error {
	r, label := stdin, "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err // *fs.PathError: names the file
		}
		defer f.Close()
		r, label = f, name
	}
	rd := record.NewReader(r, label)
	for rd.Scan() {
		if bad := rd.BadLine(); bad != nil {
			in.BadLines++
			if in.BadLines <= maxBadLineMessages {
				fmt.Fprintf(stderr, "summarize: %v\n", bad)
			}
			continue
		}
		rec := rd.Record()
		if rec.Schema > record.Schema && !in.schemaWarned {
			in.schemaWarned = true
			msg := fmt.Sprintf("records of schema %d are newer than this build's (%d); fields it does not know are ignored", rec.Schema, record.Schema)
			fmt.Fprintf(stderr, "summarize: %s:%d: warning: %s\n", label, rd.Line(), msg)
			in.Warnings = append(in.Warnings, msg)
		}
		in.agg.Add(rec)
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("read %s: %w", label, err)
	}
	return nil
}

// write renders the report for stdout, appends to the CSV file (which may
// refuse: other columns), writes the picture and the log, and only then
// writes stdout.
func write(stdout io.Writer, rep *report.Report, format string, cfg Config, picture []byte) error {
	var out bytes.Buffer
	var err error
	switch format {
	case "csv":
		err = report.WriteCSV(&out, rep, true)
	case "json":
		err = report.WriteJSON(&out, rep)
	default:
		err = report.WriteText(&out, rep, report.ColorEnabled(stdout))
	}
	if err != nil {
		return err
	}
	if cfg.CSVFile != "" {
		if err := report.AppendCSV(cfg.CSVFile, rep); err != nil {
			return err
		}
	}
	if err := writePlot(cfg.Plot, picture); err != nil {
		return err
	}
	if cfg.LogFile != "" {
		now := cfg.Now
		if now == nil {
			now = time.Now
		}
		if err := report.AppendLog(cfg.LogFile, report.LogBlock(rep, now())); err != nil {
			return err
		}
	}
	_, err = stdout.Write(out.Bytes())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
