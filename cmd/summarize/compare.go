package main

import (
	"bytes"
	"fmt"
	"io"

	"servebench/internal/cmdline"
	"servebench/internal/compare"
	"servebench/internal/plot"
	"servebench/internal/report"
	"servebench/internal/summary"
)

// compareSides reads both sides, compares them (package compare) and
// writes the comparison: the warnings on stderr, the plot and the log
// block, then stdout, then the regressions on stderr and, when a --fail-on
// threshold was crossed, ExitRegression.
func compareSides(stdout, stderr io.Writer, stdin io.Reader, cfg config, p *plan) error {
	var groups [2][]summary.Group
	var ins [2]*input
	for i, sd := range p.sides {
		var err error
		if ins[i], err = readSide(stderr, stdin, sd, cfg.Strict, p.percentiles, p.by); err != nil {
			return err
		}
		groups[i] = ins[i].Groups
	}
	res := compare.Compare(groups[0], groups[1], compare.Options{
		Old: p.sides[0].name, New: p.sides[1].name, OldFrom: p.sides[0].from(), NewFrom: p.sides[1].from(),
		Alpha: p.alpha, FailOn: p.thresholds,
	})
	for _, w := range report.CompareWarnings(res) {
		fmt.Fprintf(stderr, "summarize: warning: %s\n", w)
	}
	if len(res.Tables) == 0 {
		return fmt.Errorf("nothing to compare: %s and %s share no load point (label, concurrency, rate)", p.sides[0].name, p.sides[1].name)
	}
	var sides []report.HTMLSide
	for i, in := range ins {
		sides = append(sides, report.HTMLSide{Name: p.sides[i].name, From: p.sides[i].from(), Report: &in.Report, Failures: in.failures, Server: in.server})
	}
	page, err := renderHTML(cfg.HTML, sides, res)
	if err != nil {
		return err
	}
	if err := writeComparison(stdout, stderr, res, cfg, p, groups, page); err != nil {
		return err
	}
	return regressionGate(stderr, res, cfg.FailOn)
}

// readSide reads the files of one side and summarizes its groups with
// their samples, which the comparison tests (in the input's Report).
func readSide(stderr io.Writer, stdin io.Reader, sd side, strict bool, ps []float64, by []string) (*input, error) {
	in, err := read(stderr, stdin, sd.files, summary.WithBy(by))
	if err != nil {
		return nil, err
	}
	if err := checkInput(in, strict, sd.name+" ("+sd.from()+")"); err != nil {
		return nil, err
	}
	in.Percentiles = ps
	in.Groups = in.agg.Sampled(ps)
	summary.JoinServerMetrics(in.Groups, in.server)
	return in, nil
}

// writeComparison renders the comparison for stdout, writes the plot, the
// HTML page and the log block, and only then stdout.
func writeComparison(stdout, stderr io.Writer, res *compare.Result, cfg config, p *plan, groups [2][]summary.Group, page []byte) error {
	out, err := renderComparison(res, p.format, cmdline.UseColor(stdout))
	if err != nil {
		return err
	}
	if cfg.Plot != "" {
		fig, warnings := plot.SidesFigure([2]string{p.sides[0].name, p.sides[1].name}, groups)
		picture, err := renderPlot(stderr, cfg.Plot, fig, warnings)
		if err == nil {
			err = writeRendered(cfg.Plot, picture)
		}
		if err != nil {
			return err
		}
	}
	if err := writeRendered(cfg.HTML, page); err != nil {
		return err
	}
	if cfg.LogFile != "" {
		if err := report.AppendLog(cfg.LogFile, report.CompareLogBlock(res, now())); err != nil {
			return err
		}
	}
	_, err = stdout.Write(out)
	return err
}

// renderComparison writes the comparison in the --format asked for, in
// memory.
func renderComparison(res *compare.Result, format string, colored bool) ([]byte, error) {
	var out bytes.Buffer
	var err error
	switch format {
	case "csv":
		err = report.WriteCompareCSV(&out, res)
	case "json":
		err = report.WriteCompareJSON(&out, res)
	default:
		err = report.WriteCompareText(&out, res, colored)
	}
	return out.Bytes(), err
}

// regressionGate names every regression on stderr and fails with
// ExitRegression when there is one.
func regressionGate(stderr io.Writer, res *compare.Result, failOn string) error {
	for _, reg := range res.Regressions {
		fmt.Fprintf(stderr, "summarize: regression: %s\n", report.RegressionText(reg))
	}
	if n := len(res.Regressions); n > 0 {
		return &cmdline.CodeError{Code: cmdline.ExitRegression, Err: fmt.Errorf("%d %s past --fail-on %s", n, plural(n, "regression"), failOn)}
	}
	return nil
}
