package sim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// streamBody asks for exactly n tokens.
func streamBody(n int) string {
	return fmt.Sprintf(`{"prompt":"hello","max_tokens":%d,"ignore_eos":true,"stream":true}`, n)
}

// TestTimingAccuracy measures from the client, as genload does: TTFT from
// the send to the first content chunk, ITL between content chunks. The
// machine may be busy with other work, so a measurement is retried a couple
// of times before the test fails: the simulator must be able to be exact,
// not be exact under any load.
func TestTimingAccuracy(t *testing.T) {
	// Paced (Run's way) and sent by each stream's handler (a server
	// without ConnContext).
	for name, serve := range map[string]func(*testing.T, Config) (*Server, *httptest.Server){
		"paced": newTestServer, "unpaced": newUnpacedServer,
	} {
		t.Run(name, func(t *testing.T) { testTimingAccuracy(t, serve) })
	}
}

func testTimingAccuracy(t *testing.T, serve func(*testing.T, Config) (*Server, *httptest.Server)) {
	const (
		ttft, itl = 50 * time.Millisecond, 10 * time.Millisecond
		n         = 20
	)
	_, ts := serve(t, Config{TTFT: ttft, ITL: itl})
	// The client's TTFT includes sending the request (about 0.3 ms on an
	// idle machine, several times that under -race or when other processes
	// compete for the CPU); the server's deadlines are late by about 0.1 ms.
	bound, itlBound := 2*time.Millisecond, 500*time.Microsecond
	if raceEnabled {
		bound, itlBound = 4*time.Millisecond, time.Millisecond
	}
	var problems []string
	for attempt := range 3 {
		mTTFT, mITL, mSpan := measureTiming(t, ts.URL, n)
		t.Logf("attempt %d: median ttft %v (want %v), itl %v (want %v), first-to-last %v (want %v)",
			attempt, mTTFT, ttft, mITL, itl, mSpan, (n-1)*itl)
		problems = problems[:0]
		if err := mTTFT - ttft; err < 0 || err > bound {
			problems = append(problems, fmt.Sprintf("median TTFT %v, want %v within %v (and never early)", mTTFT, ttft, bound))
		}
		if abs(mITL-itl) > itlBound {
			problems = append(problems, fmt.Sprintf("median ITL %v, want %v within %v", mITL, itl, itlBound))
		}
		// No drift: deadlines come from admission, not from summed sleeps.
		if abs(mSpan-(n-1)*itl) > bound {
			problems = append(problems, fmt.Sprintf("median first-to-last %v, want %v within %v", mSpan, (n-1)*itl, bound))
		}
		if len(problems) == 0 || t.Failed() {
			break
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// measureTiming runs a few rounds of parallel n-token streams and returns
// the medians of TTFT, ITL and first-to-last-token time.
func measureTiming(t *testing.T, url string, n int) (ttft, itl, span time.Duration) {
	const parallel, rounds = 3, 3
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: parallel}}
	defer client.CloseIdleConnections()
	var (
		mu                 sync.Mutex
		ttfts, itls, spans []time.Duration
	)
	for round := range rounds + 1 { // round 0 opens the connections
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				_, events := streamEvents(t, client, url+"/v1/completions", streamBody(n))
				at := contentTimes(t, events)
				if len(at) != n {
					t.Errorf("%d content chunks, want %d", len(at), n)
					return
				}
				if round == 0 {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ttfts = append(ttfts, at[0])
				for i := 1; i < n; i++ {
					itls = append(itls, at[i]-at[i-1])
				}
				spans = append(spans, at[n-1]-at[0])
			})
		}
		wg.Wait()
	}
	if len(ttfts) == 0 {
		t.FailNow()
	}
	return median(ttfts), median(itls), median(spans)
}

// TestQueueing checks --max-num-seqs: with one slot, the second request is
// admitted when the first one's last token is due, so its TTFT includes the
// wait, as in vLLM.
func TestQueueing(t *testing.T) {
	const ttft, itl, n = 20 * time.Millisecond, 5 * time.Millisecond, 10
	_, ts := newTestServer(t, Config{TTFT: ttft, ITL: itl, MaxNumSeqs: 1})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	start := time.Now()
	var first, second []event
	var firstSent, secondSent time.Duration
	var wg sync.WaitGroup
	wg.Go(func() {
		firstSent = time.Since(start)
		_, first = streamEvents(t, client, ts.URL+"/v1/completions", streamBody(n))
	})
	time.Sleep(5 * time.Millisecond)
	wg.Go(func() {
		secondSent = time.Since(start)
		_, second = streamEvents(t, client, ts.URL+"/v1/chat/completions",
			`{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"ignore_eos":true,"stream":true}`)
	})
	wg.Wait()
	a, b := contentTimes(t, first), contentTimes(t, second)
	if len(a) != n || len(b) != 3 {
		t.Fatalf("%d and %d tokens", len(a), len(b))
	}
	firstLast := firstSent + a[n-1]
	secondFirst := secondSent + b[0]
	gap := secondFirst - firstLast
	t.Logf("first done at %v, second's first token at %v: gap %v (want %v), second's ttft %v", firstLast, secondFirst, gap, ttft, b[0])
	if gap < ttft-time.Millisecond || gap > ttft+3*time.Millisecond {
		t.Errorf("second request's first token came %v after the first request's last, want ttft %v", gap, ttft)
	}
	if want := ttft + (n-1)*itl + ttft - 5*time.Millisecond; b[0] < want-time.Millisecond {
		t.Errorf("second TTFT %v, want about %v (queue + ttft)", b[0], want)
	}
}

// TestMetrics reads the gauges while one request runs and one waits.
func TestMetrics(t *testing.T) {
	s, ts := newTestServer(t, Config{TTFT: 300 * time.Millisecond, MaxNumSeqs: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/completions", strings.NewReader(`{"prompt":"a","max_tokens":1}`))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	deadline := time.Now().Add(time.Second)
	for s.slots.waiting.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	m := scrape(t, ts.URL)
	for name, want := range map[string]float64{
		`vllm:num_requests_running{model_name="llmsim/tiny"}`:               1,
		`vllm:num_requests_waiting{model_name="llmsim/tiny"}`:               1,
		`llmsim_http_requests_total{endpoint="/v1/completions",code="200"}`: 2,
	} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	cancel()
	wg.Wait()
	// Both clients left: the slot and the queue are free again.
	deadline = time.Now().Add(time.Second)
	for s.stats.aborted.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	m = scrape(t, ts.URL)
	for name, want := range map[string]float64{
		`vllm:num_requests_running{model_name="llmsim/tiny"}`:     0,
		`vllm:num_requests_waiting{model_name="llmsim/tiny"}`:     0,
		`llmsim_requests_aborted_total{model_name="llmsim/tiny"}`: 2,
	} {
		if m[name] != want {
			t.Errorf("after cancel: %s = %v, want %v", name, m[name], want)
		}
	}
}

var sampleLine = regexp.MustCompile(`^([^ #][^ ]*) (\S+)$`)

// scrape returns the samples of GET /metrics by name with labels.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("metrics Content-Type %q", resp.Header.Get("Content-Type"))
	}
	m := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if strings.HasPrefix(line, "# ") {
			continue
		}
		sm := sampleLine.FindStringSubmatch(line)
		if sm == nil {
			t.Fatalf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(sm[2], 64)
		if err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		m[sm[1]] = v
	}
	return m
}

// TestStall checks that a stall delays every token due after it by its
// length, once.
func TestStall(t *testing.T) {
	const itl, stall = 10 * time.Millisecond, 100 * time.Millisecond
	_, ts := newTestServer(t, Config{ITL: itl, Stall: stall, StallAfter: 45 * time.Millisecond})
	_, events := streamEvents(t, http.DefaultClient, ts.URL+"/v1/completions", streamBody(10))
	at := contentTimes(t, events)
	var long []time.Duration
	for i := 1; i < len(at); i++ {
		if gap := at[i] - at[i-1]; gap > 3*itl {
			long = append(long, gap)
		}
	}
	// 15 ms of slack: a busy 2-core machine delays single wake-ups that much.
	if len(long) != 1 || abs(long[0]-(itl+stall)) > 15*time.Millisecond {
		t.Errorf("long gaps %v, want one of %v", long, itl+stall)
	}
}

// TestITLPerSeq checks the batching slowdown: with two sequences running,
// each step takes ITLPerSeq more.
func TestITLPerSeq(t *testing.T) {
	const itl, perSeq = 10 * time.Millisecond, 5 * time.Millisecond
	_, ts := newTestServer(t, Config{ITL: itl, ITLPerSeq: perSeq})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	results := make([][]time.Duration, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			_, events := streamEvents(t, client, ts.URL+"/v1/completions", streamBody(8))
			results[i] = contentTimes(t, events)
		})
	}
	wg.Wait()
	at := results[0]
	var itls []time.Duration
	for i := 2; i < len(at)-1; i++ { // the middle, where both run
		itls = append(itls, at[i]-at[i-1])
	}
	if m := median(itls); abs(m-(itl+perSeq)) > 2*time.Millisecond {
		t.Errorf("median ITL with 2 sequences %v, want %v", m, itl+perSeq)
	}
}

// TestZeroDelayConcurrency runs many short streams with no delays at all, for
// the race detector and the slot accounting.
func TestZeroDelayConcurrency(t *testing.T) {
	s, ts := newTestServer(t, Config{MaxNumSeqs: 4, EOSProb: 0.1})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 10 {
				_, events := streamEvents(t, client, ts.URL+"/v1/chat/completions",
					`{"messages":[{"role":"user","content":"x"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}`)
				if len(events) < 4 || events[len(events)-1].data != "[DONE]" {
					t.Errorf("events %v", events)
				}
			}
		})
	}
	wg.Wait()
	if r, w := s.slots.running.Load(), s.slots.waiting.Load(); r != 0 || w != 0 {
		t.Errorf("after all requests: running %d waiting %d", r, w)
	}
}

// TestFirstTokenLateness: a timed stream's tokens all count in the send
// lateness, its first alone in the first-token lateness too.
func TestFirstTokenLateness(t *testing.T) {
	_, ts := newTestServer(t, Config{TTFT: 20 * time.Millisecond, ITL: 5 * time.Millisecond})
	for range 2 {
		resp, err := http.Post(ts.URL+"/v1/completions", "application/json",
			strings.NewReader(`{"prompt":"a","max_tokens":4,"ignore_eos":true,"stream":true}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	m := scrape(t, ts.URL)
	if got := m["llmsim_first_token_lateness_seconds_count"]; got != 2 {
		t.Errorf("first-token lateness count %v, want 2 (one a stream)", got)
	}
	if got := m["llmsim_send_lateness_seconds_count"]; got < 8 {
		t.Errorf("send lateness count %v, want every timed token (8 or more)", got)
	}
	if q := m[`llmsim_first_token_lateness_seconds{quantile="1"}`]; q < 0 || q > m[`llmsim_send_lateness_seconds{quantile="1"}`] {
		t.Errorf("first-token lateness max %v past the send lateness max", q)
	}
}
