// Package compare decides whether two sets of benchmark runs differ, in the
// manner of benchstat: for every load point both sides ran and every metric,
// the old and new values, the change, and whether the change is
// statistically significant; then which --fail-on thresholds it crosses.
// It computes and knows nothing of files or formats: it takes the groups
// of package summary (with their Samples), one per run and load point, and
// package report writes the Result.
//
// # Method
//
// Requests of one run are not independent samples: they share the server's
// state, its warm caches and the machine's load at that time. The honest
// unit is the run. When both sides hold at least MinRuns runs of a load
// point, every metric is compared per run: one value per run (its TTFT p99,
// its req/s, exactly as summarize reports it), the median of those values
// with a 95% confidence interval, and a Mann-Whitney U test between the two
// sides' values (golang.org/x/perf/benchmath, as benchstat).
//
// With fewer runs, latencies and the error rate are compared per request
// (per ITL gap for ITL): the samples of a side's runs are pooled, medians
// are compared with the U test, p99s with a tail test (stats.Exceedance)
// and the error rate with the U test on one 0/1 value per request. These
// p-values are optimistic, because the samples are not independent; the
// table says the test is per request and a warning says it is weaker.
// Throughput exists only per run and is always compared per run.
//
// The rows of one table are a family of tests: their p-values are adjusted
// with Holm's method (stats.Holm), so that a table of identical runs shows
// a false "significant" row in at most alpha of comparisons rather than in
// nearly half of them. Rows whose test could not reach alpha whatever the
// data (too few values, all values equal) are left out of the family.
package compare

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"servebench/internal/openai"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

// DefaultAlpha is the significance level, as benchstat's default.
const DefaultAlpha = 0.05

// MinRuns is the number of runs each side needs for the per-run test.
// The U test's smallest possible p-value is 2/C(2n, n): 0.1 for 3 runs a
// side, 0.029 for 4, 0.0079 for 5, 0.0022 for 6. After Holm's adjustment
// over a full table of 11 metrics a row needs p <= 0.05/11 = 0.0045, which
// 6 runs a side can reach and 5 cannot; 6 is also the smallest sample with
// a finite 95% confidence interval of the median. Ten runs a side are
// better: then a change shows even when the runs overlap a little.
const MinRuns = 6

// Options configure Compare.
type Options struct {
	Old, New string // the names of the two sides, for messages
	// OldFrom and NewFrom say where the sides were read from (file names),
	// for the reader of the result.
	OldFrom, NewFrom string
	Alpha            float64     // significance level; 0 means DefaultAlpha
	FailOn           []Threshold // regressions to report
}

// Result is a whole comparison.
type Result struct {
	Old, New         string
	OldFrom, NewFrom string
	Alpha            float64
	Tables           []Table
	Regressions      []Regression
	Warnings         []string // about the comparison as a whole
}

// Table compares the runs of one load point.
type Table struct {
	Point            summary.Point
	OldRuns, NewRuns int
	// PerRun is true when the rows compare per-run values; false when
	// latencies and errors are compared per request (a weaker test).
	PerRun bool
	Rows   []Row
	// Server compares what the servers published (genload
	// --server-metrics), untested; empty without samples on either side.
	Server   []ServerRow
	Warnings []string
}

// Row is one metric of a table.
type Row struct {
	Metric   Metric
	Old, New Estimate
	// Delta is New.Center - Old.Center, in the metric's unit; DeltaRel the
	// relative change New/Old - 1 (0 when both are 0, ±Inf when only Old is).
	Delta, DeltaRel float64
	PerRun          bool       // whether this row compares per-run values
	Test            stats.Test // the test and its unadjusted p-value
	// P is the Holm-adjusted p-value; NaN when the test did not run.
	P           float64
	Significant bool // P <= alpha
	Verdict     Verdict
	Crossed     []Threshold // --fail-on thresholds this row crossed
}

// Estimate is one side of a row.
type Estimate struct {
	// Center is the median of the per-run values, or the statistic of the
	// pooled per-request values; NaN when the side has no values.
	Center float64
	// Lo and Hi bound the 95% confidence interval of a per-run median
	// (infinite with fewer than 6 runs); NaN for per-request values.
	Lo, Hi float64
	N      int // values: runs, or requests (ITL gaps) when per request
}

// Verdict is what a row says in one word.
type Verdict string

// The verdicts. "~" is benchstat's: no significant difference, which is
// not the same as no difference.
const (
	Worse    Verdict = "worse"
	Better   Verdict = "better"
	Same     Verdict = "~"
	Untested Verdict = "untested" // too few values for the test to say anything
)

// Regression is a significant change that crossed a --fail-on threshold.
type Regression struct {
	Point     summary.Point
	Row       *Row
	Threshold Threshold
}

// Compare compares the runs of the old and new sides, load point by load
// point, and applies opt.FailOn. A run is a group with its Samples
// (summary.Aggregator.Sampled); a group without measured requests (warmup
// only) is no run and is left out.
func Compare(old, new []summary.Group, opt Options) *Result {
	if opt.Alpha == 0 {
		opt.Alpha = DefaultAlpha
	}
	res := &Result{Old: opt.Old, New: opt.New, OldFrom: opt.OldFrom, NewFrom: opt.NewFrom, Alpha: opt.Alpha}
	for _, pair := range match(measured(old), measured(new), res) {
		t := compareRuns(pair.point, pair.old, pair.new, opt)
		t.Server = serverRows(pair.old, pair.new)
		res.Tables = append(res.Tables, t)
	}
	for i := range res.Tables {
		t := &res.Tables[i]
		for j := range t.Rows {
			res.Regressions = append(res.Regressions, gate(t, &t.Rows[j], opt.FailOn)...)
		}
	}
	return res
}

// measured drops the groups without measured requests.
func measured(groups []summary.Group) []summary.Group {
	var runs []summary.Group
	for i := range groups {
		if groups[i].Requests > 0 {
			runs = append(runs, groups[i])
		}
	}
	return runs
}

type pair struct {
	point    summary.Point
	old, new []summary.Group
}

// match pairs the runs of the two sides by load point, in the order the
// old side first ran them. A point on one side only is reported, not
// compared. When the sides share no point but each has exactly one, they
// are compared anyway (old and new runs often carry different labels),
// with a warning.
func match(old, new []summary.Group, res *Result) []pair {
	oldPts, oldBy := byPoint(old)
	newPts, newBy := byPoint(new)
	if len(oldPts) == 1 && len(newPts) == 1 && oldPts[0] != newPts[0] {
		res.Warnings = append(res.Warnings, fmt.Sprintf("comparing different load points: %s (%s) with %s (%s)",
			oldPts[0], res.Old, newPts[0], res.New))
		return []pair{{newPts[0], oldBy[oldPts[0]], newBy[newPts[0]]}}
	}
	var pairs []pair
	for _, p := range oldPts {
		if runs, ok := newBy[p]; ok {
			pairs = append(pairs, pair{p, oldBy[p], runs})
		} else {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: only in %s, not compared", p, res.Old))
		}
	}
	for _, p := range newPts {
		if _, ok := oldBy[p]; !ok {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: only in %s, not compared", p, res.New))
		}
	}
	return pairs
}

func byPoint(runs []summary.Group) ([]summary.Point, map[summary.Point][]summary.Group) {
	var order []summary.Point
	by := make(map[summary.Point][]summary.Group)
	for _, r := range runs {
		if _, ok := by[r.Point]; !ok {
			order = append(order, r.Point)
		}
		by[r.Point] = append(by[r.Point], r)
	}
	return order, by
}

// compareRuns builds the table of one load point.
func compareRuns(p summary.Point, old, new []summary.Group, opt Options) Table {
	t := Table{Point: p, OldRuns: len(old), NewRuns: len(new), PerRun: len(old) >= MinRuns && len(new) >= MinRuns}
	if !t.PerRun {
		t.Warnings = append(t.Warnings, fmt.Sprintf("%s: %s has %d %s, %s %d: comparing latencies and errors per request, which is weaker: "+
			"requests of one run share the server's state and are not independent samples, so p-values are optimistic; "+
			"a per-run test needs at least %d runs a side", p, opt.Old, len(old), plural(len(old), "run"), opt.New, len(new), MinRuns))
	}
	t.Warnings = append(t.Warnings, differences(p, old, new, opt)...)
	ttfoCopy := !ttfoDiffers(old) && !ttfoDiffers(new)
	for _, m := range Metrics {
		if ttfoCopy && m.kind == kindQuantile && m.latency == summary.TTFO && !named(opt.FailOn, m.Name) {
			continue // a copy of the TTFT rows: neither side's model reasoned
		}
		if m.Name == "input_tok_per_s" && !embeddingRuns(old) && !embeddingRuns(new) && !named(opt.FailOn, m.Name) {
			continue // output_tok_per_s is the throughput of what generates
		}
		if row, ok := compareMetric(m, old, new, t.PerRun, opt.Alpha); ok {
			t.Rows = append(t.Rows, row)
		}
	}
	adjust(t.Rows, opt.Alpha)
	return t
}

// ttfoDiffers reports whether any run's TTFO is not a copy of its TTFT.
func ttfoDiffers(runs []summary.Group) bool {
	for i := range runs {
		if runs[i].TTFODiffers() {
			return true
		}
	}
	return false
}

// embeddingRuns reports whether any run is of the embeddings endpoint.
func embeddingRuns(runs []summary.Group) bool {
	for i := range runs {
		if runs[i].Endpoint == openai.EndpointEmbeddings {
			return true
		}
	}
	return false
}

// named reports whether a threshold names the metric.
func named(ths []Threshold, metric string) bool {
	for _, th := range ths {
		if th.Metric == metric {
			return true
		}
	}
	return false
}

// compareMetric fills one row; ok is false when neither side has a value
// (TTFT of runs that did not stream).
func compareMetric(m Metric, old, new []summary.Group, perRun bool, alpha float64) (Row, bool) {
	row := Row{Metric: m, PerRun: perRun || !m.perRequest(), P: math.NaN()}
	var oldVals, newVals []float64
	if row.PerRun {
		oldVals, newVals = perRunValues(m, old), perRunValues(m, new)
		row.Old, row.New = perRunEstimate(oldVals), perRunEstimate(newVals)
		row.Test = stats.MannWhitney(oldVals, newVals, alpha)
	} else {
		oldVals, newVals = m.pooled(old), m.pooled(new)
		row.Old = Estimate{Center: m.center(oldVals), Lo: math.NaN(), Hi: math.NaN(), N: len(oldVals)}
		row.New = Estimate{Center: m.center(newVals), Lo: math.NaN(), Hi: math.NaN(), N: len(newVals)}
		row.Test = m.test(oldVals, newVals, alpha)
	}
	if len(oldVals) == 0 && len(newVals) == 0 {
		return row, false
	}
	row.Delta = row.New.Center - row.Old.Center
	row.DeltaRel = relative(row.Old.Center, row.New.Center)
	return row, true
}

func perRunValues(m Metric, runs []summary.Group) []float64 {
	var vs []float64
	for i := range runs {
		if v := m.PerRun(&runs[i]); !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	return vs
}

func perRunEstimate(vs []float64) Estimate {
	c, lo, hi := stats.MedianCI(vs)
	return Estimate{Center: c, Lo: lo, Hi: hi, N: len(vs)}
}

// relative is new/old - 1: 0 when both are 0, ±Inf when only old is.
func relative(old, new float64) float64 {
	switch {
	case old == new:
		return 0
	case old == 0:
		return math.Inf(int(math.Copysign(1, new)))
	}
	return new/old - 1
}

// adjust applies Holm's method to the rows whose test ran and sets each
// row's verdict.
func adjust(rows []Row, alpha float64) {
	var ps []float64
	var idx []int
	for i := range rows {
		if rows[i].Test.Ran {
			ps = append(ps, rows[i].Test.P)
			idx = append(idx, i)
		}
	}
	for k, p := range stats.Holm(ps) {
		rows[idx[k]].P = p
	}
	for i := range rows {
		r := &rows[i]
		r.Significant = r.Test.Ran && r.P <= alpha
		r.Verdict = verdict(r)
	}
}

func verdict(r *Row) Verdict {
	switch {
	case !r.Test.Ran && r.Old.Center == r.New.Center:
		return Same // all values equal, or too few but identical
	case !r.Test.Ran:
		return Untested
	case !r.Significant || r.Delta == 0 || math.IsNaN(r.Delta):
		return Same
	case (r.Delta > 0) == r.Metric.LowerIsBetter:
		return Worse
	}
	return Better
}

// differences warns when the sides asked for different things at the same
// load point: the comparison may still be what the user wants (a new model,
// other hardware), but the reader should know.
func differences(p summary.Point, old, new []summary.Group, opt Options) []string {
	var ws []string
	o, n := &old[0], &new[0]
	for _, d := range []struct {
		field    string
		old, new string
	}{
		{"model", o.Model, n.Model},
		{"server", o.Server, n.Server},
		{"endpoint", o.Endpoint, n.Endpoint},
		{"stream", strconv.FormatBool(o.Stream), strconv.FormatBool(n.Stream)},
		{"max_tokens", strconv.Itoa(o.MaxTokens), strconv.Itoa(n.MaxTokens)},
	} {
		if d.old != d.new {
			ws = append(ws, fmt.Sprintf("%s: %s differs: %q in %s, %q in %s", p, d.field, d.old, opt.Old, d.new, opt.New))
		}
	}
	// What the servers said they are: known on both sides and different
	// means another build or other weights, whatever the URLs say.
	for _, d := range []struct {
		field    string
		old, new string
	}{
		{"server build (server_version)", o.ServerVersion, n.ServerVersion},
		{"model weights (model_root)", o.ModelRoot, n.ModelRoot},
	} {
		if d.old != "" && d.new != "" && d.old != d.new {
			ws = append(ws, fmt.Sprintf("%s: %s differs: %q in %s, %q in %s", p, d.field, d.old, opt.Old, d.new, opt.New))
		}
	}
	ws = append(ws, pooled(p, old, opt.Old)...)
	return append(ws, pooled(p, new, opt.New)...)
}

// pooled warns when one side's runs at a load point come from more than
// one server or model: they are pooled as if they were one, which a
// baseline assembled from several hosts' raw files silently does.
func pooled(p summary.Point, runs []summary.Group, side string) []string {
	var ws []string
	for _, f := range []struct {
		field string
		of    func(*summary.Group) string
	}{{"servers", func(g *summary.Group) string { return g.Server }}, {"models", func(g *summary.Group) string { return g.Model }}} {
		var seen []string
		for i := range runs {
			if v := f.of(&runs[i]); !slices.Contains(seen, v) {
				seen = append(seen, v)
			}
		}
		if len(seen) > 1 {
			ws = append(ws, fmt.Sprintf("%s: %s pools runs of %d %s (%s) as one", p, side, len(seen), f.field, strings.Join(seen, ", ")))
		}
	}
	return ws
}

// gate returns the regressions of one row and warns (in t) about the
// thresholds that could not be checked because the row was not tested.
func gate(t *Table, r *Row, ths []Threshold) []Regression {
	var regs []Regression
	for _, th := range ths {
		if th.Metric != r.Metric.Name {
			continue
		}
		if r.Verdict == Untested {
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s: the limit %s cannot fail: %s is not tested (%s: no split of these values could be significant)",
				t.Point, th, r.Metric.Name, r.Test.Why))
			continue
		}
		if r.Significant && th.Crossed(r.Delta, r.DeltaRel) {
			r.Crossed = append(r.Crossed, th)
			regs = append(regs, Regression{Point: t.Point, Row: r, Threshold: th})
		}
	}
	return regs
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
