package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	rates, err := ParseFaultRates([]string{"http503=0.25", " reset=0.5"})
	if err != nil || fmt.Sprint(rates) != "[{http503 0.25} {reset 0.5}]" {
		t.Errorf("rates %v, %v", rates, err)
	}
	cycle, err := ParseFaultCycle([]string{"none", "http500-flat", "oversized"})
	if err != nil || fmt.Sprint(cycle) != "[none http500-flat oversized]" {
		t.Errorf("cycle %v, %v", cycle, err)
	}
	for _, bad := range [][]string{{"reset"}, {"nope=0.1"}, {"reset=lots"}} {
		if _, err := ParseFaultRates(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseFaultRates(%q): %v, want ErrConfig", bad, err)
		}
	}
	if _, err := ParseFaultCycle([]string{"none", "http418"}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "http429") {
		t.Errorf("unknown kind in a cycle: %v, want ErrConfig listing the kinds", err)
	}
}

// TestFaultNames: each fault has one name of its own that ParseFault reads
// back, and a name fits where users and tools put it: in --fault KIND=RATE
// lists, in a metric's kind="..." label, in error messages.
func TestFaultNames(t *testing.T) {
	names := FaultNames()
	if len(names) != int(numFaults) || names[0] != "none" {
		t.Fatalf("FaultNames() = %q: want every fault, none first", names)
	}
	seen := map[string]bool{}
	for f := FaultNone; f < numFaults; f++ {
		name := f.String()
		if got, err := ParseFault(name); err != nil || got != f || names[f] != name {
			t.Errorf("fault %d: name %q, FaultNames %q, parsed back as %v (%v)", f, name, names[f], got, err)
		}
		if seen[name] || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Errorf("fault %d: name %q repeated or not lowercase letters, digits and hyphens", f, name)
		}
		seen[name] = true
	}
}

func TestValidateFaults(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"rates", func(c *Config) { c.FaultRates = []FaultRate{{FaultReset, 0.5}, {FaultStall, 0.5}} }, true},
		{"cycle", func(c *Config) { c.FaultCycle = []Fault{FaultNone, FaultSlowHeaders} }, true},
		// Only one mechanism decides a request's fault.
		{"rates and cycle", func(c *Config) { c.FaultRates = []FaultRate{{FaultReset, 0.1}}; c.FaultCycle = []Fault{FaultNone} }, false},
		// At most one fault per request: the probabilities add up to 1 at most.
		{"sum above 1", func(c *Config) { c.FaultRates = []FaultRate{{FaultReset, 0.6}, {FaultStall, 0.5}} }, false},
		{"rate above 1", func(c *Config) { c.FaultRates = []FaultRate{{FaultReset, 1.5}} }, false},
		{"negative rate", func(c *Config) { c.FaultRates = []FaultRate{{FaultReset, -0.1}} }, false},
		{"NaN rate", func(c *Config) { c.FaultRates = []FaultRate{{FaultReset, math.NaN()}} }, false},
		{"twice", func(c *Config) { c.FaultRates = []FaultRate{{FaultReset, 0.1}, {FaultReset, 0.1}} }, false},
		{"rate for none", func(c *Config) { c.FaultRates = []FaultRate{{FaultNone, 0.1}} }, false},
		{"unknown kind", func(c *Config) { c.FaultCycle = []Fault{numFaults} }, false},
		// slow-headers with no delay would be no fault at all.
		{"slow-headers of 0", func(c *Config) { c.FaultCycle = []Fault{FaultSlowHeaders}; c.SlowHeaders = 0 }, false},
		{"negative fault-after", func(c *Config) { c.FaultAfter = -1 }, false},
		{"negative oversize", func(c *Config) { c.OversizeBytes = -1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			if err := cfg.Validate(); (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("Validate: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// faultServer serves cfg with every request acting out fault f.
func faultServer(t *testing.T, cfg Config, f Fault) (*Server, string) {
	t.Helper()
	cfg.FaultCycle = []Fault{f}
	s, ts := newTestServer(t, cfg)
	return s, ts.URL
}

func genBody(stream bool) string {
	return fmt.Sprintf(`{"prompt":"a b","messages":[{"role":"user","content":"a b"}],"max_tokens":5,"ignore_eos":true,"stream":%v%s}`,
		stream, map[bool]string{true: `,"stream_options":{"include_usage":true}`}[stream])
}

var httpFaultKinds = []Fault{FaultHTTP400, FaultHTTP429, FaultHTTP500, FaultHTTP503,
	FaultHTTP400Flat, FaultHTTP429Flat, FaultHTTP500Flat, FaultHTTP503Flat}

func TestHTTPFaults(t *testing.T) {
	for _, f := range httpFaultKinds {
		want := httpFaults[f]
		for _, stream := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v stream=%v", f, stream), func(t *testing.T) {
				s, url := faultServer(t, Config{TTFT: time.Second}, f)
				start := time.Now()
				resp, body := post(t, url+"/v1/chat/completions", genBody(stream))
				if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
					t.Errorf("answered after %v: HTTP faults answer at once", elapsed)
				}
				if resp.StatusCode != want.code || resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("status %d %q, want %d application/json", resp.StatusCode, resp.Header.Get("Content-Type"), want.code)
				}
				if ra := resp.Header.Get("Retry-After"); (want.code == 429) != (ra == "1") {
					t.Errorf("Retry-After %q", ra)
				}
				var e map[string]any
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
				if !want.flat {
					if typ := errorType(t, body); typ != want.typ {
						t.Errorf("type %q, want %q", typ, want.typ)
					}
					e = e["error"].(map[string]any)
				} else if p, ok := e["param"]; len(e) != 5 || e["object"] != "error" || e["type"] != want.typ || !ok || p != nil {
					t.Errorf("flat error body %s", body)
				}
				if e["code"] != float64(want.code) || e["message"] != want.msg || !strings.Contains(want.msg, "llmsim fault "+f.String()) {
					t.Errorf("error body %s, want code %d and message %q", body, want.code, want.msg)
				}
				if r := s.slots.running.Load(); r != 0 {
					t.Errorf("%d slots held", r)
				}
			})
		}
	}
}

// readEvents reads an SSE body to its end and returns the data of each
// event and the error the body ended with (nil for a clean end).
func readEvents(body io.Reader) ([]string, error) {
	var events []string
	r := bufio.NewReader(body)
	for {
		line, err := r.ReadString('\n')
		if data, ok := strings.CutPrefix(line, "data: "); ok && err == nil {
			events = append(events, strings.TrimSuffix(data, "\n"))
		}
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, err
		}
	}
}

// tokenEvents counts the chunks that carry text, stopping at the first
// event that is not a chunk.
func tokenEvents(events []string) int {
	n := 0
	for _, e := range events {
		var c chunk
		if json.Unmarshal([]byte(e), &c) != nil || !c.hasContent() {
			continue
		}
		n++
	}
	return n
}

func TestStreamFaults(t *testing.T) {
	const pad = 1 << 20
	tests := []struct {
		fault Fault
		// check gets the events after chat's role chunk and the body's
		// ending error.
		check func(t *testing.T, resp *http.Response, events []string, err error)
	}{
		// Two tokens, then a reset: the client reads them, then ECONNRESET.
		{FaultReset, func(t *testing.T, resp *http.Response, events []string, err error) {
			if len(events) != 2 || tokenEvents(events) != 2 || err == nil || !strings.Contains(err.Error(), "connection reset by peer") {
				t.Errorf("events %q, error %v; want 2 tokens then a reset", events, err)
			}
		}},
		// Two tokens, vLLM's error event, [DONE], a clean end.
		{FaultStreamError, func(t *testing.T, resp *http.Response, events []string, err error) {
			if len(events) != 4 || tokenEvents(events) != 2 || events[3] != "[DONE]" || err != nil {
				t.Fatalf("events %q, error %v; want 2 tokens, an error event and [DONE]", events, err)
			}
			var e map[string]map[string]any
			if err := json.Unmarshal([]byte(events[2]), &e); err != nil || len(e) != 1 {
				t.Fatalf("error event %s: %v", events[2], err)
			}
			if p, ok := e["error"]["param"]; e["error"]["message"] != generationFailed.msg || e["error"]["type"] != "InternalServerError" || e["error"]["code"] != 500.0 || !ok || p != nil {
				t.Errorf("error event %s", events[2])
			}
		}},
		// The third token's chunk is cut short; the rest of the stream is whole.
		{FaultMalformed, func(t *testing.T, resp *http.Response, events []string, err error) {
			if len(events) != 7 || err != nil || events[6] != "[DONE]" || tokenEvents(events) != 4 {
				t.Fatalf("events %q, error %v; want 5 tokens (one malformed), usage, [DONE]", events, err)
			}
			if json.Valid([]byte(events[2])) || !strings.HasPrefix(events[2], `{"id":`) {
				t.Errorf("event 2 %q should be a chunk cut short", events[2])
			}
		}},
		// Every token and the usage, no [DONE], and the connection closes.
		{FaultNoDone, func(t *testing.T, resp *http.Response, events []string, err error) {
			if len(events) != 6 || tokenEvents(events) != 5 || err != nil || !resp.Close {
				t.Errorf("events %q, error %v, close %v; want 5 tokens and usage, then a clean close", events, err, resp.Close)
			}
			if decodeChunk(t, events[5]).Usage == nil {
				t.Errorf("last event %s, want the usage", events[5])
			}
		}},
		// The third token carries the padding in its text; the stream is whole.
		{FaultOversized, func(t *testing.T, resp *http.Response, events []string, err error) {
			if len(events) != 7 || err != nil || events[6] != "[DONE]" || tokenEvents(events) != 5 {
				t.Fatalf("%d events, error %v; want 5 tokens, usage, [DONE]", len(events), err)
			}
			c := decodeChunk(t, events[2])
			text := c.Choices[0].Text
			if c.Choices[0].Delta != nil {
				text = *c.Choices[0].Delta.Content
			}
			if len(text) < pad || !strings.HasSuffix(text, " pad pad") || len(strings.Fields(text[:len(text)-pad])) != 1 {
				t.Errorf("token 2: %d bytes %.40q..., want a word and %d bytes of padding", len(text), text, pad)
			}
		}},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
			// Without delays events are flushed at the end only: faults
			// must flush what they cut short.
			for _, itl := range []time.Duration{0, time.Millisecond} {
				t.Run(fmt.Sprintf("%v %s itl=%v", tt.fault, path, itl), func(t *testing.T) {
					s, url := faultServer(t, Config{ITL: itl, FaultAfter: 2, OversizeBytes: pad}, tt.fault)
					resp, err := http.Post(url+path, "application/json", strings.NewReader(genBody(true)))
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					events, err := readEvents(resp.Body)
					if resp.StatusCode != 200 {
						t.Fatalf("status %d", resp.StatusCode)
					}
					if strings.Contains(path, "chat") {
						if len(events) == 0 || tokenEvents(events[:1]) != 0 {
							t.Fatalf("events %q: want the role chunk first", events)
						}
						events = events[1:]
					}
					tt.check(t, resp, events, err)
					waitIdle(t, s)
				})
			}
		}
	}
}

// waitIdle waits for every slot to be free again.
func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); s.slots.running.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d slots still held", s.slots.running.Load())
		}
	}
}

// TestFaultAfter: a mid-stream fault strikes in place of token FaultAfter,
// or of the last token when the output is shorter.
func TestFaultAfter(t *testing.T) {
	for _, tt := range []struct{ after, tokens int }{{0, 0}, {3, 3}, {9, 4}} {
		_, url := faultServer(t, Config{FaultAfter: tt.after}, FaultStreamError)
		resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(genBody(true)))
		if err != nil {
			t.Fatal(err)
		}
		events, err := readEvents(resp.Body)
		resp.Body.Close()
		if n := tokenEvents(events); n != tt.tokens || err != nil || len(events) != n+2 {
			t.Errorf("fault-after %d: %d tokens (%q), want %d then the error", tt.after, n, events, tt.tokens)
		}
	}
}

func TestNonStreamingFaults(t *testing.T) {
	const pad = 1 << 20
	tests := []struct {
		fault Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		// Half the body, then a reset.
		{FaultReset, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if resp.StatusCode != 200 || err == nil || !strings.Contains(err.Error(), "connection reset by peer") || len(body) == 0 {
				t.Errorf("status %d, %d bytes, error %v; want part of a 200 body, then a reset", resp.StatusCode, len(body), err)
			}
		}},
		// vLLM answers a failed generation with a 500.
		{FaultStreamError, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if resp.StatusCode != 500 || err != nil || errorType(t, body) != "InternalServerError" || !strings.Contains(string(body), "llmsim fault stream-error") {
				t.Errorf("status %d: %s (%v)", resp.StatusCode, body, err)
			}
		}},
		// A complete 200 body that is not JSON.
		{FaultMalformed, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if resp.StatusCode != 200 || err != nil || json.Valid(body) || int64(len(body)) != resp.ContentLength || !strings.HasPrefix(string(body), `{"id":`) {
				t.Errorf("status %d, body %q (%v)", resp.StatusCode, body, err)
			}
		}},
		// Half the promised body, then a clean close.
		{FaultNoDone, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || int64(len(body)) >= resp.ContentLength {
				t.Errorf("status %d, %d of %d bytes, error %v; want a short body and EOF", resp.StatusCode, len(body), resp.ContentLength, err)
			}
		}},
		// A valid answer with the padding in its text.
		{FaultOversized, func(t *testing.T, resp *http.Response, body []byte, err error) {
			var r struct {
				Choices []struct{ Message struct{ Content string } }
			}
			if err != nil || json.Unmarshal(body, &r) != nil || len(r.Choices) != 1 {
				t.Fatalf("error %v, %d bytes", err, len(body))
			}
			if text := r.Choices[0].Message.Content; len(text) < pad || len(strings.Fields(text[:len(text)-pad])) != 5 {
				t.Errorf("content %.60q..., %d bytes; want 5 words and %d bytes of padding", text, len(text), pad)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			s, url := faultServer(t, Config{ITL: time.Millisecond, OversizeBytes: pad}, tt.fault)
			resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(genBody(false)))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			tt.check(t, resp, body, err)
			waitIdle(t, s)
		})
	}
}

// TestSlowHeaders: the status line comes SlowHeaders late, and the tokens
// keep their schedule from there.
func TestSlowHeaders(t *testing.T) {
	const delay, ttft = 150 * time.Millisecond, 100 * time.Millisecond
	for _, stream := range []bool{true, false} {
		_, url := faultServer(t, Config{TTFT: ttft, SlowHeaders: delay}, FaultSlowHeaders)
		start := time.Now()
		resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(genBody(stream)))
		if err != nil {
			t.Fatal(err)
		}
		headers := time.Since(start)
		events, err := readEvents(resp.Body)
		resp.Body.Close()
		if stream && (headers < delay || headers > delay+ttft) || !stream && headers < delay+ttft {
			t.Errorf("stream=%v: headers after %v, want %v late", stream, headers, delay)
		}
		if err != nil || stream && (len(events) != 7 || events[6] != "[DONE]") {
			t.Errorf("stream=%v: events %q, %v; want a whole answer", stream, events, err)
		}
	}
}

// TestFaultsLeaveNoTrace: whatever the fault and however the client leaves,
// the handler returns and frees its slot, so that no goroutine is left and
// the next request (with one slot in all) is served.
func TestFaultsLeaveNoTrace(t *testing.T) {
	tests := []struct {
		name   string
		fault  Fault
		stream bool
		// leave reads what the client reads before giving up.
		leave func(body io.Reader)
	}{
		{"stall stream", FaultStall, true, func(b io.Reader) { readEvents(b) }},
		{"stall", FaultStall, false, func(b io.Reader) {}},
		{"oversized stream", FaultOversized, true, func(b io.Reader) { io.CopyN(io.Discard, b, 1<<20) }},
		{"oversized", FaultOversized, false, func(b io.Reader) { io.CopyN(io.Discard, b, 1<<20) }},
		{"slow-headers", FaultSlowHeaders, true, func(b io.Reader) {}},
		{"reset", FaultReset, true, func(b io.Reader) { readEvents(b) }},
		{"no-done", FaultNoDone, false, func(b io.Reader) { io.ReadAll(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The fault, then none for the next request.
			s, ts := newTestServer(t, Config{ITL: time.Millisecond, MaxNumSeqs: 1, SlowHeaders: time.Hour,
				FaultCycle: []Fault{tt.fault, FaultNone}})
			url := ts.URL
			before := runtime.NumGoroutine()
			tr := &http.Transport{}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/completions", strings.NewReader(genBody(tt.stream)))
			if resp, err := tr.RoundTrip(req); err == nil {
				tt.leave(resp.Body)
				resp.Body.Close()
			}
			cancel()
			tr.CloseIdleConnections()
			waitIdle(t, s)
			for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<20)
					t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				}
			}
			resp, body := post(t, url+"/v1/completions", genBody(false))
			if resp.StatusCode != 200 || !json.Valid(body) {
				t.Errorf("next request: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// TestStallHoldsSlot: a stalled request is a hung sequence: it keeps its
// slot, so the next request waits, until its client leaves.
func TestStallHoldsSlot(t *testing.T) {
	for _, stream := range []bool{true, false} {
		s, ts := newTestServer(t, Config{MaxNumSeqs: 1, FaultCycle: []Fault{FaultStall, FaultNone}})
		ctx, cancel := context.WithCancel(context.Background())
		stalled := make(chan struct{})
		go func() {
			defer close(stalled)
			req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/completions", strings.NewReader(genBody(stream)))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				readEvents(resp.Body)
				resp.Body.Close()
			}
		}()
		for deadline := time.Now().Add(time.Second); s.slots.running.Load() != 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the stalled request took no slot")
			}
		}
		next := make(chan int, 1)
		go func() {
			resp, err := http.Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(genBody(false)))
			if err != nil {
				next <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			next <- resp.StatusCode
		}()
		time.Sleep(100 * time.Millisecond)
		if w := s.slots.waiting.Load(); w != 1 || len(next) != 0 {
			t.Errorf("stream=%v: %d waiting; the next request should wait for the stalled one's slot", stream, w)
		}
		cancel()
		<-stalled
		if code := <-next; code != 200 {
			t.Errorf("stream=%v: next request %d after the stalled client left", stream, code)
		}
		waitIdle(t, s)
	}
}

func TestFaultCycleAndMetrics(t *testing.T) {
	_, ts := newTestServer(t, Config{FaultCycle: []Fault{FaultNone, FaultHTTP503, FaultNone, FaultReset}})
	var codes []int
	for range 8 {
		resp, err := http.Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(genBody(false)))
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 503 200 200 200 503 200 200]" {
		t.Errorf("statuses %v, want the cycle none, http503, none, reset (200) twice", codes)
	}
	m := scrape(t, ts.URL)
	for name, want := range map[string]float64{
		`llmsim_faults_injected_total{kind="http503"}`:                      2,
		`llmsim_faults_injected_total{kind="reset"}`:                        2,
		`llmsim_faults_injected_total{kind="stall"}`:                        0,
		`llmsim_http_requests_total{endpoint="/v1/completions",code="503"}`: 2,
		`llmsim_http_requests_total{endpoint="/v1/completions",code="200"}`: 6,
		// Faulted requests are no successes.
		`vllm:request_success_total{finished_reason="length",model_name="llmsim/tiny"}`: 4,
	} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	_, ts = newTestServer(t, Config{})
	for name := range scrape(t, ts.URL) {
		if strings.HasPrefix(name, "llmsim_faults") {
			t.Errorf("%s shown without faults", name)
		}
	}
}

// TestFaultRatesSeeded: rate-based faults come with their probabilities,
// the same ones again for the same seed, and change no request's output.
func TestFaultRatesSeeded(t *testing.T) {
	rates := []FaultRate{{FaultHTTP500, 0.1}, {FaultReset, 0.2}, {FaultStall, 0.05}}
	draw := func(seed int64) []Fault {
		s := New(Config{Seed: seed, FaultRates: rates})
		out := make([]Fault, 20000)
		for i := range out {
			out[i] = s.pickFault(uint64(i + 1))
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("seed 7 drew different faults twice")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("seeds 7 and 8 drew the same faults")
	}
	count := map[Fault]float64{}
	for _, f := range a {
		count[f]++
	}
	// Binomial standard deviations are at most 0.0035 here: 0.015 is > 4.
	for f, want := range map[Fault]float64{FaultHTTP500: 0.1, FaultReset: 0.2, FaultStall: 0.05, FaultNone: 0.65} {
		if got := count[f] / float64(len(a)); math.Abs(got-want) > 0.015 {
			t.Errorf("%v: frequency %.3f, want %.2f", f, got, want)
		}
	}

	texts := func(cfg Config) []string {
		_, ts := newTestServer(t, cfg)
		var out []string
		for range 30 {
			resp, body := post(t, ts.URL+"/v1/completions", `{"prompt":"x","max_tokens":30}`)
			// The ids differ across servers; the choices must not.
			_, choices, _ := strings.Cut(string(body), `"choices"`)
			out = append(out, fmt.Sprint(resp.StatusCode, " ", choices))
		}
		return out
	}
	plain := texts(Config{Seed: 3, EOSProb: 0.1})
	faulty := texts(Config{Seed: 3, EOSProb: 0.1, FaultRates: []FaultRate{{FaultHTTP500, 0.5}}})
	failed := 0
	for i := range plain {
		if strings.HasPrefix(faulty[i], "500") {
			failed++
		} else if faulty[i] != plain[i] {
			t.Errorf("request %d: %s with faults, %s without", i, faulty[i], plain[i])
		}
	}
	if failed == 0 || failed == len(plain) {
		t.Errorf("%d of %d requests failed with http500=0.5", failed, len(plain))
	}
}

func TestFaultLine(t *testing.T) {
	cfg := DefaultConfig()
	if line := cfg.faultLine(); line != "" {
		t.Errorf("no faults: %q", line)
	}
	cfg.FaultRates = []FaultRate{{FaultHTTP429, 0.05}, {FaultReset, 0.01}}
	if line := cfg.faultLine(); line != "llmsim: injecting faults: rates http429=0.05,reset=0.01 (fault-after=2 slow-headers=5s oversize=83886080B)" {
		t.Errorf("rates: %q", line)
	}
	cfg.FaultRates, cfg.FaultCycle = nil, []Fault{FaultNone, FaultStall}
	if line := cfg.faultLine(); !strings.HasPrefix(line, "llmsim: injecting faults: cycle none,stall (") {
		t.Errorf("cycle: %q", line)
	}
}
