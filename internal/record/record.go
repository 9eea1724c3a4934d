// Package record defines servebench's contract between tools: one JSON line
// per request attempt. genload writes these lines, summarize reads them, and
// anyone can concatenate the lines of many runs (cat, tee -a, several shards)
// because every line carries what is needed to group it.
//
// Field names are the contract once shipped: add fields, never rename them.
package record

import (
	"time"
)

// Schema is the version of the record layout written by this build. Readers
// accept any version up to it and warn about newer ones.
const Schema = 1

// Phases of a run: warmup requests are recorded but excluded from statistics.
const (
	PhaseWarmup  = "warmup"
	PhaseMeasure = "measure"
)

// Where output token counts came from. The server's usage block is preferred
// (genload asks for it with stream_options.include_usage); counting content
// chunks is the fallback and is marked so a reader can tell.
const (
	TokensFromUsage  = "usage"
	TokensFromChunks = "chunks"
	TokensFromNone   = "none"
	// TokensFromBadUsage: the server sent a usage block whose counts were
	// unusable (a float, a string, a number past int64), so the counts are
	// the counted chunks, as for TokensFromChunks.
	TokensFromBadUsage = "chunks_bad_usage"
)

// MaxCount is the largest token count a record accepts from a server's
// usage: more is a protocol failure, as is more output than max_tokens.
const MaxCount = 1<<31 - 1

// What a capacity search searched (Record.Search).
const (
	SearchRate        = "rate"
	SearchConcurrency = "concurrency"
)

// Error kinds: a small fixed set so that summaries can count failures by
// cause. An empty kind means the attempt succeeded.
const (
	ErrConnect  = "connect"  // dial or TLS failure, connection refused or reset before a response
	ErrTimeout  = "timeout"  // the request (or a phase of it) exceeded its timeout
	ErrHTTP     = "http"     // a non-2xx status
	ErrStream   = "stream"   // the stream broke or carried an error event after a 200
	ErrProtocol = "protocol" // the answer could not be understood (not an HTTP/1.x head, bad JSON, no content)
	ErrCanceled = "canceled" // the run was interrupted before the attempt finished
	ErrClient   = "client"   // the client's own limits: out of file descriptors or local ports
)

// ErrorKinds lists every kind in the order reports print them.
var ErrorKinds = []string{ErrConnect, ErrTimeout, ErrHTTP, ErrStream, ErrProtocol, ErrCanceled, ErrClient}

// Record is one request attempt. Durations are float milliseconds measured on
// the monotonic clock by the writer; they are computed before encoding because
// a time.Time loses its monotonic reading in JSON.
type Record struct {
	Schema int    `json:"schema"`
	RunID  string `json:"run_id"`
	Label  string `json:"label"`
	Seq    int    `json:"seq"`
	Phase  string `json:"phase"`
	// RequestID is what the request carried as x-request-id
	// (<run_id>-<seq>), so that a record joins the server's logs.
	RequestID string `json:"request_id,omitempty"`

	Model     string `json:"model"`
	URL       string `json:"url"`
	Endpoint  string `json:"endpoint"`
	Stream    bool   `json:"stream"`
	IgnoreEOS bool   `json:"ignore_eos"`

	// The load point that produced the attempt; Rate 0 means unpaced.
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`
	MaxTokens   int     `json:"max_tokens"`
	// A capacity search (genload --search) marks every attempt it made:
	// Search is what it searched ("rate" or "concurrency"), SearchSLO the
	// objectives (summary.SLO's canonical form, "ttft=500ms tpot=50ms") and
	// SearchMinGoodput the share of good requests a load point needed to
	// pass, so that summarize can find the capacity from the records alone.
	Search           string  `json:"search,omitempty"`
	SearchSLO        string  `json:"search_slo,omitempty"`
	SearchMinGoodput float64 `json:"search_min_goodput,omitempty"`

	ScheduledAt time.Time `json:"scheduled_at"`
	SentAt      time.Time `json:"sent_at"`

	// QueueMs is sent_at - scheduled_at: how long the client held the request.
	QueueMs float64 `json:"queue_ms"`
	// TTFTMs is send to the first chunk carrying generated output of any
	// kind (reasoning, content or a tool call; not the empty role chunk);
	// nil when not streaming or when no output arrived.
	TTFTMs *float64 `json:"ttft_ms,omitempty"`
	// TTFOMs is send to the first answer token: the first chunk with
	// content or a tool-call delta. It equals TTFTMs for a model that does
	// not reason; nil when not streaming or when no answer arrived.
	TTFOMs *float64 `json:"ttfo_ms,omitempty"`
	// LatencyMs is send to the end of the response (or to the failure).
	LatencyMs float64 `json:"latency_ms"`
	// ITLMs holds the gaps between successive content chunks.
	ITLMs []float64 `json:"itl_ms,omitempty"`
	// TPOTMs is (latency - ttft) / (output_tokens - 1) when output_tokens > 1.
	TPOTMs *float64 `json:"tpot_ms,omitempty"`

	PromptTokens int    `json:"prompt_tokens"`
	OutputTokens int    `json:"output_tokens"`
	TokensFrom   string `json:"tokens_from"`
	// ReasoningTokens are the output tokens spent reasoning (part of
	// OutputTokens): usage's completion_tokens_details.reasoning_tokens,
	// else the counted reasoning chunks; ReasoningFrom says which, with
	// TokensFrom's words.
	ReasoningTokens int    `json:"reasoning_tokens,omitempty"`
	ReasoningFrom   string `json:"reasoning_from,omitempty"`
	// CachedTokens are the prompt tokens served from the server's prefix
	// cache (usage's prompt_tokens_details.cached_tokens), when it says.
	CachedTokens int `json:"cached_tokens,omitempty"`
	// ToolCalls is how many tool calls the answer made.
	ToolCalls    int    `json:"tool_calls,omitempty"`
	FinishReason string `json:"finish_reason,omitempty"`

	Status    int    `json:"status"`
	OK        bool   `json:"ok"`
	ErrorKind string `json:"error_kind,omitempty"`
	Error     string `json:"error,omitempty"`
}

// EndAt is when the attempt finished: sent_at plus its latency.
func (r *Record) EndAt() time.Time {
	return r.SentAt.Add(Millis(r.LatencyMs))
}

// SchedLatencyMs is the latency a user arriving on schedule saw: queue plus
// service latency. Open-loop reports show it so coordinated omission cannot
// hide client or server lag.
func (r *Record) SchedLatencyMs() float64 {
	return r.QueueMs + r.LatencyMs
}

// Ms converts a duration to float milliseconds, the unit of every record field.
func Ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// Millis converts float milliseconds back to a duration.
func Millis(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond))
}

// Float returns a pointer to v, for the optional fields.
func Float(v float64) *float64 { return &v }
