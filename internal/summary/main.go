package summary

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
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

// summarize's exit codes, from the one table (cmdline.ExitCode).
const (
	ExitBadInput   = cmdline.ExitBadInput
	ExitGoodput    = cmdline.ExitGoodput
	ExitRegression = cmdline.ExitRegression
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
	SLO         string           // per-request objectives for goodput, e.g. "ttft=300ms,e2e=5s" (see ParseSLO)
	Alpha       float64          // significance level of comparisons; 0 means compare.DefaultAlpha
	Strict      bool             // any bad input line fails the run (ExitBadInput)
	Now         func() time.Time // clock for log timestamps; nil means time.Now

	// MinGoodputRatio, when set, is the goodput gate: every group's
	// slo_met_ratio must reach it, or Main returns ExitGoodput. Needs SLO.
	MinGoodputRatio *float64
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
// With --slo every group gets its goodput; with --min-goodput-ratio too,
// Main returns a cmdline.CodeError with ExitGoodput, after writing
// everything, when a group's share of good requests is below it. The
// warnings that question a run (a load point short of its rate, outputs
// short of max_tokens under ignore_eos) are repeated on stderr.
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
	rep, err := read(stderr, stdin, cfg.Files, WithSLO(p.slo))
	if err != nil {
		return err
	}
	if err := checkInput(rep, cfg.Strict, ""); err != nil {
		return err
	}
	rep.Percentiles = p.percentiles
	sampled := rep.agg.summaries(p.percentiles, cfg.Plot != "") // samples only to draw them
	for i := range sampled {
		rep.Groups = append(rep.Groups, sampled[i].Group)
		for _, alert := range sampled[i].Alerts {
			fmt.Fprintf(stderr, "summarize: warning: %s: %s\n", groupName(&sampled[i].Group), alert)
		}
	}
	var picture []byte
	if cfg.Plot != "" {
		fig, warnings := groupsFigure(sampled)
		if picture, err = renderPlot(stderr, cfg.Plot, fig, warnings); err != nil {
			return err
		}
	}
	if err := write(stdout, &rep.Report, p.format, cfg, picture); err != nil {
		return err
	}
	return goodputGate(stderr, rep.Groups, p)
}

// goodputGate checks every group's slo_met_ratio against
// --min-goodput-ratio and names each group below it on stderr, with its
// shortfall. A group without measured requests fails too: a gate passes on
// evidence, not on its absence.
func goodputGate(stderr io.Writer, groups []report.Group, p *plan) error {
	if p.minRatio == nil {
		return nil
	}
	least, below := *p.minRatio, 0
	for i := range groups {
		g := &groups[i]
		switch {
		case g.Requests == 0:
			fmt.Fprintf(stderr, "summarize: goodput: %s: no measured requests to judge against --min-goodput-ratio %v\n", groupName(g), least)
		case g.SLOMetRatio < least:
			missing := goodNeeded(g.Requests, least) - g.SLOMet
			fmt.Fprintf(stderr, "summarize: goodput: %s: slo_met_ratio %.3f (%d of %d requests met %s) is %.3f below --min-goodput-ratio %v: %d more good %s needed\n",
				groupName(g), g.SLOMetRatio, g.SLOMet, g.Requests, g.SLO, least-g.SLOMetRatio, least, missing, plural(missing, "request"))
		default:
			continue
		}
		below++
	}
	if below > 0 {
		return &cmdline.CodeError{Code: ExitGoodput, Err: fmt.Errorf("%d of %d %s below --min-goodput-ratio %v", below, len(groups), plural(len(groups), "group"), least)}
	}
	return nil
}

// goodNeeded is the fewest good requests of n whose share reaches least,
// computed as the gate compares (k/n >= least), not by rounding least*n.
func goodNeeded(n int, least float64) int {
	k := max(0, int(math.Floor(least*float64(n)))-1)
	for k < n && float64(k)/float64(n) < least {
		k++
	}
	return k
}

// groupName names a group for stderr: "run r1, latency, concurrency 1, unpaced".
func groupName(g *report.Group) string {
	return "run " + g.RunID + ", " + compare.Point{Label: g.Label, Concurrency: g.Concurrency, Rate: g.Rate}.String()
}

// plan is a checked Config.
type plan struct {
	format      string
	percentiles []float64
	sides       []side // the two sides of a comparison; nil when summarizing
	thresholds  []compare.Threshold
	alpha       float64
	slo         SLO
	minRatio    *float64 // the goodput gate; nil when none
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
	for _, name := range cfg.Files {
		if err := strayObjective(name); err != nil {
			return nil, err
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
	if p.slo, err = ParseSLO(cfg.SLO); err != nil {
		return nil, cmdline.Usagef("--slo %v", err)
	}
	if err := p.checkGoodput(cfg); err != nil {
		return nil, err
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

// strayObjective catches the second objective of an unquoted
// "--slo ttft=300ms tpot=50ms", which the shell makes a file name (and
// summarize would take for a NAME=FILE side of a comparison).
func strayObjective(arg string) error {
	key, _, ok := strings.Cut(arg, "=")
	if key = strings.ToLower(key); !ok || !slices.Contains(sloKeys, key) && key != "e2el" && key != "itl" {
		return nil
	}
	if _, err := os.Stat(arg); err == nil {
		return nil
	}
	return cmdline.Usagef("%s: an objective, not a file: give --slo one argument, such as --slo ttft=300ms,tpot=50ms (commas, or quotes around spaces)", arg)
}

// checkGoodput checks --slo and --min-goodput-ratio against each other and
// the rest of the command line.
func (p *plan) checkGoodput(cfg Config) error {
	gated := cfg.MinGoodputRatio != nil
	switch {
	case p.sides != nil && (!p.slo.IsZero() || gated):
		return cmdline.Usagef("--slo and --min-goodput-ratio judge the runs summarized, not a comparison: summarize each side without --baseline")
	case gated && p.slo.IsZero():
		return cmdline.Usagef("--min-goodput-ratio needs --slo: the objectives a request must meet, e.g. --slo ttft=300ms,e2e=5s")
	case gated && !(*cfg.MinGoodputRatio > 0 && *cfg.MinGoodputRatio <= 1):
		return cmdline.Usagef("--min-goodput-ratio %v: want a share of requests above 0 and at most 1, such as 0.9", *cfg.MinGoodputRatio)
	}
	p.minRatio = cfg.MinGoodputRatio
	return nil
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
func read(stderr io.Writer, stdin io.Reader, files []string, opts ...Option) (*input, error) {
	in := &input{agg: NewAggregator(opts...)}
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
