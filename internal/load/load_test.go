package load

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

func runFake(t *testing.T, f *openaitest.Server, mutate func(*Config)) ([]record.Record, Result, error) {
	t.Helper()
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Requests: 3, Concurrencies: []int{1}, Stream: true, MaxTokens: f.Tokens,
		Timeout: 5 * time.Second, Grace: time.Second, RunID: "test", Label: "unit", APIKey: "sk-secret-123"}
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), &bytes.Buffer{})
	if strings.Contains(out.String(), "sk-secret-123") {
		t.Error("API key written into a record")
	}
	if got := f.LastAuth(); f.Completions.Load() > 0 && got != "Bearer sk-secret-123" {
		t.Errorf("Authorization = %q", got)
	}
	var recs []record.Record
	rd := record.NewReader(&out, "out")
	for rd.Scan() {
		if rd.BadLine() != nil {
			t.Fatalf("bad line written: %v", rd.BadLine())
		}
		recs = append(recs, *rd.Record())
	}
	return recs, res, err
}

func TestStreamingTimings(t *testing.T) {
	f := &openaitest.Server{TTFT: 30 * time.Millisecond, ITL: 10 * time.Millisecond, Tokens: 6}
	recs, res, err := runFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || res.Sent != 3 || res.Failed != 0 || res.Model != "fake-model" {
		t.Fatalf("%d records, result %+v", len(recs), res)
	}
	for _, r := range recs {
		if !r.OK || r.OutputTokens != 6 || r.PromptTokens != 4 || r.TokensFrom != record.TokensFromUsage || r.Model != "fake-model" {
			t.Fatalf("record %+v", r)
		}
		if d := *r.TTFTMs - 30; d < -0.5 || d > 15 {
			t.Errorf("ttft %.2f ms, want about 30", *r.TTFTMs)
		}
		if len(r.ITLMs) != 5 {
			t.Errorf("%d ITL samples, want 5", len(r.ITLMs))
		}
		want := (r.LatencyMs - *r.TTFTMs) / 5
		if r.TPOTMs == nil || *r.TPOTMs != want {
			t.Errorf("tpot %v, want %v", r.TPOTMs, want)
		}
		if r.LatencyMs < 80 || r.QueueMs < 0 || r.QueueMs > 5 {
			t.Errorf("latency %.2f queue %.2f", r.LatencyMs, r.QueueMs)
		}
	}
}

func TestFailuresAreRecords(t *testing.T) {
	tests := []struct {
		mode, kind, msg string
		status          int
	}{
		{openaitest.FaultHTTP500, record.ErrHTTP, "boom", 500},
		{openaitest.FaultErrorEvent, record.ErrStream, "engine failed", 200},
		{openaitest.FaultNoDone, record.ErrStream, "before [DONE]", 200},
		{openaitest.FaultReset, record.ErrStream, "", 200},
		{openaitest.FaultStall, record.ErrTimeout, "", 200},
		{openaitest.FaultNoContent, record.ErrProtocol, "no content", 200},
		{openaitest.FaultJSON200, record.ErrProtocol, "server-sent events", 200},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			f := &openaitest.Server{Tokens: 3, ITL: time.Millisecond, Fault: tt.mode}
			start := time.Now()
			recs, res, err := runFake(t, f, func(c *Config) { c.Timeout = 300 * time.Millisecond; c.Requests = 2 })
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || res.Failed != 2 || f.Completions.Load() != 2 {
				t.Fatalf("%d records, %d failed, %d seen", len(recs), res.Failed, f.Completions.Load())
			}
			r := recs[0]
			if r.OK || r.ErrorKind != tt.kind || !strings.Contains(r.Error, tt.msg) || r.Status != tt.status {
				t.Errorf("record: ok=%v kind=%q error=%q status=%d", r.OK, r.ErrorKind, r.Error, r.Status)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("run took %v", time.Since(start))
			}
		})
	}
}

func TestNonStreaming(t *testing.T) {
	f := &openaitest.Server{TTFT: 20 * time.Millisecond, Tokens: 7}
	recs, _, err := runFake(t, f, func(c *Config) { c.Stream = false; c.Endpoint = "chat" })
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if !r.OK || r.OutputTokens != 7 || r.TTFTMs != nil || r.ITLMs != nil || r.TPOTMs != nil || r.LatencyMs < 20 || r.Endpoint != "chat" {
		t.Fatalf("record %+v", r)
	}
}

func TestConcurrencyAndWarmup(t *testing.T) {
	f := &openaitest.Server{TTFT: 50 * time.Millisecond, ITL: time.Millisecond, Tokens: 2}
	start := time.Now()
	recs, _, err := runFake(t, f, func(c *Config) { c.Requests = 8; c.Warmup = 2; c.Concurrencies = []int{4} })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 {
		t.Fatalf("%d records", len(recs))
	}
	seqs := map[int]string{}
	for _, r := range recs {
		seqs[r.Seq] = r.Phase
		if r.Concurrency != 4 {
			t.Errorf("concurrency %d", r.Concurrency)
		}
	}
	for i := 0; i < 10; i++ {
		want := record.PhaseMeasure
		if i < 2 {
			want = record.PhaseWarmup
		}
		if seqs[i] != want {
			t.Errorf("seq %d phase %q, want %q", i, seqs[i], want)
		}
	}
	// 2 warmup in one wave, then 8 in two waves of 4: about 3 x 50 ms, not 10 x.
	if el := time.Since(start); el > 400*time.Millisecond {
		t.Errorf("took %v: not concurrent?", el)
	}
}

func TestStopLetsInFlightFinish(t *testing.T) {
	f := &openaitest.Server{TTFT: 100 * time.Millisecond, ITL: time.Millisecond, Tokens: 2}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Requests: 100, Concurrencies: []int{3}, Stream: true, Timeout: 5 * time.Second, Grace: 5 * time.Second, Model: "fake-model"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	stop, stopNow := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, stopNow)
	var out bytes.Buffer
	res, err := Run(stop, context.Background(), cfg, record.NewWriter(&out), &bytes.Buffer{})
	if err != ErrInterrupted {
		t.Fatalf("err = %v", err)
	}
	lines := strings.Count(out.String(), "\n")
	if int64(lines) != res.Sent || res.Sent != f.Completions.Load() || res.Sent != 6 || res.Failed != 0 {
		t.Fatalf("%d lines, result %+v, server saw %d", lines, res, f.Completions.Load())
	}
}

func TestAbortCancelsInFlight(t *testing.T) {
	f := &openaitest.Server{Tokens: 3, Fault: "stall"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Requests: 100, Concurrencies: []int{2}, Stream: true, Timeout: time.Minute, Grace: time.Minute, Model: "fake-model"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	stop, stopNow := context.WithCancel(context.Background())
	abort, abortNow := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, stopNow)
	time.AfterFunc(200*time.Millisecond, abortNow)
	var out bytes.Buffer
	start := time.Now()
	res, err := Run(stop, abort, cfg, record.NewWriter(&out), &bytes.Buffer{})
	if err != ErrInterrupted || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	if res.Sent != 2 || res.Failed != 2 || strings.Count(out.String(), `"error_kind":"canceled"`) != 2 {
		t.Fatalf("result %+v, output %s", res, out.String())
	}
}

func TestChatRoleChunkAndZeroUsage(t *testing.T) {
	// The role chunk arrives at once; TTFT must wait for real content.
	// Every chunk carries an all-zero usage (Ollama); the real one wins.
	f := &openaitest.Server{TTFT: 40 * time.Millisecond, ITL: 5 * time.Millisecond, Tokens: 4, ZeroUsage: true}
	recs, _, err := runFake(t, f, func(c *Config) { c.Endpoint = "chat"; c.Requests = 1 })
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if !r.OK || *r.TTFTMs < 39 || r.OutputTokens != 4 || r.TokensFrom != record.TokensFromUsage || len(r.ITLMs) != 3 {
		t.Fatalf("record %+v ttft %v", r, *r.TTFTMs)
	}
}

func TestTimeoutsSayWhichLimit(t *testing.T) {
	tests := []struct {
		name string
		srv  *openaitest.Server
		cfg  func(*Config)
		msg  string
		max  time.Duration
	}{
		{"first token", &openaitest.Server{TTFT: 3 * time.Second, Tokens: 2},
			func(c *Config) { c.FirstTokenTimeout = 150 * time.Millisecond }, "first-token timeout (150ms)", time.Second},
		{"whole request", &openaitest.Server{Tokens: 3, Fault: openaitest.FaultStall},
			func(c *Config) { c.Timeout = 200 * time.Millisecond; c.FirstTokenTimeout = 100 * time.Millisecond }, "request timeout (200ms)", time.Second},
		{"non-streaming", &openaitest.Server{TTFT: 3 * time.Second, Tokens: 2},
			func(c *Config) { c.Stream = false; c.Timeout = 150 * time.Millisecond }, "request timeout (150ms)", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			start := time.Now()
			recs, _, err := runFake(t, tt.srv, func(c *Config) { c.Requests = 2; tt.cfg(c) })
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.ErrorKind != record.ErrTimeout || !strings.Contains(r.Error, tt.msg) {
					t.Errorf("kind %q error %q, want timeout %q", r.ErrorKind, r.Error, tt.msg)
				}
			}
			if el := time.Since(start); el > tt.max {
				t.Errorf("took %v, want under %v", el, tt.max)
			}
			noLeak(t, before)
		})
	}
}

// noLeak waits for the goroutine count to come back to what it was: a
// stalled stream or a canceled run must not leave goroutines behind.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNoGoroutineLeakAfterFaults(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, fault := range []string{openaitest.FaultReset, openaitest.FaultErrorEvent, openaitest.FaultNoDone, openaitest.FaultHTTP500} {
		f := &openaitest.Server{Tokens: 3, Fault: fault}
		if _, _, err := runFake(t, f, func(c *Config) { c.Requests = 4; c.Concurrencies = []int{2} }); err != nil {
			t.Fatal(err)
		}
	}
	noLeak(t, before)
}

func TestKeyEchoedByServerIsRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error"}}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Model: "m", Requests: 1, APIKey: "sk-secret-123", Timeout: time.Second}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "sk-secret-123") || !strings.Contains(out.String(), "provided: [redacted]") {
		t.Errorf("record: %s", out.String())
	}
}

// TestClosedLoopRampUp: a closed loop with a ramp starts its workers
// spread evenly over it (worker i of C at i/C of the ramp, not before),
// and the first requests' scheduled_at is their slot, so that queue_ms
// does not count the ramp.
func TestClosedLoopRampUp(t *testing.T) {
	// Answers slower than the ramp: each worker's first job is its own.
	f := &openaitest.Server{TTFT: 250 * time.Millisecond, ITL: time.Millisecond, Tokens: 2}
	const workers, ramp = 4, 200 * time.Millisecond
	recs, _, err := runFake(t, f, func(c *Config) { c.Requests = workers; c.Concurrencies = []int{workers}; c.RampUp = ramp })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != workers {
		t.Fatalf("%d records", len(recs))
	}
	sent := make([]time.Time, 0, workers)
	for _, r := range recs {
		if !r.OK {
			t.Fatalf("a failure: %s", r.Error)
		}
		if r.QueueMs > 50 {
			t.Errorf("queue_ms %.1f: the ramp's wait counted as the client's holding time", r.QueueMs)
		}
		sent = append(sent, r.SentAt)
	}
	slices.SortFunc(sent, func(a, b time.Time) int { return a.Compare(b) })
	for i, at := range sent {
		if slot := ramp * time.Duration(i) / workers; at.Sub(sent[0]) < slot-2*time.Millisecond {
			t.Errorf("worker %d sent %v after the first, before its slot %v", i, at.Sub(sent[0]), slot)
		}
	}
	bad := &Config{URL: "http://127.0.0.1:1", Requests: 2, Concurrencies: []int{2}, RampUp: -time.Second}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "cannot be negative") {
		t.Errorf("a negative ramp: %v", err)
	}
}
