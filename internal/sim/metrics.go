package sim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	mu      sync.Mutex
	answers map[answerKey]uint64 // generation requests by endpoint and status
}

type answerKey struct {
	ep   endpoint
	code int
}

func (st *stats) init() { st.answers = map[answerKey]uint64{} }

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
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b)
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
