package main

import (
	"fmt"
	"io"
	"math"

	"servebench/internal/cmdline"
	"servebench/internal/plot"
	"servebench/internal/report"
	"servebench/internal/summary"
)

// summarizeRuns reads the records, summarizes every run and load point,
// repeats on stderr the warnings that question a run (a load point short
// of its rate, outputs short of max_tokens under ignore_eos), writes the
// outputs and then applies the goodput gate, so that a failed gate still
// leaves every output written.
func summarizeRuns(stdout, stderr io.Writer, stdin io.Reader, cfg config, p *plan) error {
	var slicer *summary.Slicer
	if cfg.Slice > 0 {
		slicer = summary.NewSlicer(cfg.Slice)
	}
	in, err := readSliced(stderr, stdin, cfg.Files, slicer, summary.WithSLO(p.slo), summary.WithBy(p.by))
	if err != nil {
		return err
	}
	if err := checkInput(in, cfg.Strict, ""); err != nil {
		return err
	}
	rep := &in.Report
	rep.Percentiles = p.percentiles
	if cfg.Plot != "" || cfg.HTML != "" {
		rep.Groups = in.agg.Sampled(p.percentiles) // samples only to draw them
	} else {
		rep.Groups = in.agg.Groups(p.percentiles)
	}
	summary.JoinServerMetrics(rep.Groups, in.server)
	if slicer != nil {
		rep.Slices = slicer.Slices(rep.Groups, p.percentiles, in.server)
	}
	rep.Capacities = summary.Capacities(rep.Groups)
	alert(stderr, rep.Groups)
	var picture []byte
	if cfg.Plot != "" {
		fig, warnings := plot.GroupsFigure(rep.Groups)
		plot.AddTimelines(fig, rep.Slices, in.server)
		fig.Capacities = rep.Capacities
		if picture, err = renderPlot(stderr, cfg.Plot, fig, warnings); err != nil {
			return err
		}
	}
	page, err := renderHTML(cfg.HTML, []report.HTMLSide{{Report: rep, Failures: in.failures, Server: in.server}}, nil)
	if err != nil {
		return err
	}
	if err := write(stdout, rep, p.format, cfg, picture, page); err != nil {
		return err
	}
	if err := goodputGate(stderr, rep.Groups, p.minRatio); err != nil {
		return err
	}
	return readLagGate(rep.Groups, cfg.Strict)
}

// readLagGate fails under --strict when genload read some group's tokens
// late (summary.Group.ReadLate): its timings are not to be trusted, as
// bad input lines are not.
func readLagGate(groups []summary.Group, strict bool) error {
	if !strict {
		return nil
	}
	late := 0
	for i := range groups {
		if groups[i].ReadLate() {
			late++
		}
	}
	if late > 0 {
		return &cmdline.CodeError{Code: cmdline.ExitBadInput, Err: fmt.Errorf("genload read tokens late in %d of %d %s (--strict)", late, len(groups), plural(len(groups), "group"))}
	}
	return nil
}

// alert repeats on stderr the warnings that question a run
// (summary.Group.Alerts), naming its group.
func alert(stderr io.Writer, groups []summary.Group) {
	for i := range groups {
		for _, a := range groups[i].Alerts {
			fmt.Fprintf(stderr, "summarize: warning: %s: %s\n", groups[i].String(), a)
		}
	}
}

// goodputGate checks every group's slo_met_ratio against
// --min-goodput-ratio (least; nil for no gate) and names each group below
// it on stderr, with its shortfall. A group without measured requests
// fails too: a gate passes on evidence, not on its absence.
func goodputGate(stderr io.Writer, groups []summary.Group, least *float64) error {
	if least == nil {
		return nil
	}
	below := 0
	for i := range groups {
		if msg := shortfall(&groups[i], *least); msg != "" {
			fmt.Fprintf(stderr, "summarize: goodput: %s: %s\n", groups[i].String(), msg)
			below++
		}
	}
	if below > 0 {
		return &cmdline.CodeError{Code: cmdline.ExitGoodput, Err: fmt.Errorf("%d of %d %s below --min-goodput-ratio %v", below, len(groups), plural(len(groups), "group"), *least)}
	}
	return nil
}

// shortfall says how g misses the gate least, "" when it does not.
func shortfall(g *summary.Group, least float64) string {
	switch {
	case g.Requests == 0:
		return fmt.Sprintf("no measured requests to judge against --min-goodput-ratio %v", least)
	case g.SLOMetRatio < least:
		missing := goodNeeded(g.Requests, least) - g.SLOMet
		return fmt.Sprintf("slo_met_ratio %.3f (%d of %d requests met %s) is %.3f below --min-goodput-ratio %v: %d more good %s needed",
			g.SLOMetRatio, g.SLOMet, g.Requests, g.SLO, least-g.SLOMetRatio, least, missing, plural(missing, "request"))
	}
	return ""
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
