package compare

import (
	"math"
	"slices"

	"servebench/internal/stats"
	"servebench/internal/summary"
)

// Metric is one row of a comparison table.
type Metric struct {
	// Name is the column of summarize's CSV that holds the metric's value
	// for one run (ttft_p99_ms, req_per_s), or error_rate: failed / requests
	// of the measure phase, a fraction.
	Name string
	// Unit is what the values are in: ms, req/s, tok/s; "" for a fraction.
	Unit string
	// LowerIsBetter says which direction is a regression.
	LowerIsBetter bool

	kind       kind
	latency    summary.Metric // kindQuantile: whose samples
	percentile float64        // kindQuantile: 50 is the median (as np.median)
	field      func(*summary.Group) float64
}

type kind int

const (
	kindQuantile   kind = iota // a statistic of latency samples
	kindThroughput             // a per-run number: there is no per-request form
	kindErrorRate              // failed / requests
)

// Metrics are the compared metrics, in table order: the latencies at the
// median and p99, then throughput and errors.
var Metrics = []Metric{
	quantile("ttft_median_ms", summary.TTFT, 50),
	quantile("ttft_p99_ms", summary.TTFT, 99),
	quantile("ttfo_median_ms", summary.TTFO, 50),
	quantile("ttfo_p99_ms", summary.TTFO, 99),
	quantile("tpot_median_ms", summary.TPOT, 50),
	quantile("tpot_p99_ms", summary.TPOT, 99),
	quantile("itl_median_ms", summary.ITL, 50),
	quantile("itl_p99_ms", summary.ITL, 99),
	quantile("latency_median_ms", summary.Latency, 50),
	quantile("latency_p99_ms", summary.Latency, 99),
	{Name: "req_per_s", Unit: "req/s", kind: kindThroughput, field: func(g *summary.Group) float64 { return g.ReqPerS }},
	{Name: "output_tok_per_s", Unit: "tok/s", kind: kindThroughput, field: func(g *summary.Group) float64 { return g.OutputTokPerS }},
	// input_tok_per_s is an embeddings run's throughput (it generates
	// nothing): a row of embeddings tables, and of others when --fail-on
	// names it.
	{Name: "input_tok_per_s", Unit: "tok/s", kind: kindThroughput, field: func(g *summary.Group) float64 { return g.InputTokPerS }},
	{Name: "error_rate", LowerIsBetter: true, kind: kindErrorRate},
}

func quantile(name string, m summary.Metric, p float64) Metric {
	return Metric{Name: name, Unit: "ms", LowerIsBetter: true, kind: kindQuantile, latency: m, percentile: p}
}

// MetricNames lists the names of Metrics.
func MetricNames() []string {
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = m.Name
	}
	return names
}

// PerRun is the metric's value for one run (a group with its Samples),
// exactly as summarize reports it in the column of the same name; NaN when
// the run has none (no samples, no measured window).
func (m Metric) PerRun(g *summary.Group) float64 {
	switch m.kind {
	case kindQuantile:
		return m.statistic(g.Samples[m.latency])
	case kindErrorRate:
		if g.Requests == 0 {
			return math.NaN()
		}
		return float64(g.Failed) / float64(g.Requests)
	}
	return m.field(g)
}

// statistic is the metric's statistic of sorted samples.
func (m Metric) statistic(sorted []float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	if m.percentile == 50 {
		return stats.Median(sorted)
	}
	return stats.Percentile(sorted, m.percentile)
}

// perRequest reports whether the metric has a per-request form: values of
// single requests (or ITL gaps) that can be pooled over the runs of a side.
// Throughput exists only per run.
func (m Metric) perRequest() bool { return m.kind != kindThroughput }

// pooled returns the per-request values of runs, sorted: the metric's
// samples, or for the error rate one 0 or 1 per measured request.
func (m Metric) pooled(runs []summary.Group) []float64 {
	var xs []float64
	for i := range runs {
		r := &runs[i]
		if m.kind == kindErrorRate {
			for range r.Requests - r.Failed {
				xs = append(xs, 0)
			}
			for range r.Failed {
				xs = append(xs, 1)
			}
			continue
		}
		xs = append(xs, r.Samples[m.latency]...)
	}
	slices.Sort(xs)
	return xs
}

// center is the per-request statistic of pooled values: the median or p99
// of the samples, the share of failed requests.
func (m Metric) center(pooled []float64) float64 {
	if m.kind == kindErrorRate {
		if len(pooled) == 0 {
			return math.NaN()
		}
		return stats.Mean(pooled)
	}
	return m.statistic(pooled)
}

// test compares per-request values: the U test for medians and rates, the
// tail test for high percentiles, whose changes the U test barely sees.
func (m Metric) test(old, new []float64, alpha float64) stats.Test {
	if m.kind == kindQuantile && m.percentile != 50 {
		return stats.Exceedance(old, new, m.percentile, alpha)
	}
	return stats.MannWhitney(old, new, alpha)
}
