package sim

import (
	"math"
	"sync"
	"testing"
	"time"
)

// TestMetricsHistograms: with one slot, two requests at once: the second
// waits for the first, and /metrics says so in vLLM's histograms, with the
// schedule's exact values.
func TestMetricsHistograms(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TTFT, cfg.ITL, cfg.MaxNumSeqs, cfg.Quiet = 20*time.Millisecond, 10*time.Millisecond, 1, true
	s, ts := newTestServer(t, cfg)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { post(t, ts.URL+"/v1/completions", `{"prompt":"a b","max_tokens":4,"ignore_eos":true}`) })
	}
	deadline := time.Now().Add(time.Second)
	for s.slots.waiting.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	m := scrape(t, ts.URL)
	const lbl = `{model_name="llmsim/tiny"}`
	if m["vllm:kv_cache_usage_perc"+lbl] != 1 || m["vllm:num_requests_waiting"+lbl] != 1 {
		t.Errorf("while saturated: kv %v waiting %v", m["vllm:kv_cache_usage_perc"+lbl], m["vllm:num_requests_waiting"+lbl])
	}
	wg.Wait()
	m = scrape(t, ts.URL)
	near := func(name string, want float64) {
		t.Helper()
		if got := m[name]; math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Each request: ttft 20ms after admission, 3 gaps of 10ms; the second
	// is admitted when the first's last token is due (50ms).
	near("vllm:inter_token_latency_seconds_count"+lbl, 6)
	near("vllm:inter_token_latency_seconds_sum"+lbl, 0.06)
	near(`vllm:inter_token_latency_seconds_bucket{le="0.01",model_name="llmsim/tiny"}`, 6)
	near("vllm:time_to_first_token_seconds_count"+lbl, 2)
	near("vllm:e2e_request_latency_seconds_count"+lbl, 2)
	near("vllm:request_queue_time_seconds_count"+lbl, 2)
	near("vllm:num_preemptions_total"+lbl, 0)
	near("vllm:kv_cache_usage_perc"+lbl, 0)
	// The second request queued for about the first's 50ms (both arrive at
	// about the same instant); its ttft and e2e include that wait.
	q, ttft, e2e := m["vllm:request_queue_time_seconds_sum"+lbl], m["vllm:time_to_first_token_seconds_sum"+lbl], m["vllm:e2e_request_latency_seconds_sum"+lbl]
	if q < 0.03 || q > 0.2 || math.Abs(ttft-(q+0.04)) > 1e-6 || math.Abs(e2e-(q+0.1)) > 1e-6 {
		t.Errorf("queue %v ttft %v e2e %v: want ttft = queue + 2x20ms, e2e = queue + 2x50ms", q, ttft, e2e)
	}
	near(`vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="llmsim/tiny"}`, 2)
}
