package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"servebench/internal/record"
)

// fakeServer is a minimal vLLM-shaped server written for these tests: it
// streams `tokens` chunks, one every itl after ttft, and can misbehave.
type fakeServer struct {
	ttft, itl time.Duration
	tokens    int
	mode      string // "", "http500", "errorevent", "nodone", "reset", "stall", "nocontent", "json200"
	seen      atomic.Int64
	auth      atomic.Value
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/models" {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"fake-model","object":"model","max_model_len":2048}]}`)
		return
	}
	f.seen.Add(1)
	f.auth.Store(r.Header.Get("Authorization"))
	var req struct {
		Stream bool `json:"stream"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	switch f.mode {
	case "http500":
		w.WriteHeader(500)
		fmt.Fprint(w, `{"error":{"message":"boom","type":"InternalServerError","code":500}}`)
		return
	case "json200":
		fmt.Fprint(w, `{"choices":[{"text":"hi","finish_reason":"stop"}]}`)
		return
	}
	if !req.Stream {
		time.Sleep(f.ttft)
		fmt.Fprintf(w, `{"choices":[{"text":"a b c","finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":%d,"total_tokens":%d}}`, f.tokens, f.tokens+4)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	fl.Flush()
	start := time.Now()
	for i := 0; i < f.tokens; i++ {
		time.Sleep(time.Until(start.Add(f.ttft + time.Duration(i)*f.itl)))
		switch {
		case f.mode == "errorevent" && i == 1:
			fmt.Fprint(w, "data: {\"error\":{\"message\":\"engine failed\",\"code\":500}}\n\n")
			return
		case f.mode == "reset" && i == 1:
			fl.Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(interface{ SetLinger(int) error }).SetLinger(0)
			conn.Close()
			return
		case f.mode == "stall" && i == 1:
			<-r.Context().Done()
			return
		}
		text := " tok"
		if f.mode == "nocontent" {
			text = ""
		}
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":%q,\"finish_reason\":null}]}\n\n", text)
		fl.Flush()
	}
	if f.mode == "nodone" {
		return
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\ndata: [DONE]\n\n", f.tokens, f.tokens+4)
}

func runFake(t *testing.T, f *fakeServer, mutate func(*Config)) ([]record.Record, Result, error) {
	t.Helper()
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Requests: 3, Concurrency: 1, Stream: true, MaxTokens: f.tokens,
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
	if got := f.auth.Load(); got != nil && got != "Bearer sk-secret-123" {
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
	f := &fakeServer{ttft: 30 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 6}
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
		{"http500", record.ErrHTTP, "boom", 500},
		{"errorevent", record.ErrStream, "engine failed", 200},
		{"nodone", record.ErrStream, "before [DONE]", 200},
		{"reset", record.ErrStream, "", 200},
		{"stall", record.ErrTimeout, "", 200},
		{"nocontent", record.ErrProtocol, "no content", 200},
		{"json200", record.ErrProtocol, "server-sent events", 200},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			f := &fakeServer{tokens: 3, itl: time.Millisecond, mode: tt.mode}
			start := time.Now()
			recs, res, err := runFake(t, f, func(c *Config) { c.Timeout = 300 * time.Millisecond; c.Requests = 2 })
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || res.Failed != 2 || f.seen.Load() != 2 {
				t.Fatalf("%d records, %d failed, %d seen", len(recs), res.Failed, f.seen.Load())
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
	f := &fakeServer{ttft: 20 * time.Millisecond, tokens: 7}
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
	f := &fakeServer{ttft: 50 * time.Millisecond, itl: time.Millisecond, tokens: 2}
	start := time.Now()
	recs, _, err := runFake(t, f, func(c *Config) { c.Requests = 8; c.Warmup = 2; c.Concurrency = 4 })
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
	f := &fakeServer{ttft: 100 * time.Millisecond, itl: time.Millisecond, tokens: 2}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Requests: 100, Concurrency: 3, Stream: true, Timeout: 5 * time.Second, Grace: 5 * time.Second, Model: "m"}
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
	if int64(lines) != res.Sent || res.Sent != f.seen.Load() || res.Sent != 6 || res.Failed != 0 {
		t.Fatalf("%d lines, result %+v, server saw %d", lines, res, f.seen.Load())
	}
}

func TestAbortCancelsInFlight(t *testing.T) {
	f := &fakeServer{tokens: 3, mode: "stall"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Requests: 100, Concurrency: 2, Stream: true, Timeout: time.Minute, Grace: time.Minute, Model: "m"}
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
