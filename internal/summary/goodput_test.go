package summary

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/record"
	"servebench/internal/report"
)

func summarizeSLO(t *testing.T, spec string, recs ...record.Record) []report.Group {
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

func TestGoodputGate(t *testing.T) {
	ratio := func(v float64) *float64 { return &v }
	// Group a: 1 of 2 within e2e=150ms (50%). Group b (label fast): 2 of 2.
	fast := func(r record.Record) record.Record { r.Label = "fast"; return r }
	in := lines(t, okRecord("a", 0, 100), okRecord("a", 1, 200), fast(okRecord("b", 2, 100)), fast(okRecord("b", 3, 100)))
	tests := []struct {
		name   string
		cfg    Config
		code   cmdline.ExitCode
		stderr []string // substrings, in order
	}{
		{"below: exit 4, the group and the shortfall named", Config{SLO: "e2e=150ms", MinGoodputRatio: ratio(0.9)}, ExitGoodput, []string{
			"summarize: goodput: run a, lab, concurrency 1, unpaced: slo_met_ratio 0.500 (1 of 2 requests met e2e=150ms) is 0.400 below --min-goodput-ratio 0.9: 1 more good request needed\n",
			"summarize: 1 of 2 groups below --min-goodput-ratio 0.9\n",
		}},
		{"at the limit passes", Config{SLO: "e2e=150ms", MinGoodputRatio: ratio(0.5)}, cmdline.ExitOK, nil},
		{"every request must be good", Config{SLO: "e2e=150ms", MinGoodputRatio: ratio(1)}, ExitGoodput, []string{"run a, lab", "1 of 2 groups below"}},
		{"both below", Config{SLO: "e2e=50ms", MinGoodputRatio: ratio(0.1)}, ExitGoodput, []string{
			"run a, lab, concurrency 1, unpaced: slo_met_ratio 0.000 (0 of 2 requests met e2e=50ms) is 0.100 below --min-goodput-ratio 0.1: 1 more good request needed",
			"run b, fast, concurrency 1, unpaced: slo_met_ratio 0.000",
			"2 of 2 groups below",
		}},
		{"--slo alone reports and never fails", Config{SLO: "e2e=1ms"}, cmdline.ExitOK, nil},
		{"gate without --slo", Config{MinGoodputRatio: ratio(0.9)}, cmdline.ExitUsage, []string{"--min-goodput-ratio needs --slo"}},
		{"ratio 0 gates nothing", Config{SLO: "e2e=1s", MinGoodputRatio: ratio(0)}, cmdline.ExitUsage, []string{"--min-goodput-ratio 0: want a share of requests above 0 and at most 1"}},
		{"ratio above 1", Config{SLO: "e2e=1s", MinGoodputRatio: ratio(90)}, cmdline.ExitUsage, []string{"--min-goodput-ratio 90: want a share"}},
		{"ratio NaN", Config{SLO: "e2e=1s", MinGoodputRatio: ratio(math.NaN())}, cmdline.ExitUsage, []string{"--min-goodput-ratio NaN"}},
		{"bad --slo", Config{SLO: "itl=5ms"}, cmdline.ExitUsage, []string{`--slo "itl=5ms": no ITL objective`}},
		{"not with a comparison", Config{SLO: "e2e=1s", Baseline: []string{"testdata/old.jsonl"}}, cmdline.ExitUsage, []string{"not a comparison"}},
		{"gate not with a comparison", Config{SLO: "e2e=1s", MinGoodputRatio: ratio(0.9), Files: []string{"old=testdata/old.jsonl", "new=testdata/new.jsonl"}}, cmdline.ExitUsage, []string{"not a comparison"}},
	}
	for _, tt := range tests {
		stdout, stderr, code := run(t, in, tt.cfg)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", tt.name, code, tt.code, stderr)
			continue
		}
		rest := stderr
		for _, want := range tt.stderr {
			i := strings.Index(rest, want)
			if i < 0 {
				t.Errorf("%s: stderr lacks %q (in order):\n%s", tt.name, want, stderr)
				break
			}
			rest = rest[i+len(want):]
		}
		switch {
		case tt.code == cmdline.ExitUsage && stdout != "":
			t.Errorf("%s: a usage error wrote %q", tt.name, stdout)
		case tt.code != cmdline.ExitUsage && !strings.Contains(stdout, "Request goodput (req/s):"):
			t.Errorf("%s: the report must be written, gate or not:\n%s", tt.name, stdout)
		}
	}
}

// TestGoodputGateWritesFirst: a failed gate still appends the CSV row and
// the log block, and its message follows them.
func TestGoodputGateWritesFirst(t *testing.T) {
	dir := t.TempDir()
	csvPath, logPath := filepath.Join(dir, "runs.csv"), filepath.Join(dir, "runs.log")
	least := 0.9
	in := lines(t, okRecord("r", 0, 100), failed(okRecord("r", 1, 100), record.ErrTimeout))
	stdout, stderr, code := run(t, in, Config{SLO: "e2e=1s", MinGoodputRatio: &least, CSVFile: csvPath, LogFile: logPath, Format: "json"})
	if code != ExitGoodput || !strings.Contains(stderr, "slo_met_ratio 0.500 (1 of 2 requests met e2e=1s) is 0.400 below") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var doc struct{ Groups []map[string]any }
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Groups) != 1 {
		t.Fatalf("%v: %s", err, stdout)
	}
	if g := doc.Groups[0]; g["slo"] != "e2e=1s" || g["slo_met_ratio"] != 0.5 || g["goodput_req_per_s"] != 1/1.1 {
		t.Errorf("JSON goodput keys: slo %v, ratio %v, goodput %v", g["slo"], g["slo_met_ratio"], g["goodput_req_per_s"])
	}
	rows := readCSV(t, csvPath)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if len(rows) != 2 || rows[1][col["slo"]] != "e2e=1s" || rows[1][col["goodput_req_per_s"]] != "0.909" || rows[1][col["slo_met_ratio"]] != "0.500" {
		t.Errorf("CSV rows %q", rows)
	}
	if log, _ := os.ReadFile(logPath); !strings.Contains(string(log), "SLO met (% of requests):                 50.00 (1 of 2)\n") {
		t.Errorf("log block:\n%s", log)
	}
}

// TestGoodputGateNeedsEvidence: a group without measured requests (warmup
// only, an interrupted run) fails the gate rather than pass unjudged.
func TestGoodputGateNeedsEvidence(t *testing.T) {
	w := okRecord("w", 0, 100)
	w.Phase = record.PhaseWarmup
	least := 0.5
	_, stderr, code := run(t, lines(t, okRecord("r", 0, 100), w), Config{SLO: "e2e=1s", MinGoodputRatio: &least})
	if code != ExitGoodput || !strings.Contains(stderr, "summarize: goodput: run w, lab, concurrency 1, unpaced: no measured requests to judge against --min-goodput-ratio 0.5") ||
		!strings.Contains(stderr, "1 of 2 groups below") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestGoodNeeded(t *testing.T) {
	tests := []struct {
		n     int
		least float64
		want  int
	}{
		{10, 0.9, 9}, {2, 0.9, 2}, {2, 0.5, 1}, {3, 2.0 / 3, 2}, {10000, 0.9, 9000}, {7, 1, 7}, {1, 0.01, 1}, {3, 0.7, 3},
	}
	for _, tt := range tests {
		if got := goodNeeded(tt.n, tt.least); got != tt.want {
			t.Errorf("goodNeeded(%d, %v) = %d, want %d", tt.n, tt.least, got, tt.want)
		}
		if k := goodNeeded(tt.n, tt.least); float64(k)/float64(tt.n) < tt.least || k > 0 && float64(k-1)/float64(tt.n) >= tt.least {
			t.Errorf("goodNeeded(%d, %v) = %d is not the least k with k/n >= least", tt.n, tt.least, k)
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
			"achieved rate 6.67 req/s is 33.3% below the target 10 req/s (10 requests sent over 1.35 s from the first scheduled send); the sends fell behind a schedule of 10.00 req/s: a full --max-concurrency or client lag (see queue and sched_latency)"},
		// 9 gaps over 1.08 s, all on time
		{"the schedule offered less", paced(10, 10, 120*ms, 0),
			"achieved rate 8.33 req/s is 16.7% below the target 10 req/s (10 requests sent over 1.08 s from the first scheduled send); the schedule itself offered 8.33 req/s: random arrivals in a short run, or a --ramp-up"},
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
	// Main repeats it on stderr, naming the group, and keeps it in JSON.
	stdout, stderr, code := run(t, lines(t, paced(10, 10, 100*ms, 50*ms)...), Config{Format: "json"})
	if code != cmdline.ExitOK || !strings.Contains(stderr, "summarize: warning: run r, lab, concurrency 1, 10 req/s: achieved rate 6.67 req/s is 33.3% below the target 10 req/s") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `"achieved rate 6.67 req/s`) || !strings.Contains(stdout, `"requests left late: p99 client queue delay`) {
		t.Errorf("JSON warnings must hold the rate warning and keep the lag warning:\n%s", stdout)
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
	_, stderr, _ := run(t, lines(t, eos(okRecord("r", 0, 100), 3, "stop")), Config{Format: "csv"})
	if !strings.Contains(stderr, "summarize: warning: run r, lab, concurrency 1, unpaced: 1 of 1 successful requests with ignore_eos have fewer output tokens") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
