package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"servebench/internal/stats"
	"servebench/internal/summary"
)

var (
	latencyPoint    = summary.Point{Label: "latency", Concurrency: 1}
	throughputPoint = summary.Point{Label: "throughput", Concurrency: 8, Rate: 2.5}
)

// shape is what a generated run looks like.
type shape struct {
	ttftMs   float64 // every TTFT is this plus up to 1 ms of jitter
	tailMs   float64 // added to the slowest 5% of TTFTs
	requests int
	failed   int
	reqPerS  float64 // plus up to 1% jitter
}

// mkRuns makes n runs of p with seeded jitter, so that runs of one shape
// differ a little, as real runs do.
func mkRuns(prefix string, n int, p summary.Point, s shape, seed uint64) []summary.Group {
	r := rand.New(rand.NewPCG(seed, 7))
	runs := make([]summary.Group, n)
	for i := range runs {
		run := summary.Group{RunID: prefix + string(rune('a'+i)), Point: p, Model: "m", Endpoint: "/v1/completions", Stream: true, MaxTokens: 8,
			Requests: s.requests, Failed: s.failed, ReqPerS: s.reqPerS * (1 + r.Float64()/100)}
		run.OutputTokPerS = run.ReqPerS * 8
		for j := range s.requests - s.failed {
			ttft := s.ttftMs + r.Float64()
			if j >= (s.requests-s.failed)*95/100 {
				ttft += s.tailMs
			}
			run.Samples[summary.TTFT] = append(run.Samples[summary.TTFT], ttft)
			run.Samples[summary.TPOT] = append(run.Samples[summary.TPOT], 5+r.Float64()/10)
			run.Samples[summary.ITL] = append(run.Samples[summary.ITL], 5+r.Float64()/10, 5+r.Float64()/10)
			run.Samples[summary.Latency] = append(run.Samples[summary.Latency], ttft+35+r.Float64())
		}
		for k := range run.Samples {
			slices.Sort(run.Samples[k])
		}
		runs[i] = run
	}
	return runs
}

func row(t *testing.T, tab *Table, metric string) *Row {
	t.Helper()
	for i := range tab.Rows {
		if tab.Rows[i].Metric.Name == metric {
			return &tab.Rows[i]
		}
	}
	t.Fatalf("no row %s", metric)
	return nil
}

func mustThresholds(t *testing.T, spec string) []Threshold {
	t.Helper()
	ths, err := ParseThresholds(spec)
	if err != nil {
		t.Fatal(err)
	}
	return ths
}

var opts = Options{Old: "old", New: "new"}

// TestPerRunShift: six runs a side, TTFT 50 ms against 60 ms and 10% less
// throughput. Every new run is worse than every old one, so the U test's
// p is 2/924 before adjustment and the rows say worse.
func TestPerRunShift(t *testing.T) {
	old := mkRuns("o", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1)
	new := mkRuns("n", 6, latencyPoint, shape{ttftMs: 60, requests: 5, reqPerS: 9}, 2)
	o := opts
	o.FailOn = mustThresholds(t, "ttft_median_ms>+10%,ttft_p99_ms>+25%,req_per_s<-5%,tpot_median_ms>+10%")
	res := Compare(old, new, o)
	if len(res.Tables) != 1 || len(res.Warnings) != 0 {
		t.Fatalf("tables %d, warnings %q", len(res.Tables), res.Warnings)
	}
	tab := &res.Tables[0]
	if !tab.PerRun || tab.OldRuns != 6 || tab.NewRuns != 6 || len(tab.Warnings) != 0 {
		t.Fatalf("per run %v, runs %d/%d, warnings %q", tab.PerRun, tab.OldRuns, tab.NewRuns, tab.Warnings)
	}
	ttft := row(t, tab, "ttft_median_ms")
	if ttft.Verdict != Worse || !ttft.Significant || math.Abs(ttft.Test.P-2.0/924) > 1e-15 || ttft.P > 0.05 || ttft.Old.N != 6 {
		t.Errorf("ttft median: %+v", ttft)
	}
	if ttft.DeltaRel < 0.18 || ttft.DeltaRel > 0.22 || ttft.Delta < 9 || ttft.Delta > 11 {
		t.Errorf("ttft delta %v (%v)", ttft.Delta, ttft.DeltaRel)
	}
	if math.IsInf(ttft.Old.Lo, 0) || ttft.Old.Lo > ttft.Old.Center || ttft.Old.Hi < ttft.Old.Center {
		t.Errorf("six runs have a finite CI around the median: %+v", ttft.Old)
	}
	if r := row(t, tab, "req_per_s"); r.Verdict != Worse || r.DeltaRel > -0.08 {
		t.Errorf("req/s: %+v", r)
	}
	if r := row(t, tab, "tpot_median_ms"); r.Verdict != Same && r.Verdict != Better && r.Verdict != Worse {
		t.Errorf("tpot verdict %q", r.Verdict)
	}
	if r := row(t, tab, "error_rate"); r.Verdict != Same || r.Test.Ran || !math.IsNaN(r.P) {
		t.Errorf("no errors on either side is ~, untested: %+v", r)
	}
	// ttft_median_ms +20% > 10% and req/s -10% < -5% fail; ttft_p99 +20%
	// is under its 25%.
	var failed []string
	for _, reg := range res.Regressions {
		failed = append(failed, reg.Threshold.String())
	}
	if strings.Join(failed, " ") != "ttft_median_ms>+10% req_per_s<-5%" {
		t.Errorf("regressions %q", failed)
	}
	if len(ttft.Crossed) != 1 || ttft.Crossed[0].Metric != "ttft_median_ms" {
		t.Errorf("crossed %v", ttft.Crossed)
	}
}

// TestSameRunsCompareSame: the same runs on both sides are "~" everywhere
// and fail no gate.
func TestSameRunsCompareSame(t *testing.T) {
	old := mkRuns("o", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1)
	new := mkRuns("n", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1)
	o := opts
	o.FailOn = mustThresholds(t, "ttft_median_ms>+0%,req_per_s<-0%")
	res := Compare(old, new, o)
	for _, r := range res.Tables[0].Rows {
		if r.Verdict != Same || r.Significant {
			t.Errorf("%s: %s (p=%v)", r.Metric.Name, r.Verdict, r.P)
		}
	}
	if len(res.Regressions) != 0 {
		t.Errorf("regressions %v", res.Regressions)
	}
}

// TestBetter: lower latency is better, higher throughput is better.
func TestBetter(t *testing.T) {
	old := mkRuns("o", 6, latencyPoint, shape{ttftMs: 60, requests: 5, reqPerS: 9}, 1)
	new := mkRuns("n", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 2)
	o := opts
	o.FailOn = mustThresholds(t, "ttft_median_ms<-5%") // a gate may also catch improvements
	res := Compare(old, new, o)
	tab := &res.Tables[0]
	if r := row(t, tab, "ttft_median_ms"); r.Verdict != Better {
		t.Errorf("ttft %s", r.Verdict)
	}
	if r := row(t, tab, "req_per_s"); r.Verdict != Better {
		t.Errorf("req/s %s", r.Verdict)
	}
	if len(res.Regressions) != 1 {
		t.Errorf("regressions %v", res.Regressions)
	}
}

// TestPerRequest: one run a side is compared per request, says so, and
// cannot test throughput at all.
func TestPerRequest(t *testing.T) {
	old := mkRuns("o", 1, latencyPoint, shape{ttftMs: 50, requests: 40, reqPerS: 10}, 1)
	new := mkRuns("n", 1, latencyPoint, shape{ttftMs: 60, requests: 40, failed: 8, reqPerS: 9}, 2)
	o := opts
	o.FailOn = mustThresholds(t, "ttft_median_ms>+10%,req_per_s<-5%,ttft_p99_ms>+10%,error_rate>+0.1")
	res := Compare(old, new, o)
	tab := &res.Tables[0]
	if tab.PerRun || len(tab.Warnings) == 0 || !strings.Contains(tab.Warnings[0], "per request, which is weaker") ||
		!strings.Contains(tab.Warnings[0], "at least 6 runs a side") {
		t.Fatalf("per run %v, warnings %q", tab.PerRun, tab.Warnings)
	}
	ttft := row(t, tab, "ttft_median_ms")
	if ttft.PerRun || ttft.Old.N != 40 || ttft.New.N != 32 || ttft.Verdict != Worse || ttft.P > 1e-6 {
		t.Errorf("ttft per request: %+v", ttft)
	}
	if !math.IsNaN(ttft.Old.Lo) {
		t.Errorf("no CI per request: %+v", ttft.Old)
	}
	// 72 values: the pooled p99 is reached by one or two of them.
	if r := row(t, tab, "ttft_p99_ms"); r.Test.Ran || r.Verdict != Untested || !strings.Contains(r.Test.Why, "too few values") {
		t.Errorf("p99 from 72 values: %+v", r)
	}
	rps := row(t, tab, "req_per_s")
	if !rps.PerRun || rps.Test.Ran || rps.Verdict != Untested || rps.Test.Why != "too few values, n=1" {
		t.Errorf("req/s with one run a side: %+v", rps)
	}
	// 0 of 40 against 8 of 40 failed: per request, that is significant.
	errs := row(t, tab, "error_rate")
	if errs.Old.Center != 0 || errs.New.Center != 0.2 || errs.Verdict != Worse || !math.IsInf(errs.DeltaRel, 1) {
		t.Errorf("error rate: %+v", errs)
	}
	warnings := strings.Join(tab.Warnings, "\n")
	for _, want := range []string{"the limit req_per_s<-5% cannot fail", "the limit ttft_p99_ms>+10% cannot fail"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	var failed []string
	for _, reg := range res.Regressions {
		failed = append(failed, reg.Threshold.String())
	}
	if strings.Join(failed, " ") != "ttft_median_ms>+10% error_rate>+0.1" {
		t.Errorf("regressions %q", failed)
	}
}

// TestPerRequestTail: with enough requests the p99 is tested on its own,
// and a slower tail shows even when the medians agree.
func TestPerRequestTail(t *testing.T) {
	old := mkRuns("o", 2, latencyPoint, shape{ttftMs: 50, requests: 1000, reqPerS: 10}, 1)
	new := mkRuns("n", 2, latencyPoint, shape{ttftMs: 50, tailMs: 30, requests: 1000, reqPerS: 10}, 2)
	tab := &Compare(old, new, opts).Tables[0]
	if r := row(t, tab, "ttft_p99_ms"); r.Verdict != Worse || r.Old.N != 2000 {
		t.Errorf("p99: %+v", r)
	}
	// The U test on the raw values sees the shifted 5% too, but much less
	// clearly than the tail test.
	if r, med := row(t, tab, "ttft_p99_ms"), row(t, tab, "ttft_median_ms"); r.P > med.P/100 {
		t.Errorf("p99 p %v, median p %v", r.P, med.P)
	}
}

func TestMatching(t *testing.T) {
	old := append(mkRuns("o", 1, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 1}, 1),
		mkRuns("p", 1, throughputPoint, shape{ttftMs: 50, requests: 5, reqPerS: 1}, 2)...)
	sweep := summary.Point{Label: "throughput", Concurrency: 16, Rate: 2.5}
	new := append(mkRuns("n", 1, sweep, shape{ttftMs: 50, requests: 5, reqPerS: 1}, 3),
		mkRuns("m", 1, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 1}, 4)...)
	res := Compare(old, new, opts)
	if len(res.Tables) != 1 || res.Tables[0].Point != latencyPoint {
		t.Fatalf("tables %+v", res.Tables)
	}
	want := []string{
		"throughput, concurrency 8, 2.5 req/s: only in old, not compared",
		"throughput, concurrency 16, 2.5 req/s: only in new, not compared",
	}
	if !slices.Equal(res.Warnings, want) {
		t.Errorf("warnings %q", res.Warnings)
	}

	// One point a side, labelled differently: compared, with a warning.
	res = Compare(mkRuns("o", 1, summary.Point{Label: "before"}, shape{ttftMs: 50, requests: 5}, 1),
		mkRuns("n", 1, summary.Point{Label: "after"}, shape{ttftMs: 50, requests: 5}, 2), opts)
	if len(res.Tables) != 1 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "comparing different load points") {
		t.Errorf("tables %d, warnings %q", len(res.Tables), res.Warnings)
	}
}

func TestDifferencesAndMissingMetrics(t *testing.T) {
	old := mkRuns("o", 1, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 1}, 1)
	new := mkRuns("n", 1, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 1}, 2)
	for _, runs := range [][]summary.Group{old, new} {
		for i := range runs { // not streaming: no TTFT, TPOT or ITL
			runs[i].Samples[summary.TTFT], runs[i].Samples[summary.TPOT], runs[i].Samples[summary.ITL] = nil, nil, nil
			runs[i].Stream = false
		}
	}
	new[0].Model, new[0].MaxTokens = "other", 16
	tab := &Compare(old, new, opts).Tables[0]
	var names []string
	for _, r := range tab.Rows {
		names = append(names, r.Metric.Name)
	}
	if strings.Join(names, ",") != "latency_median_ms,latency_p99_ms,req_per_s,output_tok_per_s,error_rate" {
		t.Errorf("rows %v: metrics without values on both sides are left out", names)
	}
	warnings := strings.Join(tab.Warnings, "\n")
	for _, want := range []string{`model differs: "m" in old, "other" in new`, `max_tokens differs: "8" in old, "16" in new`} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
}

func TestHolmFamily(t *testing.T) {
	// Every latency exactly the same on both sides, no errors; only
	// throughput moves. Rows whose values are all equal leave the family:
	// the two throughput rows are the family, so the smallest p is doubled
	// (Holm, m=2).
	old := mkRuns("o", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1)
	new := mkRuns("n", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 20}, 2)
	for _, runs := range [][]summary.Group{old, new} {
		for i := range runs {
			for k := range runs[i].Samples {
				runs[i].Samples[k] = []float64{50, 50}
			}
		}
	}
	tab := &Compare(old, new, opts).Tables[0]
	tested := 0
	for _, r := range tab.Rows {
		if r.Test.Ran {
			tested++
		} else if r.Verdict != Same || r.Test.Why != "all values equal" {
			t.Errorf("%s: %s (%s)", r.Metric.Name, r.Verdict, r.Test.Why)
		}
	}
	rps := row(t, tab, "req_per_s")
	if tested != 2 || math.Abs(rps.Test.P-2.0/924) > 1e-15 || math.Abs(rps.P-2*rps.Test.P) > 1e-15 {
		t.Errorf("tested %d, req/s raw p %v adjusted %v", tested, rps.Test.P, rps.P)
	}
}

func TestPerRunValuesMatchSummarize(t *testing.T) {
	// Medians as np.median (mean of the middle two), p99 as np.percentile.
	r := summary.Group{Samples: [summary.NumMetrics][]float64{summary.TTFT: {1, 2, 3, 10}}, Requests: 4, Failed: 1}
	if v := Metrics[0].PerRun(&r); v != 2.5 {
		t.Errorf("median %v", v)
	}
	if v := Metrics[1].PerRun(&r); math.Abs(v-9.79) > 1e-12 { // h = 2.97: 3 + 0.97*7
		t.Errorf("p99 %v", v)
	}
	if v := Metrics[len(Metrics)-1].PerRun(&r); v != 0.25 {
		t.Errorf("error rate %v", v)
	}
	if v := Metrics[slices.IndexFunc(Metrics, func(m Metric) bool { return m.Name == "tpot_median_ms" })].PerRun(&r); !math.IsNaN(v) {
		t.Errorf("tpot without samples %v", v)
	}
}

// TestWarmupOnlyGroupsAreNoRuns: a group without measured requests (a run
// that only warmed up) is left out, so it neither counts as a run nor
// makes a load point of its own.
func TestWarmupOnlyGroupsAreNoRuns(t *testing.T) {
	old := mkRuns("o", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1)
	new := mkRuns("n", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 2)
	warm := summary.Group{RunID: "w", Point: latencyPoint}
	other := summary.Group{RunID: "x", Point: throughputPoint}
	res := Compare(append(old, warm, other), new, opts)
	if len(res.Tables) != 1 || res.Tables[0].OldRuns != 6 || len(res.Warnings) != 0 {
		t.Errorf("tables %d, old runs %d, warnings %q", len(res.Tables), res.Tables[0].OldRuns, res.Warnings)
	}
}

// TestServersAndModelsNamed: a comparison says when its sides ran against
// different servers, and when one side pools runs of several.
func TestServersAndModelsNamed(t *testing.T) {
	run := func(id, server, model string) summary.Group {
		return summary.Group{RunID: id, Point: summary.Point{Label: "l", Concurrency: 1}, Server: server, Model: model, Requests: 10, OK: 10}
	}
	old := []summary.Group{run("a", "http://gpu1:8000", "m"), run("b", "http://gpu2:8000", "m")}
	new := []summary.Group{run("c", "http://gpu3:8000", "m")}
	res := Compare(old, new, Options{Old: "old", New: "new"})
	var all []string
	for _, tb := range res.Tables {
		all = append(all, tb.Warnings...)
	}
	got := strings.Join(all, "\n")
	for _, want := range []string{
		`l, concurrency 1, unpaced: server differs: "http://gpu1:8000" in old, "http://gpu3:8000" in new`,
		"l, concurrency 1, unpaced: old pools runs of 2 servers (http://gpu1:8000, http://gpu2:8000) as one",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
}

// withTTFO gives runs a TTFO of their TTFT plus reasoningMs, as a
// reasoning model's; with reasoningMs 0 it is a copy of TTFT.
func withTTFO(runs []summary.Group, reasoningMs float64) []summary.Group {
	ps := []float64{99}
	for i := range runs {
		r := &runs[i]
		for _, v := range r.Samples[summary.TTFT] {
			r.Samples[summary.TTFO] = append(r.Samples[summary.TTFO], v+reasoningMs)
		}
		for _, m := range []summary.Metric{summary.TTFT, summary.TTFO} {
			s, _ := stats.Summarize(slices.Clone(r.Samples[m]), ps)
			r.Metrics[m] = &s
		}
	}
	return runs
}

// TestTTFO: a model that reasons longer is a TTFO regression with the
// same TTFT; without reasoning the TTFO rows (a copy of TTFT's) are left
// out, unless a --fail-on limit names them.
func TestTTFO(t *testing.T) {
	old := withTTFO(mkRuns("o", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1), 40)
	new := withTTFO(mkRuns("n", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1), 60)
	o := opts
	o.FailOn = mustThresholds(t, "ttfo_median_ms>+10%")
	res := Compare(old, new, o)
	tab := &res.Tables[0]
	if r := row(t, tab, "ttfo_median_ms"); r.Verdict != Worse || r.Delta < 19 || r.Delta > 21 {
		t.Errorf("ttfo median: %+v", r)
	}
	if r := row(t, tab, "ttft_median_ms"); r.Verdict != Same {
		t.Errorf("ttft median: %+v", r)
	}
	if len(res.Regressions) != 1 || res.Regressions[0].Threshold.Metric != "ttfo_median_ms" {
		t.Errorf("regressions %+v", res.Regressions)
	}
	plain := withTTFO(mkRuns("p", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 3), 0)
	res = Compare(plain, plain, opts)
	for _, r := range res.Tables[0].Rows {
		if strings.HasPrefix(r.Metric.Name, "ttfo") {
			t.Errorf("a TTFO row for TTFO = TTFT: %+v", r)
		}
	}
	o.FailOn = mustThresholds(t, "ttfo_p99_ms>+10%")
	res = Compare(plain, plain, o)
	if !slices.ContainsFunc(res.Tables[0].Rows, func(r Row) bool { return r.Metric.Name == "ttfo_p99_ms" }) {
		t.Error("a --fail-on limit on ttfo_p99_ms needs its row")
	}
}

// TestInputTokPerS: embeddings runs get an input_tok_per_s row (their
// throughput: they generate nothing) that --fail-on can gate; other runs
// only when --fail-on names it.
func TestInputTokPerS(t *testing.T) {
	embed := func(runs []summary.Group) []summary.Group {
		for i := range runs {
			runs[i].Endpoint, runs[i].OutputTokPerS = "embeddings", 0
			runs[i].InputTokPerS = runs[i].ReqPerS * 40
		}
		return runs
	}
	old := embed(mkRuns("o", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1))
	new := embed(mkRuns("n", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 8}, 2))
	o := opts
	o.FailOn = mustThresholds(t, "input_tok_per_s<-10%")
	res := Compare(old, new, o)
	in := row(t, &res.Tables[0], "input_tok_per_s")
	if in.Verdict != Worse || len(in.Crossed) != 1 || len(res.Regressions) != 1 || res.Regressions[0].Row.Metric.Name != "input_tok_per_s" {
		t.Errorf("row %+v, regressions %+v", in, res.Regressions)
	}
	plain := Compare(mkRuns("o", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 1), mkRuns("n", 6, latencyPoint, shape{ttftMs: 50, requests: 5, reqPerS: 10}, 2), opts)
	for _, r := range plain.Tables[0].Rows {
		if r.Metric.Name == "input_tok_per_s" {
			t.Error("an input_tok_per_s row for runs that generate")
		}
	}
}
