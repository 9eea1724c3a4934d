package summary

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"servebench/internal/openai"
	"servebench/internal/record"
)

// The input files of the golden tests are made here, from record.Record
// values written by record.Writer, so that they are lines genload could have
// written: the record contract holds for them by construction. Regenerate
// them, and then the golden files that follow from them (whose tests are
// cmd/summarize's), with
//
//	go test ./internal/summary -update && go test ./cmd/summarize -update
//
// and read the golden diffs before committing. TestFixturesUpToDate fails
// when a committed file differs from what its generator makes now.
var fixtures = []struct {
	name string
	gen  func(*fixtureWriter)
}{
	{"old.jsonl", func(w *fixtureWriter) { compareSide(w, "old", 0, 0, false) }},
	{"new.jsonl", func(w *fixtureWriter) { compareSide(w, "new", 10, 10, true) }},
	{"mixed.jsonl", mixedFixture},
	{"reasoning.jsonl", reasoningFixture},
}

var update = flag.Bool("update", false, "rewrite the fixtures in testdata from their generators")

// TestMain rewrites the fixtures under -update before any test runs, so
// that the golden tests of the same run read the new ones.
func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := writeFixtures(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// writeFixtures writes every fixture to testdata.
func writeFixtures() error {
	for _, f := range fixtures {
		if err := os.WriteFile(filepath.Join("testdata", f.name), fixtureBytes(f.gen), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// TestFixturesUpToDate keeps the committed fixtures and their generators
// from drifting apart.
func TestFixturesUpToDate(t *testing.T) {
	for _, f := range fixtures {
		want, err := os.ReadFile(filepath.Join("testdata", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fixtureBytes(f.gen); !bytes.Equal(got, want) {
			t.Errorf("testdata/%s is not what its generator makes (go test ./internal/summary -update rewrites it)", f.name)
		}
	}
}

// fixtureBytes runs a generator and returns what it wrote.
func fixtureBytes(gen func(*fixtureWriter)) []byte {
	var buf bytes.Buffer
	w := &fixtureWriter{out: &buf, rw: record.NewWriter(&buf)}
	gen(w)
	if w.err != nil {
		panic(w.err) // a record the encoder refuses is a bug in the generator
	}
	return buf.Bytes()
}

// fixtureWriter writes records with the record package's Writer, and raw
// lines (the bad input a reader must survive) between them. The Writer
// has no flush interval, so each line is out before the next is written.
type fixtureWriter struct {
	out *bytes.Buffer
	rw  *record.Writer
	err error
}

// rec writes one record.
func (w *fixtureWriter) rec(r *record.Record) {
	if err := w.rw.Write(r); err != nil && w.err == nil {
		w.err = err
	}
}

// raw writes a line that is not a record.
func (w *fixtureWriter) raw(line string) {
	w.out.WriteString(line + "\n")
}

// fixtureT0 is the fixtures' clock: every time is an offset from it.
var fixtureT0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fixtureAt is fixtureT0 plus ms milliseconds.
func fixtureAt(ms float64) time.Time {
	return fixtureT0.Add(time.Duration(ms * float64(time.Millisecond)))
}

// fixtureBase is a record's identity and load point, as genload writes them
// against llmsim's completions endpoint.
func fixtureBase(run, label string, seq int, conc, maxTokens int) record.Record {
	return record.Record{
		Schema: record.Schema, RunID: run, Label: label, Seq: seq, Phase: record.PhaseMeasure,
		Model: "m", URL: "http://127.0.0.1:8000/v1/completions", Endpoint: openai.EndpointCompletions,
		Stream: true, Concurrency: conc, MaxTokens: maxTokens,
	}
}

// succeed fills in a streamed success with these timings: the latency is
// TTFT plus the gaps, one token per chunk, counts from usage.
func succeed(r *record.Record, prompt int, ttft float64, itl []float64) {
	sum := 0.0
	for _, v := range itl {
		sum += v
	}
	r.TTFTMs, r.LatencyMs, r.ITLMs = record.Float(ttft), ttft+sum, itl
	r.TPOTMs = record.Float(sum / float64(len(itl)))
	r.PromptTokens, r.OutputTokens, r.TokensFrom = prompt, len(itl)+1, record.TokensFromUsage
	r.FinishReason, r.Status, r.OK = "length", 200, true
}

// fail fills in a failure of kind, with the message "KIND failure".
func fail(r *record.Record, prompt, status int, kind string, latency float64) {
	r.LatencyMs, r.PromptTokens, r.TokensFrom = latency, prompt, record.TokensFromNone
	r.Status, r.OK, r.ErrorKind, r.Error = status, false, kind, kind+" failure"
}

// compareSide writes one side of the comparison fixture (old.jsonl or
// new.jsonl). Latency, concurrency 1: six runs of five requests (a per-run
// test), TTFT slowerMs later in new. Throughput, concurrency 4: one run of
// 40 requests (a per-request test), the first failures of them failed.
// With extraPoint, a concurrency-8 point that only new has (not compared:
// a warning). Jitter is arithmetic, not random, so the files never change.
func compareSide(w *fixtureWriter, side string, slowerMs float64, failures int, extraPoint bool) {
	for run := range 6 {
		for j := range 5 {
			itl := []float64{5 + jitter(j, run)/10, 5 + jitter(run+1, j)/10, 5}
			w.rec(compareRec(fmt.Sprintf("%s-lat-%d", side, run), "latency", j, 1, float64(run*10000+100*j),
				50+slowerMs+jitter(run, j), itl, true))
		}
	}
	for j := range 40 {
		itl := []float64{6 + jitter(j, 2), 6 + jitter(j, 3), 6 + jitter(j, 4)}
		w.rec(compareRec(side+"-tput", "throughput", j, 4, float64(100000+25*j), 80+5*jitter(j, 1), itl, j >= failures))
	}
	if extraPoint {
		for j := range 8 {
			w.rec(compareRec(side+"-tput", "throughput", 40+j, 8, float64(102000+10*j), 90, []float64{7, 7, 7}, true))
		}
	}
}

// jitter is a fixed pattern of tenths in [0, 0.9], for variation without
// randomness.
func jitter(a, b int) float64 {
	return float64((a*7+b*3)%10) / 10
}

// compareRec is a comparison fixture's record: sent on schedule, 4 tokens
// asked with ignore_eos; a failure is a 503 after 5 ms.
func compareRec(run, label string, seq, conc int, schedMs, ttft float64, itl []float64, ok bool) *record.Record {
	r := fixtureBase(run, label, seq, conc, 4)
	r.IgnoreEOS = true
	r.ScheduledAt, r.SentAt = fixtureAt(schedMs), fixtureAt(schedMs)
	if ok {
		succeed(&r, 10, ttft, itl)
	} else {
		fail(&r, 10, 503, record.ErrHTTP, 5)
	}
	return &r
}

// mixedFixture writes mixed.jsonl: three runs, a sweep of two load points,
// warmup, failures of several kinds, chunk-counted tokens, a non-streaming
// run whose label tries formula injection, and bad lines. Only r1 asks for
// ignore_eos yet gets 4 of 8 tokens (a server that ignored it); r3 asks for
// it and gets all 8.
func mixedFixture(w *fixtureWriter) {
	mixedSweep(w)
	mixedLatency(w)
	mixedNotStreamed(w)
}

// mixedSweep is r2: two open-loop load points, listed first but started
// later, each ending in a failure, with bad lines among them.
func mixedSweep(w *fixtureWriter) {
	for i := range 4 {
		m := mixedRec{run: "r2", label: "throughput", seq: i, conc: 4, rate: 2, schedMs: float64(10000 + 500*i),
			queueMs: 0.25 * float64(i), latencyMs: float64(300 + 10*i), ttft: record.Float(float64(50 + i)),
			itl: []float64{80, float64(85 + i), 90}, chunks: i == 3}
		w.rec(m.record())
	}
	w.rec(mixedRec{run: "r2", label: "throughput", seq: 4, conc: 4, rate: 2, schedMs: 12000, latencyMs: 5,
		failKind: record.ErrHTTP, status: 503}.record())
	w.raw("not json at all")
	for i := range 3 {
		m := mixedRec{run: "r2", label: "throughput", seq: 5 + i, conc: 4, rate: 4, schedMs: float64(20000 + 250*i),
			queueMs: float64(20 + 10*i), latencyMs: 200, ttft: record.Float(40), itl: []float64{50, 60, 70}}
		w.rec(m.record())
	}
	w.rec(mixedRec{run: "r2", label: "throughput", seq: 8, conc: 4, rate: 4, schedMs: 20750, latencyMs: 1000,
		failKind: record.ErrConnect}.record())
	w.raw(`{"schema":1,"run_id":"r2","seq":9,`)
	w.raw("")
}

// mixedLatency is r1: closed loop, one at a time, a warmup, and a timeout.
func mixedLatency(w *fixtureWriter) {
	w.rec(mixedRec{run: "r1", label: "latency", warmup: true, conc: 1, latencyMs: 999, ttft: record.Float(999),
		itl: []float64{999, 999, 999}, ignoreEOS: true}.record())
	for i, s := range []struct{ lat, ttft float64 }{{400, 100}, {420, 120}, {380, 80}, {500, 110}} {
		itl := [][]float64{{90, 100, 110}, {100, 100, 100}, {95, 100, 105}, {130, 130, 130}}[i]
		w.rec(mixedRec{run: "r1", label: "latency", seq: 1 + i, conc: 1, schedMs: float64(1000 + 500*i),
			latencyMs: s.lat, ttft: record.Float(s.ttft), itl: itl, ignoreEOS: true}.record())
	}
	w.rec(mixedRec{run: "r1", label: "latency", seq: 5, conc: 1, schedMs: 3000, latencyMs: 1500,
		failKind: record.ErrTimeout, ignoreEOS: true}.record())
}

// mixedNotStreamed is r3: not streaming, with a label a spreadsheet would
// evaluate and a model name that needs quoting in CSV.
func mixedNotStreamed(w *fixtureWriter) {
	for i := range 2 {
		w.rec(mixedRec{run: "r3", label: "=cmd()", seq: i, conc: 2, schedMs: 30000, latencyMs: float64(250 + 50*i),
			prompt: 20, out: 8, notStreamed: true, model: `org/model, "quoted"`, ignoreEOS: true}.record())
	}
}

// mixedRec is what varies between the records of mixed.jsonl; zero values
// are the common case (measure phase, model m, streamed, 10 prompt and 4
// output tokens from usage, a success).
type mixedRec struct {
	run, label                  string
	seq, conc                   int
	warmup                      bool
	rate                        float64
	schedMs, queueMs, latencyMs float64
	ttft                        *float64 // nil: no content was timed
	itl                         []float64
	prompt, out                 int // 0: 10 and 4
	chunks                      bool
	notStreamed                 bool
	failKind                    string // "": a success
	status                      int    // of a failure
	model                       string // "": m
	ignoreEOS                   bool
}

// record builds the record. TPOT follows the contract's formula from the
// latency and TTFT given, which the ITL samples need not add up to.
func (m mixedRec) record() *record.Record {
	r := fixtureBase(m.run, m.label, m.seq, m.conc, 8)
	if m.warmup {
		r.Phase = record.PhaseWarmup
	}
	if m.model != "" {
		r.Model = m.model
	}
	r.Stream, r.IgnoreEOS, r.Rate = !m.notStreamed, m.ignoreEOS, m.rate
	r.ScheduledAt, r.SentAt, r.QueueMs = fixtureAt(m.schedMs), fixtureAt(m.schedMs+m.queueMs), m.queueMs
	r.TTFTMs, r.LatencyMs, r.ITLMs = m.ttft, m.latencyMs, m.itl
	if m.failKind != "" {
		fail(&r, m.promptTokens(), m.status, m.failKind, m.latencyMs)
		return &r
	}
	m.succeed(&r)
	return &r
}

// succeed fills in the counts of a success.
func (m mixedRec) succeed(r *record.Record) {
	r.PromptTokens, r.OutputTokens, r.TokensFrom = m.promptTokens(), 4, record.TokensFromUsage
	if m.out != 0 {
		r.OutputTokens = m.out
	}
	if m.chunks {
		r.TokensFrom = record.TokensFromChunks
	}
	if m.ttft != nil && r.OutputTokens > 1 {
		r.TPOTMs = record.Float((m.latencyMs - *m.ttft) / float64(r.OutputTokens-1))
	}
	r.FinishReason, r.Status, r.OK = "length", 200, true
}

// promptTokens is the prompt's length, 10 unless given.
func (m mixedRec) promptTokens() int {
	if m.prompt != 0 {
		return m.prompt
	}
	return 10
}

// reasoningFixture writes reasoning.jsonl: a chat run against a reasoning
// model, closed loop at concurrency 2. Each answer reasons for 8 tokens
// (5 ms apart) before its 4 answer tokens, so TTFO is TTFT + 40 ms; usage
// reports the reasoning tokens, and the prompt tokens found in the prefix
// cache. Every third request answers with a tool call instead of text.
func reasoningFixture(w *fixtureWriter) {
	for j := range 6 {
		r := fixtureBase("think", "reasoning", j, 2, 16)
		r.URL, r.Endpoint = "http://127.0.0.1:8000/v1/chat/completions", openai.EndpointChat
		r.RequestID = fmt.Sprintf("think-%d", j)
		r.ScheduledAt, r.SentAt = fixtureAt(float64(200*j)), fixtureAt(float64(200*j))
		itl := make([]float64, 11)
		for i := range itl {
			itl[i] = 5 + jitter(i, j)/10
		}
		ttft := 30 + 2*jitter(j, 1)
		succeed(&r, 20, ttft, itl)
		r.TTFOMs = record.Float(ttft + itl[0] + itl[1] + itl[2] + itl[3] + itl[4] + itl[5] + itl[6] + itl[7])
		r.ReasoningTokens, r.ReasoningFrom, r.CachedTokens = 8, record.TokensFromUsage, 16
		r.FinishReason = "stop"
		if j%3 == 2 {
			r.ToolCalls, r.FinishReason = 1, "tool_calls"
		}
		w.rec(&r)
	}
}
