package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/compare"
	"servebench/internal/plot"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

// config is what the command line asks for, as the flags gave it.
type config struct {
	// Files are the inputs; none, or "-", read stdin. In a comparison they
	// are the new side, or NAME=FILE arguments name both sides (benchstat's
	// old=a.jsonl new=b.jsonl; a name may be given for several files).
	Files       []string
	Baseline    []string // --baseline: compare these files (the old side) with Files
	Format      string   // --format: "text" (default), "csv" or "json"
	Percentiles string   // --percentiles, e.g. "50,90,99.9"; empty means stats.DefaultPercentiles
	CSVFile     string   // --csv: also append one CSV row per group here (not with a comparison)
	LogFile     string   // --log: also append a timestamped text block here
	Plot        string   // --plot: also draw the runs into this .png or .svg file
	HTML        string   // --html: also write a self-contained HTML report here
	FailOn      string   // --fail-on: comparison thresholds, e.g. "ttft_p99_ms>+10%,req_per_s<-5%"
	SLO         string   // --slo: per-request objectives for goodput (see summary.ParseSLO)
	Alpha       float64  // --alpha: significance level of comparisons; 0 means compare.DefaultAlpha
	Strict      bool     // --strict: any bad input line fails the run (ExitBadInput)
	Brief       bool     // --brief: text output is the answer-first table only
	By          string   // --by: record fields that split the groups, e.g. "turn"
	// Slice, when set (--slice), also cuts each group into time slices of
	// this length: a table per group in text, the slices' rows instead of
	// the groups' in CSV, a "slices" list in JSON.
	Slice time.Duration

	// MinGoodputRatio, when set, is the goodput gate (--min-goodput-ratio):
	// every group's slo_met_ratio must reach it, or summarize returns
	// ExitGoodput. Needs SLO.
	MinGoodputRatio *float64
}

// plan is a checked config.
type plan struct {
	format      string
	percentiles []float64
	sides       []side // the two sides of a comparison; nil when summarizing
	thresholds  []compare.Threshold
	alpha       float64
	slo         summary.SLO
	by          []string // --by's fields
	minRatio    *float64 // the goodput gate; nil when none
}

// newPlan checks everything the command line says before any input is
// read, so that a usage error costs nothing and writes nothing. The
// messages name the flags: the libraries' errors do not.
func newPlan(cfg config) (*plan, error) {
	p := &plan{format: cfg.Format, alpha: cfg.Alpha}
	switch {
	case cfg.Slice < 0 || (cfg.Slice > 0 && cfg.Slice < time.Millisecond):
		return nil, cmdline.Usagef("--slice %v: want a length of at least 1ms, such as 10s", cfg.Slice)
	case cfg.Slice > 0 && (len(cfg.Baseline) > 0 || hasNamedSides(cfg.Files)):
		return nil, cmdline.Usagef("--slice cuts one input's runs into time slices: not with a comparison")
	}
	if err := p.checkFormat(cfg); err != nil {
		return nil, err
	}
	if err := checkFiles(cfg); err != nil {
		return nil, err
	}
	if err := checkPlot(cfg.Plot); err != nil {
		return nil, err
	}
	var err error
	if p.sides, err = sidesOf(cfg); err != nil {
		return nil, err
	}
	if p.thresholds, err = compare.ParseThresholds(cfg.FailOn); err != nil {
		return nil, cmdline.Usagef("--fail-on %v", err)
	}
	if p.slo, err = summary.ParseSLO(cfg.SLO); err != nil {
		return nil, cmdline.Usagef("--slo %v", err)
	}
	if p.by, err = summary.ParseBy(cfg.By); err != nil {
		return nil, cmdline.Usagef("--by %v", err)
	}
	if err := p.checkGoodput(cfg); err != nil {
		return nil, err
	}
	if err := p.checkComparison(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// checkFormat checks --format and --percentiles.
func (p *plan) checkFormat(cfg config) error {
	if p.format == "" {
		p.format = "text"
	}
	if p.format != "text" && p.format != "csv" && p.format != "json" {
		return cmdline.Usagef("--format %q: want text, csv or json", cfg.Format)
	}
	spec := cfg.Percentiles
	if strings.TrimSpace(spec) == "" {
		spec = stats.DefaultPercentiles
	}
	var err error
	if p.percentiles, err = stats.ParsePercentiles(spec); err != nil {
		return cmdline.Usagef("--percentiles: %v", err)
	}
	return nil
}

// checkPlot checks that --plot names a file type plot can draw.
func checkPlot(path string) error {
	if path != "" && !slices.Contains(plot.Formats, strings.ToLower(filepath.Ext(path))) {
		return cmdline.Usagef("--plot %s: want a file name ending in %s", path, strings.Join(plot.Formats, " or "))
	}
	return nil
}

// checkFiles catches file names that are flags or objectives gone astray.
// cmdline.FlagsFirst moves flags before the files; what still starts with
// a dash came after "--" and is a file name, or a mistake.
func checkFiles(cfg config) error {
	for _, name := range append(slices.Clone(cfg.Files), cfg.Baseline...) {
		fi, err := os.Stat(name)
		switch {
		case name != "-" && strings.HasPrefix(name, "-") && errors.Is(err, fs.ErrNotExist):
			return cmdline.Usagef("%s: no such file, and not a flag (flags go before a --)", name)
		case err == nil && fi.IsDir():
			return cmdline.Usagef("%s is a directory: give the record files in it, such as %s", name, filepath.Join(name, "*.jsonl"))
		}
	}
	for _, name := range cfg.Baseline {
		// Found out after a whole suite has run, a missing baseline costs
		// the run: say so before anything is read.
		fi, err := os.Stat(name)
		switch {
		case err != nil:
			return cmdline.Usagef("--baseline %s: %v", name, errors.Unwrap(err))
		case fi.Size() == 0:
			return cmdline.Usagef("--baseline %s is empty: nothing to compare with (give the raw records of earlier runs)", name)
		}
	}
	for _, name := range cfg.Files {
		if err := strayObjective(name); err != nil {
			return err
		}
	}
	return nil
}

// strayObjective catches the second objective of an unquoted
// "--slo ttft=300ms tpot=50ms", which the shell makes a file name (and
// summarize would take for a NAME=FILE side of a comparison).
func strayObjective(arg string) error {
	if !summary.IsObjective(arg) {
		return nil
	}
	if _, err := os.Stat(arg); err == nil {
		return nil
	}
	return cmdline.Usagef("%s: an objective, not a file: give --slo one argument, such as --slo ttft=300ms,tpot=50ms (commas, or quotes around spaces)", arg)
}

// checkGoodput checks --slo and --min-goodput-ratio against each other and
// the rest of the command line.
func (p *plan) checkGoodput(cfg config) error {
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

// checkComparison checks the flags that need a comparison, or cannot have
// one, and --alpha.
func (p *plan) checkComparison(cfg config) error {
	switch {
	case p.sides == nil && len(p.thresholds) > 0:
		return cmdline.Usagef("--fail-on needs a comparison: --baseline OLD.jsonl, or old=OLD.jsonl new=NEW.jsonl")
	case p.sides == nil && cfg.Alpha != 0:
		return cmdline.Usagef("--alpha needs a comparison: --baseline OLD.jsonl, or old=OLD.jsonl new=NEW.jsonl")
	case p.sides != nil && cfg.CSVFile != "":
		return cmdline.Usagef("--csv appends per-run rows and cannot hold a comparison; use --format csv, or summarize the runs without --baseline")
	case p.alpha == 0:
		p.alpha = compare.DefaultAlpha
	case !(p.alpha > 0 && p.alpha < 1):
		return cmdline.Usagef("--alpha %v: want a level between 0 and 1, such as 0.05", cfg.Alpha)
	}
	return nil
}

// hasNamedSides reports whether the arguments name comparison sides
// (old=a.jsonl new=b.jsonl).
func hasNamedSides(files []string) bool {
	sides, _ := namedSides(files)
	return len(sides) > 0
}
