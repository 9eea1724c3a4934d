// Package record defines servebench's contract between tools: one JSON line
// per request attempt. genload writes these lines, summarize reads them, and
// anyone can concatenate the lines of many runs (cat, tee -a, several shards)
// because every line carries what is needed to group it.
//
// Field names are the contract once shipped: add fields, never rename them.
package record

import (
	"strings"
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

// Where a stream's chunk times came from (TimesFrom).
const (
	TimesFromKernel = "kernel"
	TimesFromRead   = "read"
	TimesFromMixed  = "mixed"
)

// MaxCount is the largest token count a record accepts from a server's
// usage: more is a protocol failure, as is more output than max_tokens.
const MaxCount = 1<<31 - 1

// What a capacity search searched (Record.Search).
const (
	SearchRate        = "rate"
	SearchConcurrency = "concurrency"
)

// SearchUnit is the unit of a search's loads in people's words.
func SearchUnit(search string) string {
	if search == SearchRate {
		return "req/s"
	}
	return "users"
}

// SLOText is a search's SLO (Record.SLO, "ttft=500ms tpot=50ms") as
// genload and summarize print it: "ttft<=500ms,tpot<=50ms".
func SLOText(slo string) string {
	return strings.ReplaceAll(strings.ReplaceAll(slo, "=", "<="), " ", ",")
}

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
	// TimesFrom says where a stream's chunk times come from: "kernel" (the
	// kernel's receive time of each chunk's bytes, SO_TIMESTAMPNS, on Linux
	// over the own HTTP client), "read" (when genload read them: other
	// platforms, net/http's path), or "mixed" (some of each, which warm-up
	// should prevent). Empty when not streaming.
	TimesFrom string `json:"times_from,omitempty"`
	// ReadLagP99Ms and ReadLagMaxMs: how long after their arrival genload
	// handled the request's output chunks (99th percentile and maximum),
	// with kernel times only. The client's own lateness: with kernel times
	// it no longer enters TTFT and ITL, but a client that is late reading
	// is a client near its limit.
	ReadLagP99Ms *float64 `json:"read_lag_p99_ms,omitempty"`
	ReadLagMaxMs *float64 `json:"read_lag_max_ms,omitempty"`
	// CoalescedEvents counts the output chunks that came out of the same
	// read as the chunk before them (kernel times only): they arrived
	// together, so the gap between them is not the server's.
	CoalescedEvents int `json:"coalesced_events,omitempty"`
	// LateChunks counts the output chunks genload handled more than 1 ms
	// after they arrived (kernel times only): summarize's share of late
	// chunks, exact where a per-request p99 is not.
	LateChunks int `json:"late_chunks,omitempty"`

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
	// InputTokensRequested is the prompt length the run asked for, in
	// tokens: a synthetic prompt's drawn length with its shared prefix
	// (--input-tokens), 0 when prompts come from elsewhere.
	InputTokensRequested int `json:"input_tokens_requested,omitempty"`
	// ToolCalls is how many tool calls the answer made.
	ToolCalls    int    `json:"tool_calls,omitempty"`
	FinishReason string `json:"finish_reason,omitempty"`

	Status    int    `json:"status"`
	OK        bool   `json:"ok"`
	ErrorKind string `json:"error_kind,omitempty"`
	Error     string `json:"error,omitempty"`

	// Shard is "K/N" when the run was split across N genload processes
	// (genload --shard): which one sent the attempt. The load point
	// (concurrency, rate) is the whole run's, so the shards of a run merge
	// into one group.
	Shard string `json:"shard,omitempty"`
	// Host is the name of the machine genload ran on (os.Hostname).
	Host string `json:"host,omitempty"`
	// ClockSkewMs is the genload host's wall clock minus the server's, as
	// its Date header tells, sampled once at the start of the run; within
	// ClockSkewErrMs either way (1000 ms when only whole seconds were
	// seen, a few ms when a second's tick was caught). A sanity check,
	// not NTP.
	ClockSkewMs    *float64 `json:"clock_skew_ms,omitempty"`
	ClockSkewErrMs *float64 `json:"clock_skew_err_ms,omitempty"`
	// A conversation's turn (genload --conversations, --turns): the
	// session it belongs to (<run_id>-s<n>, also sent as --session-header),
	// its turn (1-based) and how many messages the request sent, the
	// history and the new user message (a system prompt included). Left
	// out of single-turn requests.
	SessionID       string `json:"session_id,omitempty"`
	Turn            int    `json:"turn,omitempty"`
	HistoryMessages int    `json:"history_messages,omitempty"`

	// PromptSalt says whether the run's prompts began with its own salt
	// (SaltRun: a cold prefix cache for every run, the default) or not
	// (SaltOff: --same-prompts, runs of one seed send the same bytes).
	// Left out where no prompt is cached (embeddings) and by writers that
	// predate it.
	PromptSalt string `json:"prompt_salt,omitempty"`
	// What the server said it is, asked once per run: ServerVersion is
	// GET /version's "version" (vLLM's build), ModelRoot the /v1/models
	// card's "root" (the weights the served name stands for). Empty when
	// the server does not say; a comparison warns when the two sides'
	// differ.
	ServerVersion string `json:"server_version,omitempty"`
	ModelRoot     string `json:"model_root,omitempty"`
}

// Values of Record.PromptSalt.
const (
	SaltRun = "run"
	SaltOff = "off"
)

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
