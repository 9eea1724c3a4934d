package summary

import (
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai"
	"servebench/internal/record"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// okRecord is a successful streamed request of run, scheduled seq seconds
// after t0 and sent on time, with 10 prompt and 5 output tokens.
func okRecord(run string, seq int, latencyMs float64) record.Record {
	at := t0.Add(time.Duration(seq) * time.Second)
	return record.Record{
		Schema: record.Schema, RunID: run, Label: "lab", Seq: seq, Phase: record.PhaseMeasure,
		Model: "m", Endpoint: openai.EndpointCompletions, Stream: true, Concurrency: 1, MaxTokens: 5,
		ScheduledAt: at, SentAt: at, TTFTMs: record.Float(10), LatencyMs: latencyMs,
		ITLMs: []float64{1, 2}, TPOTMs: record.Float((latencyMs - 10) / 4),
		PromptTokens: 10, OutputTokens: 5, TokensFrom: record.TokensFromUsage, Status: 200, OK: true,
	}
}

// failed turns r into a failure of kind.
func failed(r record.Record, kind string) record.Record {
	r.OK, r.ErrorKind, r.Status = false, kind, 0
	r.TTFTMs, r.TPOTMs, r.ITLMs, r.OutputTokens = nil, nil, nil, 0
	return r
}

func summarizeRecords(ps []float64, recs ...record.Record) []Group {
	a := NewAggregator()
	for i := range recs {
		a.Add(&recs[i])
	}
	return a.Groups(ps)
}

func TestThroughputArithmetic(t *testing.T) {
	a := okRecord("r", 0, 1000) // t0 .. t0+1s
	b := okRecord("r", 0, 2500) // sent at t0+0.5s after 0.5s of queueing .. t0+3s
	b.ScheduledAt, b.SentAt, b.QueueMs = t0, t0.Add(500*time.Millisecond), 500
	b.LatencyMs = 2500
	b.PromptTokens, b.OutputTokens = 20, 7
	c := failed(okRecord("r", 1, 3000), record.ErrTimeout) // t0+1s .. t0+4s: failures end the window too
	w := okRecord("r", 0, 100)                             // warmup, 10 s earlier: outside the window
	w.Phase, w.ScheduledAt, w.SentAt = record.PhaseWarmup, t0.Add(-10*time.Second), t0.Add(-10*time.Second)

	gs := summarizeRecords(nil, w, a, b, c)
	if len(gs) != 1 {
		t.Fatalf("%d groups", len(gs))
	}
	g := gs[0]
	// duration = t0+4s - t0 = 4 s; 2 ok; output 5+7 = 12; total 12 + 10+20 = 42
	checks := []struct {
		name      string
		got, want float64
	}{
		{"duration_s", g.DurationS, 4},
		{"req_per_s", g.ReqPerS, 2.0 / 4},
		{"output_tok_per_s", g.OutputTokPerS, 12.0 / 4},
		{"total_tok_per_s", g.TotalTokPerS, 42.0 / 4},
		{"mean_prompt_tokens", g.MeanPromptTokens, 15},
		{"mean_output_tokens", g.MeanOutputTokens, 6},
		{"requests", float64(g.Requests), 3},
		{"ok", float64(g.OK), 2},
		{"failed", float64(g.Failed), 1},
		{"warmup", float64(g.Warmup), 1},
		// sched_latency = queue + latency: a 1000, b 500+2500
		{"sched_latency max", g.Metrics[SchedLatency].Max, 3000},
		{"queue mean", g.Metrics[Queue].Mean, 250},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !g.StartTime.Equal(t0) {
		t.Errorf("start_time %v, want %v", g.StartTime, t0)
	}
}

func TestGrouping(t *testing.T) {
	at := func(r record.Record, sec int) record.Record {
		r.ScheduledAt = t0.Add(time.Duration(sec) * time.Second)
		r.SentAt = r.ScheduledAt
		return r
	}
	conc := func(r record.Record, c int, rate float64) record.Record {
		r.Concurrency, r.Rate = c, rate
		return r
	}
	label := func(r record.Record, l string) record.Record { r.Label = l; return r }
	recs := []record.Record{
		at(okRecord("b", 0, 10), 50),                // run b starts last
		at(conc(okRecord("a", 1, 10), 8, 0), 20),    // a's second load point of a sweep
		at(okRecord("a", 0, 10), 0),                 // a's first load point
		at(conc(okRecord("a", 2, 10), 8, 0), 21),    // same load point as line 2
		at(conc(okRecord("a", 3, 10), 8, 2.5), 30),  // same concurrency, other rate
		at(label(okRecord("a", 4, 10), "other"), 1), // same run, other label
		at(okRecord("a", 5, 10), 2),                 // back to the first load point
	}
	gs := summarizeRecords(nil, recs...)
	type point struct {
		run, label string
		conc       int
		rate       float64
		requests   int
	}
	want := []point{{"a", "lab", 1, 0, 2}, {"a", "other", 1, 0, 1}, {"a", "lab", 8, 0, 2}, {"a", "lab", 8, 2.5, 1}, {"b", "lab", 1, 0, 1}}
	if len(gs) != len(want) {
		t.Fatalf("%d groups, want %d", len(gs), len(want))
	}
	for i, w := range want {
		g := gs[i]
		if got := (point{g.RunID, g.Label, g.Concurrency, g.Rate, g.Requests}); got != w {
			t.Errorf("group %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestWarmupAndFailuresExcludedFromStats(t *testing.T) {
	warm := okRecord("r", 0, 9999)
	warm.Phase = record.PhaseWarmup
	odd := okRecord("r", 9, 7777)
	odd.Phase = "cooldown" // unknown phase: ignored, with a warning
	recs := []record.Record{
		warm, odd,
		okRecord("r", 1, 100),
		okRecord("r", 2, 300),
		failed(okRecord("r", 3, 5000), record.ErrConnect),
		failed(okRecord("r", 4, 6000), record.ErrConnect),
		failed(okRecord("r", 5, 7000), record.ErrHTTP),
		failed(okRecord("r", 6, 8000), "teapot"), // a kind this build does not know
		failed(okRecord("r", 7, 9000), ""),       // a failure without a kind
	}
	g := summarizeRecords([]float64{50}, recs...)[0]
	if g.Requests != 7 || g.OK != 2 || g.Failed != 5 || g.Warmup != 1 {
		t.Errorf("requests %d ok %d failed %d warmup %d", g.Requests, g.OK, g.Failed, g.Warmup)
	}
	wantErrors := map[string]int{record.ErrConnect: 2, record.ErrHTTP: 1}
	for i, kind := range record.ErrorKinds {
		if g.Errors[i] != wantErrors[kind] {
			t.Errorf("errors_%s = %d, want %d", kind, g.Errors[i], wantErrors[kind])
		}
	}
	if g.ErrorsOther != 2 {
		t.Errorf("errors_other = %d, want 2", g.ErrorsOther)
	}
	lat := g.Metrics[Latency]
	if lat.N != 2 || lat.Mean != 200 || lat.Max != 300 || lat.Percentiles[0] != 200 {
		t.Errorf("latency from successes only: %+v", lat)
	}
	if !strings.Contains(strings.Join(g.Warnings, "\n"), "1 records of an unknown phase") {
		t.Errorf("warnings %q", g.Warnings)
	}
}

func TestSamplesWherePresent(t *testing.T) {
	a := okRecord("r", 0, 100)
	a.ITLMs = []float64{1, 2}
	b := okRecord("r", 1, 200)
	b.ITLMs = []float64{6}
	b.TTFTMs, b.TPOTMs = nil, nil // e.g. a response with one token and no content chunk
	c := okRecord("r", 2, 300)
	c.Stream, c.TTFTMs, c.TPOTMs, c.ITLMs = false, nil, nil, nil
	c.TokensFrom = record.TokensFromChunks
	g := summarizeRecords(nil, a, b, c)[0]
	if s := g.Metrics[ITL]; s.N != 3 || s.Mean != 3 { // pooled: 1, 2, 6
		t.Errorf("itl %+v, want the three gaps pooled", s)
	}
	if s := g.Metrics[TTFT]; s.N != 1 || s.Mean != 10 {
		t.Errorf("ttft %+v, want only the present one", s)
	}
	if s := g.Metrics[TPOT]; s.N != 1 {
		t.Errorf("tpot %+v, want only the present one", s)
	}
	if g.TokensFromChunks != 1 || !strings.Contains(strings.Join(g.Warnings, "\n"), "from stream chunks") {
		t.Errorf("tokens_from_chunks %d, warnings %q", g.TokensFromChunks, g.Warnings)
	}
}

func TestNoSamplesAreNaNNotZero(t *testing.T) {
	g := summarizeRecords(nil, failed(okRecord("r", 0, 100), record.ErrConnect))[0]
	for m, s := range g.Metrics {
		if s != nil {
			t.Errorf("metric %s has samples from a failure", Metric(m).Key())
		}
	}
	if !math.IsNaN(g.MeanOutputTokens) || g.ReqPerS != 0 {
		t.Errorf("mean tokens %v (want NaN: no successes), req/s %v (want 0)", g.MeanOutputTokens, g.ReqPerS)
	}
	w := okRecord("r", 0, 100)
	w.Phase = record.PhaseWarmup
	g = summarizeRecords(nil, w)[0]
	if !math.IsNaN(g.DurationS) || !math.IsNaN(g.ReqPerS) || !g.StartTime.IsZero() || g.Warmup != 1 {
		t.Errorf("warmup-only group: duration %v req/s %v start %v", g.DurationS, g.ReqPerS, g.StartTime)
	}
}

func TestClientLagWarning(t *testing.T) {
	var recs []record.Record
	for i := range 10 {
		r := okRecord("r", i, 100)
		r.Rate, r.QueueMs = 5, 50 // 50 ms late: over 10 ms and over 10% of the 100 ms median
		recs = append(recs, r)
	}
	g := summarizeRecords(nil, recs...)[0]
	if !strings.Contains(strings.Join(g.Warnings, "\n"), "p99 client queue delay 50.00 ms") {
		t.Errorf("warnings %q", g.Warnings)
	}
	for i := range recs {
		recs[i].Rate = 0 // closed loop: queueing is how it paces, no warning
	}
	if g := summarizeRecords(nil, recs...)[0]; len(g.Warnings) != 0 {
		t.Errorf("closed loop warnings %q", g.Warnings)
	}
}

// TestTotalsSaturate: records are input; counts no genload writes (past
// 2^31-1, which it refuses as protocol) must not wrap a total negative.
func TestTotalsSaturate(t *testing.T) {
	a, b := okRecord("r", 0, 50), okRecord("r", 1, 50)
	a.OutputTokens, b.OutputTokens = math.MaxInt-3, 10
	a.ReasoningTokens, b.ReasoningTokens = math.MaxInt, 1
	a.CachedTokens, a.ToolCalls, b.ToolCalls = 7, 1, 2
	g := summarizeRecords([]float64{50}, a, b)[0]
	if g.OutputTokens != math.MaxInt || g.ReasoningTokens != math.MaxInt || g.CachedTokens != 7 || g.ToolCalls != 3 {
		t.Errorf("totals %d %d %d %d", g.OutputTokens, g.ReasoningTokens, g.CachedTokens, g.ToolCalls)
	}
	if g.TotalTokPerS <= 0 || g.OutputTokPerS <= 0 {
		t.Errorf("throughput %v %v", g.TotalTokPerS, g.OutputTokPerS)
	}
}

// TestModelsInOneRun: a run that mixed models has a group per model, each
// named by its model in its Point; runs of one model each keep a Point
// without one, so that an A/B of two models still matches.
func TestModelsInOneRun(t *testing.T) {
	a := NewAggregator()
	for i, m := range []string{"a", "b", "a", "a"} {
		r := okRecord("mix", i, 100)
		r.Model = m
		a.Add(&r)
	}
	for i, run := range []string{"solo1", "solo2"} {
		r := okRecord(run, 10+i, 100)
		r.Model = run
		a.Add(&r)
	}
	got := map[string]int{}
	for _, g := range a.Groups([]float64{50}) {
		got[g.RunID+"/"+g.Point.String()] = g.Requests
	}
	want := map[string]int{
		"mix/lab, concurrency 1, unpaced, model a": 3, "mix/lab, concurrency 1, unpaced, model b": 1,
		"solo1/lab, concurrency 1, unpaced": 1, "solo2/lab, concurrency 1, unpaced": 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}

// TestLengthMissAndCachedShare: a group whose prompt_tokens miss the
// requested input lengths by more than 2% warns, one within 2% does not;
// the cached share is cached_tokens / prompt_tokens.
func TestLengthMissAndCachedShare(t *testing.T) {
	recs := func(prompt, requested, cached int) []record.Record {
		var out []record.Record
		for i := range 4 {
			r := okRecord("r", i, 50)
			r.PromptTokens, r.InputTokensRequested, r.CachedTokens, r.TokensFrom = prompt, requested, cached, record.TokensFromUsage
			out = append(out, r)
		}
		return out
	}
	hasMiss := func(g Group) bool {
		for _, w := range g.Warnings {
			if strings.Contains(w, "input lengths miss the requested ones") {
				return true
			}
		}
		return false
	}
	if g := summarizeRecords(nil, recs(103, 100, 0)...)[0]; !hasMiss(g) {
		t.Errorf("3%% over: no warning in %q", g.Warnings)
	} else if !strings.Contains(strings.Join(g.Warnings, "\n"), "+3.0%: prompt_tokens average 103.0 for 100.0 requested (4 of 4 requests") {
		t.Errorf("warning %q", g.Warnings)
	}
	if g := summarizeRecords(nil, recs(98, 100, 0)...)[0]; hasMiss(g) {
		t.Errorf("2%% under warned: %q", g.Warnings)
	}
	if g := summarizeRecords(nil, recs(50, 0, 0)...)[0]; hasMiss(g) {
		t.Errorf("nothing requested warned: %q", g.Warnings)
	}
	g := summarizeRecords(nil, recs(80, 80, 20)...)[0]
	if g.CachedShare != 0.25 || hasMiss(g) {
		t.Errorf("cached share %v, warnings %q", g.CachedShare, g.Warnings)
	}
}
