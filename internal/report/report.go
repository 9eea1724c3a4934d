// Package report writes summarize's results: the text report people read
// (laid out like `vllm bench serve`), CSV for spreadsheets, JSON for
// programs, the append-only CSV and log files that collect runs over time,
// and the same for comparisons. It formats; it computes nothing: the
// numbers come from package summary (a Report) and package compare (a
// Result).
package report

import (
	"math"

	"servebench/internal/stats"
	"servebench/internal/summary"
)

// metricText is how the text report names each metric: the title of its
// section and the name on each of its lines, as vLLM's report does.
var metricText = [summary.NumMetrics]struct{ title, short string }{
	summary.TTFT:         {"Time to First Token", "TTFT"},
	summary.TTFO:         {"Time to First Answer Token", "TTFO"},
	summary.TPOT:         {"Time per Output Token (excl. 1st token)", "TPOT"},
	summary.ITL:          {"Inter-token Latency", "ITL"},
	summary.Latency:      {"End-to-end Latency", "E2EL"},
	summary.Queue:        {"Client Queue Delay", "Queue"},
	summary.SchedLatency: {"Latency from Schedule (queue + E2EL)", "Sched. E2EL"},
}

// statNames are the fixed statistics of every metric, before its percentiles.
var statNames = []string{"mean", "median", "std", "min", "max"}

// metricValues lists the statistics of s in column order (statNames, then one
// per percentile), NaN for a metric without samples.
func metricValues(s *stats.Summary, nPercentiles int) []float64 {
	vs := make([]float64, len(statNames)+nPercentiles)
	if s == nil {
		for i := range vs {
			vs[i] = math.NaN()
		}
		return vs
	}
	copy(vs, []float64{s.Mean, s.Median, s.Std, s.Min, s.Max})
	copy(vs[len(statNames):], s.Percentiles)
	return vs
}

// percentileKey names a percentile in column names: 99 -> p99, 99.9 -> p99_9.
func percentileKey(p float64) string {
	b := []byte("p" + stats.FormatPercentile(p))
	for i, c := range b {
		if c == '.' {
			b[i] = '_'
		}
	}
	return string(b)
}

// timeLayout writes start times in RFC 3339 UTC with fixed milliseconds, so
// they sort as text.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"
