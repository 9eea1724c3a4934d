package servermetrics

// The servebench names of what servers publish. A sample's gauges,
// counters and histograms are keyed by these, whichever server it came
// from; docs/summarize.md says what each means.
const (
	Running      = "running"        // gauge: requests being generated for
	Waiting      = "waiting"        // gauge: requests queued, not yet scheduled
	KVCacheUsage = "kv_cache_usage" // gauge: share of the KV cache in use, 0..1
	// SpecAcceptRate is a gauge for servers that publish the rate itself
	// (SGLang); for vLLM it comes from the spec-decode counters.
	SpecAcceptRate = "spec_decode_acceptance"

	PromptTokens       = "prompt_tokens"     // counter
	GenerationTokens   = "generation_tokens" // counter
	Preemptions        = "preemptions"       // counter
	PrefixCacheQueries = "prefix_cache_queries"
	PrefixCacheHits    = "prefix_cache_hits"
	SpecDrafts         = "spec_decode_drafts"
	SpecDraftTokens    = "spec_decode_draft_tokens"
	SpecAcceptedTokens = "spec_decode_accepted_tokens"
	RequestsFinished   = "requests_finished" // counter: requests the server finished (any reason)
	TTFTSeconds        = "ttft_seconds"      // histogram
	ITLSeconds         = "itl_seconds"       // histogram: gaps between output tokens
	TPOTSeconds        = "tpot_seconds"      // histogram: per-request mean time per output token
	QueueSeconds       = "queue_seconds"     // histogram: time waiting before the first schedule
	E2ESeconds         = "e2e_seconds"       // histogram: arrival to the last token
)

// Kinds of family, and how several engines' series combine.
const (
	kindGauge     = "gauge"
	kindCounter   = "counter"
	kindHistogram = "histogram"

	aggSum  = 0 // requests, tokens, histogram counts: the engines add up
	aggMean = 1 // a share (KV usage): the engines' mean

	scaleFraction = 1.0
	scalePercent  = 0.01
)

// source is one family a server publishes and the servebench name it
// fills. Where several sources fill the same name, the first one present
// in a scrape wins (vLLM 0.9 and 0.10 publish the old and the new name
// side by side with the same values: summing them would count twice).
type source struct {
	family string  // the Prometheus family name as exposed (counters with _total)
	name   string  // servebench's name
	kind   string  // kindGauge, kindCounter or kindHistogram
	agg    int     // how the series of several engines combine: aggSum or aggMean
	scale  float64 // multiplies the value: scalePercent turns a percentage into a fraction
}

// sources is the table of every server's families, in preference order.
// Names come from the servers' own code: vLLM vllm/v1/metrics/loggers.py
// (names renamed in 0.9 listed after the current ones), SGLang
// python/sglang/srt/metrics/collector.py, TGI router/src (metrics!
// calls), llama.cpp tools/server/server.cpp (the /metrics handler).
//
// Every server here reports KV usage as a fraction; scalePercent is for
// one that reports percent. Gauges of several engines (vLLM's engine
// label, data parallel) are summed, except KV usage, which is their mean.
var sources = []source{
	// vLLM, current names.
	{"vllm:num_requests_running", Running, kindGauge, aggSum, scaleFraction},
	{"vllm:num_requests_waiting", Waiting, kindGauge, aggSum, scaleFraction},
	{"vllm:kv_cache_usage_perc", KVCacheUsage, kindGauge, aggMean, scaleFraction},
	{"vllm:gpu_cache_usage_perc", KVCacheUsage, kindGauge, aggMean, scaleFraction}, // before 0.9
	{"vllm:prompt_tokens_total", PromptTokens, kindCounter, aggSum, scaleFraction},
	{"vllm:generation_tokens_total", GenerationTokens, kindCounter, aggSum, scaleFraction},
	{"vllm:num_preemptions_total", Preemptions, kindCounter, aggSum, scaleFraction},
	{"vllm:prefix_cache_queries_total", PrefixCacheQueries, kindCounter, aggSum, scaleFraction},
	{"vllm:gpu_prefix_cache_queries_total", PrefixCacheQueries, kindCounter, aggSum, scaleFraction}, // before 0.9
	{"vllm:prefix_cache_hits_total", PrefixCacheHits, kindCounter, aggSum, scaleFraction},
	{"vllm:gpu_prefix_cache_hits_total", PrefixCacheHits, kindCounter, aggSum, scaleFraction}, // before 0.9
	{"vllm:spec_decode_num_drafts_total", SpecDrafts, kindCounter, aggSum, scaleFraction},
	{"vllm:spec_decode_num_draft_tokens_total", SpecDraftTokens, kindCounter, aggSum, scaleFraction},
	{"vllm:spec_decode_num_accepted_tokens_total", SpecAcceptedTokens, kindCounter, aggSum, scaleFraction},
	{"vllm:request_success_total", RequestsFinished, kindCounter, aggSum, scaleFraction},
	{"vllm:time_to_first_token_seconds", TTFTSeconds, kindHistogram, aggSum, scaleFraction},
	{"vllm:inter_token_latency_seconds", ITLSeconds, kindHistogram, aggSum, scaleFraction},
	// Before vLLM named inter-token latency apart, time_per_output_token
	// held the same per-token gaps.
	{"vllm:time_per_output_token_seconds", ITLSeconds, kindHistogram, aggSum, scaleFraction},
	{"vllm:request_time_per_output_token_seconds", TPOTSeconds, kindHistogram, aggSum, scaleFraction},
	{"vllm:request_queue_time_seconds", QueueSeconds, kindHistogram, aggSum, scaleFraction},
	{"vllm:e2e_request_latency_seconds", E2ESeconds, kindHistogram, aggSum, scaleFraction},

	// SGLang. Its prefix cache is counted in tokens: cached prompt tokens
	// are the hits, all prompt tokens the queries.
	{"sglang:num_running_reqs", Running, kindGauge, aggSum, scaleFraction},
	{"sglang:num_queue_reqs", Waiting, kindGauge, aggSum, scaleFraction},
	{"sglang:token_usage", KVCacheUsage, kindGauge, aggMean, scaleFraction},
	{"sglang:spec_accept_rate", SpecAcceptRate, kindGauge, aggMean, scaleFraction},
	{"sglang:prompt_tokens_total", PromptTokens, kindCounter, aggSum, scaleFraction},
	{"sglang:prompt_tokens_total", PrefixCacheQueries, kindCounter, aggSum, scaleFraction},
	{"sglang:cached_tokens_total", PrefixCacheHits, kindCounter, aggSum, scaleFraction},
	{"sglang:generation_tokens_total", GenerationTokens, kindCounter, aggSum, scaleFraction},
	{"sglang:num_requests_total", RequestsFinished, kindCounter, aggSum, scaleFraction},
	{"sglang:time_to_first_token_seconds", TTFTSeconds, kindHistogram, aggSum, scaleFraction},
	{"sglang:inter_token_latency_seconds", ITLSeconds, kindHistogram, aggSum, scaleFraction},
	{"sglang:queue_time_seconds", QueueSeconds, kindHistogram, aggSum, scaleFraction},
	{"sglang:e2e_request_latency_seconds", E2ESeconds, kindHistogram, aggSum, scaleFraction},

	// TGI publishes no TTFT, no KV usage and no token counters; its
	// mean time per token is per request (a TPOT, not pooled gaps).
	{"tgi_batch_current_size", Running, kindGauge, aggSum, scaleFraction},
	{"tgi_queue_size", Waiting, kindGauge, aggSum, scaleFraction},
	{"tgi_request_success", RequestsFinished, kindCounter, aggSum, scaleFraction},
	{"tgi_request_queue_duration", QueueSeconds, kindHistogram, aggSum, scaleFraction},
	{"tgi_request_duration", E2ESeconds, kindHistogram, aggSum, scaleFraction},
	{"tgi_request_mean_time_per_token_duration", TPOTSeconds, kindHistogram, aggSum, scaleFraction},

	// llama.cpp's server (llama-server --metrics). Deferred requests wait
	// for a free slot.
	{"llamacpp:requests_processing", Running, kindGauge, aggSum, scaleFraction},
	{"llamacpp:requests_deferred", Waiting, kindGauge, aggSum, scaleFraction},
	{"llamacpp:kv_cache_usage_ratio", KVCacheUsage, kindGauge, aggMean, scaleFraction},
	{"llamacpp:prompt_tokens_total", PromptTokens, kindCounter, aggSum, scaleFraction},
	{"llamacpp:tokens_predicted_total", GenerationTokens, kindCounter, aggSum, scaleFraction},
}
