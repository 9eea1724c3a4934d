package summary

import (
	"math"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

func summarizeSLO(t *testing.T, spec string, recs ...record.Record) []Group {
	t.Helper()
	slo, err := ParseSLO(spec)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAggregator(WithSLO(slo))
	for i := range recs {
		a.Add(&recs[i])
	}
	return a.Groups(nil)
}

// notStreamed makes r a successful non-streamed request: latency only.
func notStreamed(r record.Record) record.Record {
	r.Stream, r.TTFTMs, r.TPOTMs, r.ITLMs = false, nil, nil, nil
	return r
}

// TestGoodput checks goodput_req_per_s = good / duration_s and
// slo_met_ratio = good / requests on hand-made groups. okRecord(run, seq,
// latency) is scheduled and sent seq seconds after t0, with TTFT 10 ms and
// TPOT (latency-10)/4 ms.
func TestGoodput(t *testing.T) {
	queued := func(r record.Record, queueMs float64) record.Record {
		r.Rate, r.QueueMs = 1, queueMs
		r.SentAt = r.ScheduledAt.Add(record.Millis(queueMs))
		return r
	}
	warm := okRecord("r", 0, 10)
	warm.Phase = record.PhaseWarmup
	ms := time.Millisecond
	per := func(n int, window time.Duration) float64 { return float64(n) / window.Seconds() }
	tests := []struct {
		name             string
		slo              string
		recs             []record.Record
		good, requests   int
		goodput, ratio   float64 // NaN: empty
		warning, noWarns string  // a warning expected; one not expected
	}{
		{
			// window t0 .. t0+2.05 s (the failure ends last): 2 good of 3
			name: "failures count as not met",
			slo:  "e2e=1s",
			recs: []record.Record{okRecord("r", 0, 100), okRecord("r", 1, 200), failed(okRecord("r", 2, 50), record.ErrHTTP)},
			good: 2, requests: 3, goodput: per(2, 2050*ms), ratio: 2.0 / 3,
		},
		{
			// tpot (90-10)/4 = 20 meets 25 ms, (130-10)/4 = 30 does not; window 1.13 s
			name: "every objective must be met",
			slo:  "ttft=10ms,tpot=25ms",
			recs: []record.Record{okRecord("r", 0, 90), okRecord("r", 1, 130)},
			good: 1, requests: 2, goodput: per(1, 1130*ms), ratio: 0.5,
		},
		{
			// latency 100 ms is within e2e=100ms: limits are inclusive, as vLLM's
			name: "a limit is met at equality",
			slo:  "e2e=100",
			recs: []record.Record{okRecord("r", 0, 100), okRecord("r", 1, 100.001)},
			good: 1, requests: 2, goodput: per(1, 1100001*time.Microsecond), ratio: 0.5,
		},
		{
			name: "a ttft objective fails requests without TTFT",
			slo:  "ttft=1h",
			recs: []record.Record{notStreamed(okRecord("r", 0, 100)), notStreamed(okRecord("r", 1, 100))},
			good: 0, requests: 2, goodput: 0, ratio: 0,
			warning: "2 successful requests have no TTFT (not streamed?): the ttft objective cannot be checked on them and counts them as not met",
		},
		{
			name: "an e2e objective judges them",
			slo:  "e2e=1h",
			recs: []record.Record{notStreamed(okRecord("r", 0, 100)), notStreamed(okRecord("r", 1, 100))},
			good: 2, requests: 2, goodput: per(2, 1100*ms), ratio: 1,
			noWarns: "cannot be checked",
		},
		{
			name: "a tpot objective fails requests without TPOT",
			slo:  "tpot=1h",
			recs: []record.Record{notStreamed(okRecord("r", 0, 100))},
			good: 0, requests: 1, goodput: 0, ratio: 0,
			warning: "1 successful requests have no TPOT",
		},
		{
			// sched_latency = queue + latency: 0+100 meets 200 ms, 300+100 does
			// not; e2e alone would pass both. Window: t0 .. t0+1.4 s.
			name: "sched_e2e counts the client's queue",
			slo:  "sched_e2e=200ms",
			recs: []record.Record{queued(okRecord("r", 0, 100), 0), queued(okRecord("r", 1, 100), 300)},
			good: 1, requests: 2, goodput: per(1, 1400*ms), ratio: 0.5,
		},
		{
			name: "e2e does not",
			slo:  "e2e=200ms",
			recs: []record.Record{queued(okRecord("r", 0, 100), 0), queued(okRecord("r", 1, 100), 300)},
			good: 2, requests: 2, goodput: per(2, 1400*ms), ratio: 1,
		},
		{
			name: "warmup is not judged",
			slo:  "e2e=1s",
			recs: []record.Record{warm, okRecord("r", 1, 500)},
			good: 1, requests: 1, goodput: per(1, 500*ms), ratio: 1,
		},
		{
			name: "no measured requests: nothing to judge",
			slo:  "e2e=1s",
			recs: []record.Record{warm},
			good: 0, requests: 0, goodput: math.NaN(), ratio: math.NaN(),
		},
		{
			name: "without --slo the columns are empty",
			slo:  "",
			recs: []record.Record{okRecord("r", 0, 100)},
			good: 0, requests: 1, goodput: math.NaN(), ratio: math.NaN(),
		},
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for _, tt := range tests {
		gs := summarizeSLO(t, tt.slo, tt.recs...)
		if len(gs) != 1 {
			t.Fatalf("%s: %d groups", tt.name, len(gs))
		}
		g := gs[0]
		if g.SLOMet != tt.good || g.Requests != tt.requests || !same(g.GoodputReqPerS, tt.goodput) || !same(g.SLOMetRatio, tt.ratio) {
			t.Errorf("%s: %d good of %d, goodput %v, ratio %v; want %d of %d, %v, %v",
				tt.name, g.SLOMet, g.Requests, g.GoodputReqPerS, g.SLOMetRatio, tt.good, tt.requests, tt.goodput, tt.ratio)
		}
		if (g.SLO == "") != (tt.slo == "") {
			t.Errorf("%s: slo %q for --slo %q", tt.name, g.SLO, tt.slo)
		}
		warnings := strings.Join(g.Warnings, "\n")
		if tt.warning != "" && !strings.Contains(warnings, tt.warning) {
			t.Errorf("%s: warnings %q lack %q", tt.name, warnings, tt.warning)
		}
		if tt.noWarns != "" && strings.Contains(warnings, tt.noWarns) {
			t.Errorf("%s: warnings %q have %q", tt.name, warnings, tt.noWarns)
		}
	}
}

// paced returns n requests of an open-loop run at rate req/s, scheduled
// every gap and each sent lag later than the one before it.
func paced(rate float64, n int, gap, lag time.Duration) []record.Record {
	var recs []record.Record
	for i := range n {
		r := okRecord("r", i, 20)
		r.Rate = rate
		r.ScheduledAt = t0.Add(time.Duration(i) * gap)
		r.SentAt = r.ScheduledAt.Add(time.Duration(i) * lag)
		r.QueueMs = record.Ms(time.Duration(i) * lag)
		recs = append(recs, r)
	}
	return recs
}

func TestAchievedRateWarning(t *testing.T) {
	ms := time.Millisecond
	closed := paced(10, 10, 150*ms, 0)
	for i := range closed {
		closed[i].Rate = 0
	}
	tests := []struct {
		name string
		recs []record.Record
		want string // "" for no warning
	}{
		{"on schedule", paced(10, 10, 100*ms, 0), ""},
		// 9 gaps over 0.945 s: 9.52 req/s, 4.8% short
		{"within 5%", paced(10, 10, 105*ms, 0), ""},
		// 9 gaps over 1.35 s: 6.67 req/s against a schedule of 10
		{"sends fell behind", paced(10, 10, 100*ms, 50*ms),
			"achieved rate 6.67 req/s is 33.3% below the target 10 req/s (10 requests sent over 1.35 s from the first scheduled send); the sends fell behind a schedule of 10.00 req/s: a full cap on requests in flight or client lag (see queue and sched_latency)"},
		// 9 gaps over 1.08 s, all on time
		{"the schedule offered less", paced(10, 10, 120*ms, 0),
			"achieved rate 8.33 req/s is 16.7% below the target 10 req/s (10 requests sent over 1.08 s from the first scheduled send); the schedule itself offered 8.33 req/s: random arrivals in a short run, or a ramp-up"},
		{"closed loop has no target", closed, ""},
		{"one request has no rate", paced(10, 1, 0, 0), ""},
	}
	for _, tt := range tests {
		g := summarizeRecords(nil, tt.recs...)[0]
		got := ""
		for _, w := range g.Warnings {
			if strings.HasPrefix(w, "achieved rate") {
				got = w
			}
		}
		if got != tt.want {
			t.Errorf("%s: warning\n%q, want\n%q", tt.name, got, tt.want)
		}
	}
	// It is an alert (summarize repeats it on stderr), and the lag warning
	// stays beside it.
	g := summarizeRecords(nil, paced(10, 10, 100*ms, 50*ms)...)[0]
	if len(g.Alerts) != 1 || !strings.HasPrefix(g.Alerts[0], "achieved rate 6.67 req/s is 33.3% below the target 10 req/s") ||
		!strings.Contains(strings.Join(g.Warnings, "\n"), "requests left late: p99 client queue delay") {
		t.Errorf("alerts %q, warnings %q", g.Alerts, g.Warnings)
	}
}

func TestIgnoreEOSWarning(t *testing.T) {
	eos := func(r record.Record, out int, finish string) record.Record {
		r.IgnoreEOS, r.MaxTokens, r.OutputTokens, r.FinishReason = true, 5, out, finish
		return r
	}
	plain := func(r record.Record) record.Record { r.IgnoreEOS = false; return r }
	uncounted := func(r record.Record) record.Record { r.TokensFrom = record.TokensFromNone; return r }
	unlimited := func(r record.Record) record.Record { r.MaxTokens = 0; return r }
	tests := []struct {
		name string
		recs []record.Record
		want string
	}{
		{"outputs short of max_tokens", []record.Record{
			eos(okRecord("r", 0, 100), 5, "length"), eos(okRecord("r", 1, 100), 5, "length"),
			eos(okRecord("r", 2, 100), 3, "stop"), eos(okRecord("r", 3, 100), 2, ""),
		}, "2 of 4 successful requests with ignore_eos have fewer output tokens than max_tokens (e.g. seq 2: 3 of 5 tokens, finish_reason stop): the server may not honour ignore_eos, and per-token figures (TPOT, ITL, tok/s) then describe shorter outputs than the run asked for"},
		{"every output full", []record.Record{eos(okRecord("r", 0, 100), 5, "length")}, ""},
		{"without ignore_eos a short output is the model's choice", []record.Record{plain(eos(okRecord("r", 0, 100), 3, "stop"))}, ""},
		{"no token count: nothing to compare", []record.Record{uncounted(eos(okRecord("r", 0, 100), 0, "stop"))}, ""},
		{"no max_tokens sent", []record.Record{unlimited(eos(okRecord("r", 0, 100), 3, "stop"))}, ""},
		{"failures have no output", []record.Record{failed(eos(okRecord("r", 0, 100), 5, ""), record.ErrStream)}, ""},
	}
	for _, tt := range tests {
		g := summarizeRecords(nil, tt.recs...)[0]
		got := ""
		for _, w := range g.Warnings {
			if strings.Contains(w, "ignore_eos") {
				got = w
			}
		}
		if got != tt.want {
			t.Errorf("%s: warning\n%q, want\n%q", tt.name, got, tt.want)
		}
	}
	g := summarizeRecords(nil, eos(okRecord("r", 0, 100), 3, "stop"))[0]
	if len(g.Alerts) != 1 || !strings.HasPrefix(g.Alerts[0], "1 of 1 successful requests with ignore_eos have fewer output tokens") || g.String() != "run r, lab, concurrency 1, unpaced" {
		t.Errorf("%s: alerts %q", g.String(), g.Alerts)
	}
}
