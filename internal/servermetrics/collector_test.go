package servermetrics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the collector's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func lines(t *testing.T, s string) []Line {
	t.Helper()
	var out []Line
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		l, err := DecodeLine(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func collect(t *testing.T, h http.HandlerFunc, during func(c *Collector)) (samples []Line, warnings string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	var out, warn syncBuffer
	c := &Collector{URL: srv.URL + "/metrics", Interval: 20 * time.Millisecond, Timeout: time.Second, RunID: "r1", Label: "l", Out: &out, Warn: &warn}
	c.Start(context.Background())
	during(c)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	return lines(t, out.String()), warn.String()
}

// The first sample is taken by Start, the last by Stop; Mark tags the
// samples after it with the load point and takes one at once.
func TestCollectorSamples(t *testing.T) {
	var n atomic.Int64
	samples, warn := collect(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total %d\n# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 3\n", n.Add(10))
	}, func(c *Collector) {
		c.Mark(Point{Concurrency: 4, MaxTokens: 16})
		time.Sleep(100 * time.Millisecond)
	})
	if warn != "" {
		t.Errorf("warnings: %s", warn)
	}
	if len(samples) < 3 {
		t.Fatalf("%d samples", len(samples))
	}
	first, second, last := samples[0], samples[1], samples[len(samples)-1]
	if first.Concurrency != 0 || second.Concurrency != 4 || last.Concurrency != 4 || last.MaxTokens != 16 {
		t.Errorf("points: first %+v second %+v last %+v", first, second, last)
	}
	if first.Counters[GenerationTokens] != 10 || last.Counters[GenerationTokens] != float64(n.Load()) || last.Gauges[Running] != 3 {
		t.Errorf("first %v last %v (served %d)", first.Counters, last.Counters, n.Load())
	}
	for i := 1; i < len(samples); i++ {
		if !samples[i].At.After(samples[i-1].At) || samples[i].RunID != "r1" || samples[i].Label != "l" {
			t.Errorf("sample %d: %+v", i, samples[i])
		}
	}
}

// Ollama has no /metrics: one warning, no samples, no more requests.
func TestCollectorNoMetrics(t *testing.T) {
	var hits atomic.Int64
	samples, warn := collect(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}, func(c *Collector) { time.Sleep(100 * time.Millisecond) })
	if len(samples) != 0 || strings.Count(warn, "warning") != 1 || !strings.Contains(warn, "404") || hits.Load() != 1 {
		t.Errorf("%d samples, %d requests, warnings %q", len(samples), hits.Load(), warn)
	}
}

// Garbage is skipped and warned about once, then counted at Stop; the
// good samples between are kept.
func TestCollectorGarbage(t *testing.T) {
	var n atomic.Int64
	samples, warn := collect(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			fmt.Fprint(w, "<html>oops</html>")
			return
		}
		fmt.Fprint(w, "vllm:num_requests_running 1\n")
	}, func(c *Collector) { time.Sleep(150 * time.Millisecond) })
	if len(samples) == 0 || !strings.Contains(warn, "sample skipped") || !strings.Contains(warn, "failed and were skipped") {
		t.Errorf("%d samples, warnings %q", len(samples), warn)
	}
	for _, s := range samples {
		if s.Gauges[Running] != 1 {
			t.Errorf("sample %+v", s)
		}
	}
}

// A counter that goes down is a restart: warned about, and Increase
// counts it as Prometheus does.
func TestCollectorRestart(t *testing.T) {
	var n atomic.Int64
	samples, warn := collect(t, func(w http.ResponseWriter, r *http.Request) {
		v := n.Add(1)
		if v == 3 {
			n.Store(-5) // the server restarted: its counters start again
		}
		fmt.Fprintf(w, "# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total %d\n", 100+v*10)
	}, func(c *Collector) { time.Sleep(150 * time.Millisecond) })
	if !strings.Contains(warn, "went down") {
		t.Errorf("warnings %q", warn)
	}
	var vs []float64
	for _, s := range samples {
		vs = append(vs, s.Counters[PromptTokens])
	}
	if _, resets := Increase(vs); resets != 1 {
		t.Errorf("values %v: want one reset", vs)
	}
}

// A server that hangs costs one Timeout per scrape, never more, and Mark
// returns within its bound.
func TestCollectorTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	var out, warn syncBuffer
	c := &Collector{URL: srv.URL, Interval: time.Hour, Timeout: 50 * time.Millisecond, RunID: "r", Out: &out, Warn: &warn}
	t0 := time.Now()
	c.Start(context.Background())
	c.Mark(Point{Concurrency: 1})
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if out.String() != "" || !strings.Contains(warn.String(), "sample skipped") {
		t.Errorf("out %q warn %q", out.String(), warn.String())
	}
}
