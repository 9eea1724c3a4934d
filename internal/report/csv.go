package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/gocarina/gocsv"

	"servebench/internal/summary"
)

// row holds the fixed columns of one group. gocsv turns it into cells through
// the csv tags; encoding/json writes the same fields through the json tags, so
// both formats share one list of names.
//
// The goodput columns (slo, goodput_req_per_s, slo_met_ratio) are always
// present, empty without --slo (JSON: "" and null): an append-only file that
// collects runs with and without objectives keeps one header, and slo says
// which objectives each row's goodput was judged by.
//
// The metric columns (ttft_mean_ms ... sched_latency_p99_ms) are not fields:
// their percentiles come from --percentiles at run time, which struct tags
// cannot express. WriteCSV therefore lets gocsv marshal the fixed part into a
// cellCollector (gocsv.MarshalCSV accepts any gocsv.CSVWriter), appends the
// metric cells to each collected row, and writes the full rows through
// gocsv's SafeCSVWriter over encoding/csv, which quotes per RFC 4180.
//
// Cell types decide formatting: text cells are neutralised against formula
// injection, numbers never are.
type row struct {
	RunID            text    `csv:"run_id" json:"run_id"`
	Label            text    `csv:"label" json:"label"`
	StartTime        instant `csv:"start_time" json:"start_time"`
	Model            text    `csv:"model" json:"model"`
	Server           text    `csv:"server" json:"server"`
	Endpoint         text    `csv:"endpoint" json:"endpoint"`
	Stream           bool    `csv:"stream" json:"stream"`
	Concurrency      int     `csv:"concurrency" json:"concurrency"`
	Rate             exact   `csv:"rate" json:"rate"`
	MaxTokens        int     `csv:"max_tokens" json:"max_tokens"`
	Requests         int     `csv:"requests" json:"requests"`
	OK               int     `csv:"ok" json:"ok"`
	Failed           int     `csv:"failed" json:"failed"`
	ErrorsConnect    int     `csv:"errors_connect" json:"errors_connect"`
	ErrorsTimeout    int     `csv:"errors_timeout" json:"errors_timeout"`
	ErrorsHTTP       int     `csv:"errors_http" json:"errors_http"`
	ErrorsStream     int     `csv:"errors_stream" json:"errors_stream"`
	ErrorsProtocol   int     `csv:"errors_protocol" json:"errors_protocol"`
	ErrorsCanceled   int     `csv:"errors_canceled" json:"errors_canceled"`
	ErrorsClient     int     `csv:"errors_client" json:"errors_client"`
	ErrorsOther      int     `csv:"errors_other" json:"errors_other"`
	Warmup           int     `csv:"warmup" json:"warmup"`
	DurationS        fixed3  `csv:"duration_s" json:"duration_s"`
	ReqPerS          fixed3  `csv:"req_per_s" json:"req_per_s"`
	OutputTokPerS    fixed3  `csv:"output_tok_per_s" json:"output_tok_per_s"`
	TotalTokPerS     fixed3  `csv:"total_tok_per_s" json:"total_tok_per_s"`
	InputTokPerS     fixed3  `csv:"input_tok_per_s" json:"input_tok_per_s"`
	SLO              text    `csv:"slo" json:"slo"`
	GoodputReqPerS   fixed3  `csv:"goodput_req_per_s" json:"goodput_req_per_s"`
	SLOMetRatio      fixed3  `csv:"slo_met_ratio" json:"slo_met_ratio"`
	PromptTokens     int     `csv:"prompt_tokens" json:"prompt_tokens"`
	OutputTokens     int     `csv:"output_tokens" json:"output_tokens"`
	ReasoningTokens  int     `csv:"reasoning_tokens" json:"reasoning_tokens"`
	CachedTokens     int     `csv:"cached_tokens" json:"cached_tokens"`
	CachedShare      fixed3  `csv:"cached_share" json:"cached_share"`
	ToolCalls        int     `csv:"tool_calls" json:"tool_calls"`
	MeanPromptTokens fixed3  `csv:"mean_prompt_tokens" json:"mean_prompt_tokens"`
	MeanOutputTokens fixed3  `csv:"mean_output_tokens" json:"mean_output_tokens"`
	TokensFromChunks int     `csv:"tokens_from_chunks" json:"tokens_from_chunks"`
	ReadLagP99Ms     fixed3  `csv:"client_read_lag_p99_ms" json:"client_read_lag_p99_ms"`
	ReadLagMaxMs     fixed3  `csv:"client_read_lag_max_ms" json:"client_read_lag_max_ms"`
	By               text    `csv:"by" json:"by"`
	Sessions         int     `csv:"sessions" json:"sessions"`
	Turns            int     `csv:"turns" json:"turns"`
}

// errorColumns are the row's per-kind error counts in record.ErrorKinds
// order; a test keeps the two lists in step.
func (r *row) errorColumns() []*int {
	return []*int{&r.ErrorsConnect, &r.ErrorsTimeout, &r.ErrorsHTTP, &r.ErrorsStream, &r.ErrorsProtocol, &r.ErrorsCanceled, &r.ErrorsClient}
}

func newRow(g *summary.Group) row {
	r := row{
		RunID: text(g.RunID), Label: text(g.Label), StartTime: instant{g.StartTime},
		Model: text(g.Model), Server: text(g.Server), Endpoint: text(g.Endpoint), Stream: g.Stream,
		Concurrency: g.Concurrency, Rate: exact(g.Rate), MaxTokens: g.MaxTokens,
		Requests: g.Requests, OK: g.OK, Failed: g.Failed, ErrorsOther: g.ErrorsOther, Warmup: g.Warmup,
		DurationS: fixed3(g.DurationS), ReqPerS: fixed3(g.ReqPerS),
		OutputTokPerS: fixed3(g.OutputTokPerS), TotalTokPerS: fixed3(g.TotalTokPerS),
		InputTokPerS: fixed3(g.InputTokPerS),
		SLO:          text(g.SLO), GoodputReqPerS: fixed3(g.GoodputReqPerS), SLOMetRatio: fixed3(g.SLOMetRatio),
		PromptTokens: g.PromptTokens, OutputTokens: g.OutputTokens,
		ReasoningTokens: g.ReasoningTokens, CachedTokens: g.CachedTokens, ToolCalls: g.ToolCalls,
		CachedShare:      fixed3(g.CachedShare),
		MeanPromptTokens: fixed3(g.MeanPromptTokens), MeanOutputTokens: fixed3(g.MeanOutputTokens),
		TokensFromChunks: g.TokensFromChunks,
		ReadLagP99Ms:     fixed3(g.ClientReadLagP99Ms), ReadLagMaxMs: fixed3(g.ClientReadLagMaxMs),
		By: text(g.By), Sessions: g.Sessions, Turns: g.Turns,
	}
	cols := r.errorColumns()
	for i, n := range g.Errors {
		if i < len(cols) {
			*cols[i] = n
		} else {
			r.ErrorsOther += n // a kind added to record without a column here
		}
	}
	return r
}

// metricColumns names the metric columns: for each metric its statistics,
// then its percentiles, all in milliseconds (ttft_mean_ms, ttft_p99_9_ms).
func metricColumns(ps []float64) []string {
	var cols []string
	for m := range summary.Metric(summary.NumMetrics) {
		for _, s := range statNames {
			cols = append(cols, m.Key()+"_"+s+"_ms")
		}
		for _, p := range ps {
			cols = append(cols, m.Key()+"_"+percentileKey(p)+"_ms")
		}
	}
	return cols
}

// serverColumns are the columns of what the server published during the
// window (summary.ServerStats), after the metric columns: empty without
// genload --server-metrics samples of the run.
var serverColumns = []string{
	"server_samples", "server_running_mean", "server_running_max", "server_waiting_mean", "server_waiting_max",
	"server_kv_cache_usage_mean", "server_kv_cache_usage_max", "server_prefix_cache_hit_rate", "server_preemptions",
	"server_gen_tok_per_s", "server_spec_decode_acceptance",
	"server_ttft_mean_ms", "server_queue_mean_ms", "server_itl_mean_ms", "server_e2e_mean_ms",
}

// serverValues are the values of serverColumns, NaN (empty) without
// samples; server_samples is a count.
func serverValues(sv *summary.ServerStats) []float64 {
	if sv == nil {
		out := make([]float64, len(serverColumns))
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	return []float64{
		float64(sv.Samples), sv.RunningMean, sv.RunningMax, sv.WaitingMean, sv.WaitingMax,
		sv.KVCacheUsageMean, sv.KVCacheUsageMax, sv.PrefixCacheHitRate, sv.Preemptions,
		sv.GenTokPerS, sv.SpecAcceptance,
		sv.TTFTMeanMs, sv.QueueMeanMs, sv.ITLMeanMs, sv.E2EMeanMs,
	}
}

// Header is the CSV header for percentiles ps.
func Header(ps []float64) []string {
	header, _ := table(&summary.Report{Percentiles: ps})
	return header
}

// table returns the header and the cells of every group.
func table(rep *summary.Report) (header []string, rows [][]string) {
	fixed := make([]row, len(rep.Groups), len(rep.Groups)+len(rep.Capacities))
	for i := range rep.Groups {
		fixed[i] = newRow(&rep.Groups[i])
	}
	for i := range rep.Capacities {
		fixed = append(fixed, newRow(&rep.Capacities[i].Row))
	}
	var c cellCollector
	if err := gocsv.MarshalCSV(fixed, &c); err != nil {
		panic(fmt.Sprintf("report: marshal fixed columns: %v", err)) // the row type is ours: a bug
	}
	header = append(c.rows[0], metricColumns(rep.Percentiles)...)
	header = append(header, serverColumns...)
	search := hasSearch(rep)
	if search {
		header = append(header, capacityColumns...)
	}
	for i, cells := range c.rows[1:] {
		var g *summary.Group
		if i < len(rep.Groups) {
			g = &rep.Groups[i]
		} else {
			g = &rep.Capacities[i-len(rep.Groups)].Row
		}
		for m := range g.Metrics {
			for _, v := range metricValues(g.Metrics[m], len(rep.Percentiles)) {
				cells = append(cells, fixed3(v).String())
			}
		}
		for k, v := range serverValues(g.ServerMetrics) {
			if k == 0 && !math.IsNaN(v) { // server_samples: a count
				cells = append(cells, strconv.Itoa(int(v)))
				continue
			}
			cells = append(cells, fixed3(v).String())
		}
		for _, v := range capacityValues(g) {
			if search {
				cells = append(cells, v.csv)
			}
		}
		rows = append(rows, cells)
	}
	return header, rows
}

// capacityColumns close every row of a report that holds a capacity
// search, and only then, so that other reports keep their columns (and an
// append-only file its header): after the metric columns, so that no older
// column moves. A search's load points carry search (rate or concurrency),
// and the search's own row (summary.Capacity.Row, one per search, after the
// groups) its answer. Empty elsewhere.
var capacityColumns = []string{"search", "capacity", "capacity_failed", "capacity_min_goodput"}

type capCell struct {
	csv  string
	json []byte
}

// capacityValues are g's cells of capacityColumns.
func capacityValues(g *summary.Group) []capCell {
	str := func(s string) capCell {
		t, _ := text(s).MarshalCSV()
		j, _ := json.Marshal(s)
		return capCell{t, j}
	}
	num := func(v float64) capCell {
		if !g.IsCapacity || math.IsNaN(v) {
			return capCell{"", []byte("null")}
		}
		c, _ := exact(v).MarshalCSV()
		return capCell{c, jsonFloat(v)}
	}
	return []capCell{str(g.Search), num(g.Capacity), num(g.CapacityFailed), num(g.SearchMinGoodput)}
}

// WriteCSV writes a header row (when header is true) and one row per group.
func WriteCSV(w io.Writer, rep *summary.Report, header bool) error {
	head, rows := table(rep)
	var buf bytes.Buffer
	cw := gocsv.NewSafeCSVWriter(csv.NewWriter(&buf))
	if header {
		if err := cw.Write(head); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// cellCollector is a gocsv.CSVWriter that keeps the rows as cells.
type cellCollector struct{ rows [][]string }

var _ gocsv.CSVWriter = (*cellCollector)(nil)

func (c *cellCollector) Write(cells []string) error {
	c.rows = append(c.rows, append([]string(nil), cells...)) // gocsv reuses its slice
	return nil
}
func (c *cellCollector) Flush()       {}
func (c *cellCollector) Error() error { return nil }

// text is a free-text cell (run_id, label, model, endpoint). In CSV it is
// neutralised as OWASP recommends against formula injection: a cell starting
// with =, +, -, @, tab or carriage return gets a leading single quote, so a
// spreadsheet shows it as text instead of evaluating "=cmd()". JSON carries
// the value unchanged.
type text string

// MarshalCSV implements gocsv.TypeMarshaller.
func (t text) MarshalCSV() (string, error) {
	s := string(t)
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s, nil
	}
	return s, nil
}

// fixed3 is a measured number: three decimals in CSV, the full float in JSON,
// empty or null when NaN (no data) or infinite.
type fixed3 float64

func (f fixed3) String() string {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return ""
	}
	return strconv.FormatFloat(float64(f), 'f', 3, 64)
}

// MarshalCSV implements gocsv.TypeMarshaller.
func (f fixed3) MarshalCSV() (string, error) { return f.String(), nil }

// MarshalJSON writes null for a missing value: JSON has no NaN.
func (f fixed3) MarshalJSON() ([]byte, error) { return jsonFloat(float64(f)), nil }

// exact is a configured number such as a rate: written as given (10, 0.5).
type exact float64

// MarshalCSV implements gocsv.TypeMarshaller.
func (e exact) MarshalCSV() (string, error) { return strconv.FormatFloat(float64(e), 'f', -1, 64), nil }

// MarshalJSON implements json.Marshaler.
func (e exact) MarshalJSON() ([]byte, error) { return jsonFloat(float64(e)), nil }

// instant is a start time: RFC 3339 UTC, empty or null when unknown.
type instant struct{ t time.Time }

// MarshalCSV implements gocsv.TypeMarshaller.
func (i instant) MarshalCSV() (string, error) {
	if i.t.IsZero() {
		return "", nil
	}
	return i.t.UTC().Format(timeLayout), nil
}

// MarshalJSON implements json.Marshaler.
func (i instant) MarshalJSON() ([]byte, error) {
	if i.t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(i.t.UTC().Format(timeLayout))
}

func jsonFloat(v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null")
	}
	b, _ := json.Marshal(v)
	return b
}

// hasSearch reports whether rep holds a capacity search.
func hasSearch(rep *summary.Report) bool {
	if len(rep.Capacities) > 0 {
		return true
	}
	for i := range rep.Groups {
		if rep.Groups[i].Search != "" {
			return true
		}
	}
	return false
}
