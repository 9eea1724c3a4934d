// Package report writes summaries of benchmark runs: the text report people
// read (laid out like `vllm bench serve`), CSV for spreadsheets, JSON for
// programs, and the append-only CSV and log files that collect runs over
// time. It formats; it computes nothing (see package summary and stats).
package report

import (
	"math"
	"time"

	"servebench/internal/stats"
)

// Report is everything summarize knows after reading its input.
type Report struct {
	Groups      []Group
	Records     int       // valid records read, all phases
	BadLines    int       // input lines that were not records
	Percentiles []float64 // the percentiles every metric reports, in order
	Warnings    []string  // caveats about the whole input (e.g. newer schema)
}

// Group is one load point of one run: the records sharing run_id, label,
// concurrency and rate. Float fields hold NaN when there is no data for them
// (no measured request, a zero-length window): every format prints that as
// empty, never as a made-up zero.
type Group struct {
	RunID       string
	Label       string
	StartTime   time.Time // earliest scheduled_at of the measured attempts; zero when none
	Model       string
	Endpoint    string
	Stream      bool
	Concurrency int
	Rate        float64 // requests per second; 0 means unpaced
	MaxTokens   int

	Requests    int   // measured attempts
	OK          int   // measured successes
	Failed      int   // measured failures: the sum of Errors and ErrorsOther
	Errors      []int // failures per kind, aligned with record.ErrorKinds
	ErrorsOther int   // failures of a kind this build does not know, or none
	Warmup      int   // warmup attempts, excluded from every statistic

	DurationS        float64 // first scheduled send to last completion, measured attempts
	ReqPerS          float64 // OK / DurationS
	OutputTokPerS    float64 // OutputTokens / DurationS
	TotalTokPerS     float64 // (PromptTokens + OutputTokens) / DurationS
	SLO              string  // the --slo objectives (canonical form); "" without --slo
	SLOMet           int     // measured requests that succeeded and met every objective
	GoodputReqPerS   float64 // SLOMet / DurationS; NaN without --slo
	SLOMetRatio      float64 // SLOMet / Requests (failures count as not met); NaN without --slo
	PromptTokens     int     // prompt tokens of the successful requests
	OutputTokens     int     // output tokens of the successful requests
	MeanPromptTokens float64
	MeanOutputTokens float64
	TokensFromChunks int // successes whose tokens were counted from chunks, not usage
	Metrics          [NumMetrics]*stats.Summary
	Warnings         []string // caveats that travel with the numbers
}

// Metric names a latency metric; its samples come from successful requests.
type Metric int

// The metrics, in report order.
const (
	TTFT         Metric = iota // time to first token
	TPOT                       // time per output token after the first
	ITL                        // inter-token latency, pooled over requests
	Latency                    // end-to-end latency from send
	Queue                      // scheduled send to actual send: the client's own delay
	SchedLatency               // Queue + Latency: what an on-schedule user saw
	NumMetrics   = iota
)

var metricInfo = [NumMetrics]struct{ key, title, short string }{
	TTFT:         {"ttft", "Time to First Token", "TTFT"},
	TPOT:         {"tpot", "Time per Output Token (excl. 1st token)", "TPOT"},
	ITL:          {"itl", "Inter-token Latency", "ITL"},
	Latency:      {"latency", "End-to-end Latency", "E2EL"},
	Queue:        {"queue", "Client Queue Delay", "Queue"},
	SchedLatency: {"sched_latency", "Latency from Schedule (queue + E2EL)", "Sched. E2EL"},
}

// Key is the metric's column prefix, as in ttft_mean_ms.
func (m Metric) Key() string { return metricInfo[m].key }

// Title heads the metric's section of the text report.
func (m Metric) Title() string { return metricInfo[m].title }

// Short names the metric on each line of the text report.
func (m Metric) Short() string { return metricInfo[m].short }

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
