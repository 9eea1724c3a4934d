// Package summary turns a stream of records into summarize's results: per
// run and load point (Group) the counts, throughput, goodput and the
// statistics of every latency Metric, with the caveats that travel with
// them. Its types are the results model the other packages share: compare
// tests Groups against each other, report and plot write them. It knows no
// flags, files or exit codes (cmd/summarize does).
package summary

import (
	"fmt"
	"net/url"
	"strconv"
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
	Slices      []Slice   // with summarize --slice: each group's time slices, in group order
	// Capacities are the answers of the capacity searches among the
	// groups (see Capacities); nil when none.
	Capacities []Capacity
}

// Point is a load point: what a run's label, concurrency and rate asked
// for. A sweep puts several in one run; a comparison matches the runs of
// the two sides by it.
type Point struct {
	Label       string
	Concurrency int
	Rate        float64 // requests per second; 0 means unpaced
	// Model is set only in runs that mixed models at this point (genload
	// --model a,b): then each model's requests are a point of their own.
	Model string
	// By is the group's values of the record fields summarize --by
	// splits by ("turn=2", "turn=2 model=m"); "" without --by.
	By string
}

// String names the point for people: "latency, concurrency 1, unpaced".
func (p Point) String() string {
	label := p.Label
	if label == "" {
		label = "(no label)"
	}
	rate := "unpaced"
	if p.Rate != 0 {
		rate = strconv.FormatFloat(p.Rate, 'f', -1, 64) + " req/s"
	}
	s := fmt.Sprintf("%s, concurrency %d, %s", label, p.Concurrency, rate)
	if p.Model != "" {
		s += ", model " + p.Model
	}
	if p.By != "" {
		s += ", " + p.By
	}
	return s
}

// Group is one load point of one run: the records sharing run_id, label,
// concurrency and rate. Float fields hold NaN when there is no data for them
// (no measured request, a zero-length window): every format prints that as
// empty, never as a made-up zero.
type Group struct {
	RunID string
	Point
	StartTime time.Time // earliest scheduled_at of the measured attempts; zero when none
	Model     string
	Server    string // scheme://host:port of the records' url (see Server)
	Endpoint  string
	Stream    bool
	MaxTokens int
	// ServerVersion and ModelRoot are what the server said it is (the
	// records' server_version and model_root); "" when it did not say.
	ServerVersion string
	ModelRoot     string

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
	InputTokPerS     float64 // PromptTokens / DurationS: an embeddings run's throughput
	SLO              string  // the objectives (SLO.String); "" without an SLO
	SLOMet           int     // measured requests that succeeded and met every objective
	GoodputReqPerS   float64 // SLOMet / DurationS; NaN without an SLO
	SLOMetRatio      float64 // SLOMet / Requests (failures count as not met); NaN without an SLO
	PromptTokens     int     // prompt tokens of the successful requests
	OutputTokens     int     // output tokens of the successful requests
	ReasoningTokens  int     // of OutputTokens, those spent reasoning
	CachedTokens     int     // of PromptTokens, those the server served from its prefix cache
	CachedShare      float64 // CachedTokens / PromptTokens; NaN without prompt tokens
	ToolCalls        int     // tool calls the successful answers made
	MeanPromptTokens float64
	MeanOutputTokens float64
	TokensFromChunks int // successes whose tokens were counted from chunks, not usage
	// ClientReadLagP99Ms is the 99th percentile of the successes'
	// read_lag_p99_ms (how long after their arrival genload handled each
	// request's output chunks), ClientReadLagMaxMs the worst single lag;
	// NaN without kernel times.
	ClientReadLagP99Ms float64
	ClientReadLagMaxMs float64
	readLate           bool
	Sessions           int // conversations among the measured requests (distinct session_id)
	Turns              int // measured requests that are a conversation's turn
	// Search and SearchMinGoodput mark a load point of a capacity search
	// (genload --search: the records' search, search_min_goodput); ""
	// and 0 otherwise. Capacities reads them.
	Search           string
	SearchMinGoodput float64
	// SearchOutcomes are, for a search's group, whether each measured
	// request met the SLO, in seq order (the order they were sent), for
	// stats.OutcomesVerdict.
	SearchOutcomes []bool
	// IsCapacity marks the row a Capacity sums its search into
	// (Capacity.Row); Capacity and CapacityFailed are its answer, NaN
	// when none.
	IsCapacity               bool
	Capacity, CapacityFailed float64
	Metrics                  [NumMetrics]*stats.Summary
	Warnings                 []string // caveats that travel with the numbers

	// Samples are the samples of each metric, sorted, in milliseconds,
	// kept only when asked for (Aggregator.Sampled): comparisons test
	// them, plots draw them.
	Samples [NumMetrics][]float64
	// ServerMetrics is what the server published during the window
	// (genload --server-metrics samples of the run, joined by
	// JoinServerMetrics); nil without samples of the run.
	ServerMetrics *ServerStats
	// Alerts are the warnings (also in Warnings) that question the run
	// itself, which summarize repeats on stderr because a CSV on stdout
	// has no place for them: the load point did not get its load, or the
	// server ignored ignore_eos.
	Alerts []string
}

// ReadLate reports whether genload handled the group's tokens late (its
// read lag, or chunks that waited to be read together; see
// readLagWarning): the group carries the warning that says so.
func (g *Group) ReadLate() bool { return g.readLate }

// TTFODiffers reports whether the group's TTFO is not a copy of its TTFT:
// the model reasoned before answering (or some answers came later than
// their first output). Reports show TTFO where it tells something.
func (g *Group) TTFODiffers() bool {
	o, t := g.Metrics[TTFO], g.Metrics[TTFT]
	if o == nil {
		return false
	}
	return t == nil || o.N != t.N || o.Mean != t.Mean || o.Min != t.Min || o.Max != t.Max || o.Median != t.Median
}

// String names the group for people: "run r1, latency, concurrency 1,
// unpaced".
func (g *Group) String() string { return "run " + g.RunID + ", " + g.Point.String() }

// Metric names a latency metric; its samples come from successful requests.
type Metric int

// The metrics, in report order.
const (
	TTFT         Metric = iota // time to first token: output of any kind, reasoning included
	TTFO                       // time to first answer token: content or a tool call
	TPOT                       // time per output token after the first
	ITL                        // inter-token latency, pooled over requests
	Latency                    // end-to-end latency from send
	Queue                      // scheduled send to actual send: the client's own delay
	SchedLatency               // Queue + Latency: what an on-schedule user saw
	NumMetrics   = iota
)

var metricKeys = [NumMetrics]string{TTFT: "ttft", TTFO: "ttfo", TPOT: "tpot", ITL: "itl", Latency: "latency", Queue: "queue", SchedLatency: "sched_latency"}

// Key is the metric's name in column names, as in ttft_mean_ms.
func (m Metric) Key() string { return metricKeys[m] }

// Server names the server a record's url points at: scheme://host:port,
// without credentials, path or query, so that rows from two hosts serving
// the same model can be told apart (judging a hardware upgrade) and a
// comparison can see it pits two servers. A url it cannot parse is kept
// as it is; "" stays "".
func Server(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL
	}
	return u.Scheme + "://" + u.Host
}
