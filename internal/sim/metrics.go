package sim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stats are the counters behind GET /metrics. Gauges are read from slots.
type stats struct {
	finished     [2]atomic.Uint64 // by finish reason: stop, length
	aborted      atomic.Uint64    // client left before the last token
	promptTokens atomic.Uint64
	outputTokens atomic.Uint64
	faults       [numFaults]atomic.Uint64 // injected, by kind
	cacheQueries atomic.Uint64            // prompt tokens looked up in the prefix cache
	cacheHits    atomic.Uint64            // of them, served from it

	// What llmsim did to each request that got its last token, on its
	// schedule (the engine clock llmsim sleeps to), with vLLM's names
	// and bucket bounds: queue is arrival to admission (a free slot),
	// ttft arrival to the first token, itl each gap between two tokens,
	// e2e arrival to the last token.
	queue, ttft, itl, e2e histogram

	mu      sync.Mutex
	answers map[answerKey]uint64 // generation requests by endpoint and status
}

type answerKey struct {
	ep   endpoint
	code int
}

func (st *stats) init() {
	st.answers = map[answerKey]uint64{}
	st.ttft.bounds = ttftBounds
	st.itl.bounds = itlBounds
	st.queue.bounds = requestBounds
	st.e2e.bounds = requestBounds
	for _, h := range []*histogram{&st.queue, &st.ttft, &st.itl, &st.e2e} {
		h.counts = make([]atomic.Uint64, len(h.bounds))
	}
}

// vLLM's bucket bounds in seconds (vllm/v1/metrics/loggers.py):
// time_to_first_token, inter_token_latency (and time_per_output_token),
// and the request-latency buckets of e2e and queue time.
var (
	ttftBounds    = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlBounds     = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}
	requestBounds = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
)

// histogram is a Prometheus histogram of durations, safe for concurrent
// observe: counts[i] holds the observations at most bounds[i] seconds
// (not cumulative; cumulated when written), sumNs their total.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64
	n      atomic.Uint64
	sumNs  atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	if i, _ := slices.BinarySearch(h.bounds, d.Seconds()); i < len(h.bounds) {
		h.counts[i].Add(1)
	}
	h.n.Add(1)
	h.sumNs.Add(int64(d))
}

// scheduled records the schedule of a request whose last token is due:
// arrived and admitted are instants on the real clock, first and last the
// first and last token's (generate observes the gaps between tokens in
// itl as they are due).
func (st *stats) scheduled(arrived, admitted, first, last time.Duration) {
	st.queue.observe(admitted - arrived)
	st.ttft.observe(first - arrived)
	st.e2e.observe(last - arrived)
}

// answered counts a generation request's HTTP status, when it is decided.
func (st *stats) answered(ep endpoint, code int) {
	st.mu.Lock()
	st.answers[answerKey{ep, code}]++
	st.mu.Unlock()
}

// handleMetrics writes Prometheus text format. The vllm: names, help texts
// and model_name label follow vLLM, so dashboards and scrapers written for
// vLLM read llmsim unchanged; llmsim_ metrics are extras.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	label := `model_name="` + escapeLabel(s.names[0]) + `"`
	var b []byte
	metric := func(name, typ, help string) {
		b = append(b, "# HELP "+name+" "+help+"\n# TYPE "+name+" "+typ+"\n"...)
	}
	sample := func(name, labels string, v uint64) {
		b = append(b, name+"{"+labels+"} "...)
		b = strconv.AppendUint(b, v, 10)
		b = append(b, '\n')
	}
	st := &s.stats
	metric("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.")
	sample("vllm:num_requests_running", label, uint64(s.slots.running.Load()))
	metric("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.")
	sample("vllm:num_requests_waiting", label, uint64(s.slots.waiting.Load()))
	metric("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.")
	b = append(b, "vllm:kv_cache_usage_perc{"+label+"} "...)
	b = strconv.AppendFloat(b, s.kvCacheUsage(), 'g', -1, 64)
	b = append(b, '\n')
	metric("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.")
	sample("vllm:num_preemptions_total", label, 0) // llmsim never preempts: a sequence keeps its slot to the end
	metric("vllm:request_success_total", "counter", "Count of successfully processed requests.")
	sample("vllm:request_success_total", `finished_reason="stop",`+label, st.finished[0].Load())
	sample("vllm:request_success_total", `finished_reason="length",`+label, st.finished[1].Load())
	metric("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.")
	sample("vllm:prompt_tokens_total", label, st.promptTokens.Load())
	metric("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.")
	sample("vllm:generation_tokens_total", label, st.outputTokens.Load())
	metric("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.")
	sample("vllm:prefix_cache_queries_total", label, st.cacheQueries.Load())
	metric("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.")
	sample("vllm:prefix_cache_hits_total", label, st.cacheHits.Load())
	for _, h := range []struct {
		name, help string
		h          *histogram
	}{
		{"vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", &st.ttft},
		{"vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", &st.itl},
		{"vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", &st.queue},
		{"vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", &st.e2e},
	} {
		metric(h.name, "histogram", h.help)
		b = h.h.append(b, h.name, label)
	}
	metric("llmsim_requests_aborted_total", "counter", "Requests whose client went away before the last token.")
	sample("llmsim_requests_aborted_total", label, st.aborted.Load())
	metric("llmsim_http_requests_total", "counter", "Generation requests answered, by endpoint and HTTP status.")
	for _, a := range st.snapshot() {
		sample("llmsim_http_requests_total", `endpoint="`+a.key.ep.path()+`",code="`+strconv.Itoa(a.key.code)+`"`, a.n)
	}
	if s.faulty {
		metric("llmsim_faults_injected_total", "counter", "Faults injected into generation requests, by kind.")
		for f := FaultNone + 1; f < numFaults; f++ {
			sample("llmsim_faults_injected_total", `kind="`+f.String()+`"`, st.faults[f].Load())
		}
	}
	b = s.late.appendMetric(b)
	b = s.lateTTFT.appendSummary(b, "llmsim_first_token_lateness_seconds", "Of the send lateness, the first tokens': how much later than TTFT after the request arrived each stream's first token left.")
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b)
}

// kvCacheUsage is llmsim's KV cache usage, a fraction as vLLM's: the
// share of the --max-num-seqs slots held by running sequences. llmsim
// gives every sequence a whole slot whatever its length, so the cache is
// full exactly when every slot is taken.
func (s *Server) kvCacheUsage() float64 {
	return float64(s.slots.running.Load()) / float64(max(s.slots.limit, 1))
}

// append writes h's samples in the text format: cumulative buckets, the
// +Inf bucket, the sum in seconds and the count.
func (h *histogram) append(b []byte, name, label string) []byte {
	n := h.n.Load() // read first: buckets observed after it may exceed it by a little, never fall short
	var cum uint64
	for i, le := range h.bounds {
		cum += h.counts[i].Load()
		b = append(b, name+`_bucket{le="`...)
		b = strconv.AppendFloat(b, le, 'f', -1, 64)
		b = append(b, `",`+label+"} "...)
		b = strconv.AppendUint(b, cum, 10)
		b = append(b, '\n')
	}
	b = append(b, name+`_bucket{le="+Inf",`+label+"} "...)
	b = strconv.AppendUint(b, max(n, cum), 10)
	b = append(b, "\n"+name+"_sum{"+label+"} "...)
	b = strconv.AppendFloat(b, time.Duration(h.sumNs.Load()).Seconds(), 'g', -1, 64)
	b = append(b, "\n"+name+"_count{"+label+"} "...)
	b = strconv.AppendUint(b, max(n, cum), 10)
	return append(b, '\n')
}

type answerCount struct {
	key answerKey
	n   uint64
}

// snapshot returns the status counts in a stable order.
func (st *stats) snapshot() []answerCount {
	st.mu.Lock()
	out := make([]answerCount, 0, len(st.answers))
	for k, n := range st.answers {
		out = append(out, answerCount{k, n})
	}
	st.mu.Unlock()
	slices.SortFunc(out, func(a, b answerCount) int {
		if a.key.ep != b.key.ep {
			return int(a.key.ep) - int(b.key.ep)
		}
		return a.key.code - b.key.code
	})
	return out
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string { return labelEscaper.Replace(v) }
