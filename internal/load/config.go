// Package load sends the requests of a benchmark run and records each
// attempt: it resolves the target, builds the request bodies once, runs the
// workers, applies timeouts, handles interrupts and writes one record per
// attempt as it finishes. It knows nothing about flags or statistics.
package load

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/openai"
	"servebench/internal/record"
	"servebench/internal/setting"
)

// Config is one genload run. Zero values are filled by Defaults.
type Config struct {
	URL    string
	Target openai.Target // resolved from URL by Validate
	// URLs are several replicas to send to without a router (URL is the
	// first of them); URLMix picks each request's (URLRoundRobin,
	// URLLeastInflight, URLRandom). Each record's url is its replica's.
	URLs     []string
	URLMix   string
	targets  []openai.Target
	Endpoint string // openai.EndpointCompletions, EndpointChat or EndpointEmbeddings
	// BatchSize is how many consecutive prompts one embeddings request
	// sends as its input (0: 1). Embeddings are never streamed: Validate
	// turns Stream off for them.
	BatchSize int
	Model     string // "" = the first model the server lists
	APIKey    string
	// Models and ModelMix make a run of several models: each request gets
	// one of Models, chosen by the mix (MixRoundRobin, MixRandom or
	// "a=3,b=1"; see modelPicker), and its record says which. Model is
	// then the first of them.
	Models   []string
	ModelMix string
	picker   *modelPicker
	identity identity // what the server says it is, asked once by Run

	// CheckModel makes Run list the served models before sending and fail
	// with an *openai.ModelNotServedError when Model is not among them: a
	// run of 404s is not a benchmark. A server that cannot list its models
	// is warned about and sent to anyway.
	CheckModel bool

	// Dataset says where prompts come from (literal, file, ShareGPT,
	// synthetic) and their per-request max_tokens; Validate opens it.
	Dataset dataset.Config
	source  dataset.Source
	// Conversations makes the run multi-turn sessions (see
	// runner.sessions): Requests and Warmup then count sessions, and each
	// session sends all its turns. The user messages come from a file or,
	// with Conversations.Turns, from Dataset's synthetic prompts.
	Conversations dataset.ConversationConfig
	convs         dataset.ConversationSource
	sessions      *sessionState
	// ThinkTime is the pause between an answer and a session's next turn
	// ("2s", "uniform:1s-3s", "exp:2s"; see parseThinkTime).
	ThinkTime string
	think     thinkTime
	// KeepReasoning sends an answer's reasoning back in the history (as
	// reasoning_content); by default only its content.
	KeepReasoning bool
	// SessionHeader names a header that carries each request's session id.
	SessionHeader string

	// TraceFile replays a trace (see validateTrace): each request at
	// start + (t_i - t_0) x TimeScale (0: 1), the whole trace unless
	// Requests or Duration cut it. TraceFormat is mooncake, azure or
	// jsonl ("": from the file).
	TraceFile   string
	TraceFormat string
	TimeScale   float64
	trace       *dataset.Trace

	// SamePrompts sends the prompts without the run's salt: runs of one
	// seed then send the same bytes, and a server's prefix cache may serve
	// a run what an earlier one sent (a deliberate warm cache). By default
	// every prompt begins with salt, dataset.NewSalt's, the same for every
	// request of the run; embeddings are never salted.
	SamePrompts bool
	salt        string
	saltMode    string // the records' prompt_salt
	MaxTokens   int    // 0 = not sent: the server's default
	IgnoreEOS   bool
	Stream      bool
	// Headers are sent with every request, after genload's own (which
	// they override; an X-Request-Id here replaces the per-request one).
	Headers http.Header
	// ExtraBody is deep-merged into every request body after genload's own
	// fields (sampling parameters, chat_template_kwargs, ...); a prompt
	// line's own extra fields merge after it. nil when none.
	ExtraBody map[string]any

	// Tokenize fits synthetic prompts to their requested token counts
	// with the server's POST /tokenize: TokenizeAuto ("" too), TokenizeOn
	// or TokenizeOff (tokenize.go).
	Tokenize string
	// ResetPrefixCache empties the server's prefix cache (POST
	// /reset_prefix_cache) before each load point.
	ResetPrefixCache bool

	// Load points, run in turn: closed loop at each of Concurrencies, or
	// open loop at each of Rates (req/s) with at most MaxConcurrency in
	// flight (0 = no cap). Validate turns them into Points.
	Concurrencies  []int
	Rates          []float64
	MaxConcurrency int
	Arrival        string        // open loop: poisson, constant or gamma
	Burstiness     float64       // gamma shape
	RampUp         time.Duration // open loop: rate rises linearly from 0 over this time; closed loop: workers start spread over it
	Seed           uint64        // arrival times (and prompts) are reproducible for a seed
	Points         []Point

	// OnPhase, when set, is called before each phase (warmup, measure) of
	// each load point sends its first request, and after the one before
	// it finished: the server-metrics collector takes a sample there.
	OnPhase func(pt Point, phase string)

	Requests int           // measured requests per load point (0 = until Duration)
	Duration time.Duration // measured time per load point (0 = until Requests)
	Warmup   int           // requests before the measured ones at each point, excluded from statistics
	StopRule StopRule      // ends the run when too many recent attempts failed; zero: none
	Search   *Search       // a capacity search instead of the load points; nil: none

	Timeout           time.Duration // per request, from send to the last byte
	ConnectTimeout    time.Duration // dialing a new connection (TCP and TLS each)
	FirstTokenTimeout time.Duration // streaming: from send to the first content chunk (0 = only Timeout)
	TLS               *tls.Config   // nil: Go's defaults
	Grace             time.Duration // after an interrupt, how long requests in flight may finish
	MaxResponseBytes  int64

	RunID string
	Label string

	// Shard is this process's part of a run split across processes
	// (see Shard); StartAt, when set, is the instant the first phase's
	// clock starts in every shard (see ResolveStartAt). A sharded run
	// needs a RunID common to all shards: given, or derived from StartAt
	// and Seed.
	Shard     Shard
	StartAt   time.Time
	shardName string // Shard.String(), once

	// What every record says of this process: its host, and its clock
	// against the server's (Run fills them; see checkClock). The
	// pointers are shared by the records, which only read them.
	host                    string
	clockSkewMs, clockErrMs *float64

	Quiet    bool // no progress, no final line
	Progress bool // show a progress line (genload sets it when stderr is a terminal, or on --progress)
	// ProgressLines writes the progress as a plain line every
	// ProgressEvery instead of redrawing one (a log, not a terminal).
	ProgressLines bool
	ProgressEvery time.Duration
	Color         bool // colour stderr's warnings (a terminal, NO_COLOR unset)

	// NetHTTP sends the requests through net/http even without a proxy:
	// tests hold the two clients to the same records, and bench/perf
	// measures what each costs.
	NetHTTP bool
	// ReadTimes times stream chunks when genload reads them, never by the
	// kernel's receive times: bench/floor and the tests measure the
	// difference (genload's hidden --chunk-times read).
	ReadTimes bool
	// Reads is who reads streamed answers over genload's own client:
	// ReadsLoop, one OS thread's epoll loop (h1.Loop; Linux, http://),
	// ReadsGoroutine, each request's goroutine, or ReadsAuto (""), the
	// loop when the run holds LoopStreams or more requests at once
	// (genload's hidden --reads; docs/perf.md).
	Reads string
	// ReadCoalesce is how long the read loop, when busy, may nap after
	// a wake-up before it waits again (h1.Loop.SetCoalesce): tokens are
	// read up to that much later (read lag), their times still the
	// kernel's. 0: no nap. Genload's hidden --read-coalesce (default
	// DefaultReadCoalesce; docs/perf.md).
	ReadCoalesce time.Duration
}

// DefaultReadCoalesce is genload's --read-coalesce: a quarter of the
// read lag that makes summarize warn (1 ms); two tokens of one stream
// share a nap only when sent less than that apart (over 4,000 tokens a
// second).
const DefaultReadCoalesce = 250 * time.Microsecond

// MaxReadCoalesce bounds ReadCoalesce: a nap as long as the read-lag
// warning's threshold would make every busy run look late by design.
const MaxReadCoalesce = time.Millisecond

// Who reads streamed answers (Config.Reads).
const (
	ReadsAuto      = "auto"
	ReadsLoop      = "loop"
	ReadsGoroutine = "goroutine"
)

// LoopStreams is how many requests at once make ReadsAuto read on the
// loop: below it a goroutine per request costs less per request (the loop
// hands each request to its goroutine and back, two wake-ups), above it
// the loop costs far less per token (docs/perf.md, "The streaming floor").
const LoopStreams = 256

// Defaults used by genload's flags too.
const (
	DefaultTimeout          = 120 * time.Second
	DefaultConnectTimeout   = 10 * time.Second
	DefaultGrace            = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// Validate checks the config and fills what is derived from it.
func (c *Config) Validate() error {
	t, err := openai.ParseTarget(c.URL)
	if err != nil {
		return setting.Errorf("{URL}: %v", err)
	}
	c.Target = t
	switch {
	case c.Endpoint == "":
		c.Endpoint = t.Endpoint
		if c.Endpoint == "" {
			c.Endpoint = openai.EndpointCompletions
		}
	case !openai.KnownEndpoint(c.Endpoint):
		return setting.Errorf("{Endpoint} %q: want %s", c.Endpoint, openai.Endpoints)
	case t.Endpoint != "" && t.Endpoint != c.Endpoint:
		return setting.Errorf("{URL} names the %s endpoint but {Endpoint} says %s", t.Endpoint, c.Endpoint)
	}
	if err := c.validateURLs(); err != nil {
		return err
	}
	switch {
	case c.BatchSize < 0:
		return setting.Errorf("{BatchSize} %d: cannot be negative", c.BatchSize)
	case c.BatchSize > 1 && c.Endpoint != openai.EndpointEmbeddings:
		return setting.Errorf("{BatchSize} is for {Endpoint} embeddings")
	case c.BatchSize == 0:
		c.BatchSize = 1
	}
	if c.Endpoint == openai.EndpointEmbeddings {
		c.Stream, c.IgnoreEOS = false, false
	}
	if c.Requests < 0 || c.Duration < 0 || (c.Requests == 0 && c.Duration == 0 && c.TraceFile == "") {
		return setting.Errorf("give {Requests} N (at least 1) or {Duration} D")
	}
	if c.ReadCoalesce < 0 || c.ReadCoalesce >= MaxReadCoalesce {
		return setting.Errorf("{ReadCoalesce} %v: want at least 0 and under %v (the read lag summarize warns of)", c.ReadCoalesce, MaxReadCoalesce)
	}
	if c.Warmup < 0 {
		return setting.Errorf("{Warmup} %d: cannot be negative", c.Warmup)
	}
	if c.MaxTokens < 0 {
		return setting.Errorf("{MaxTokens} %d: cannot be negative (0 leaves it to the server)", c.MaxTokens)
	}
	if err := c.StopRule.validate(); err != nil {
		return err
	}
	if err := c.points(); err != nil {
		return err
	}
	if c.Search != nil {
		if err := c.Search.validate(c); err != nil {
			return err
		}
		c.Points = nil // the search chooses them
	}
	if len(c.Models) > 1 || c.ModelMix != "" {
		p, models, err := newModelPicker(c.Models, c.ModelMix, c.Seed)
		if err != nil {
			return err
		}
		c.picker, c.Models, c.Model = p, models, models[0]
	}
	switch c.Tokenize {
	case "":
		c.Tokenize = TokenizeAuto
	case TokenizeAuto, TokenizeOn, TokenizeOff:
	default:
		return setting.Errorf("{Tokenize} %q: want %s, %s or %s", c.Tokenize, TokenizeAuto, TokenizeOn, TokenizeOff)
	}
	c.Dataset.Seed = int64(c.Seed)
	if err := c.validateConversations(); err != nil {
		return err
	}
	if err := c.validateTrace(); err != nil {
		return err
	}
	switch {
	case c.Endpoint == openai.EndpointEmbeddings:
	case c.SamePrompts:
		c.saltMode = record.SaltOff
	default:
		c.salt, c.saltMode = dataset.NewSalt(), record.SaltRun
	}
	if c.convs == nil && c.trace == nil {
		src, err := dataset.New(c.Dataset)
		if err != nil {
			return err
		}
		c.source = src
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.FirstTokenTimeout < 0 {
		return setting.Errorf("{FirstTokenTimeout} %v: cannot be negative", c.FirstTokenTimeout)
	}
	if c.Grace < 0 {
		return setting.Errorf("{Grace} %v: cannot be negative", c.Grace)
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if err := c.validateShard(); err != nil {
		return err
	}
	if c.RunID == "" {
		c.RunID = NewRunID(time.Now())
	}
	return nil
}

// points builds the load points of the run.
func (c *Config) points() error {
	if c.Arrival == "" {
		c.Arrival = ArrivalPoisson
	}
	if c.MaxConcurrency < 0 {
		return setting.Errorf("{MaxConcurrency} %d: cannot be negative", c.MaxConcurrency)
	}
	c.Points = c.Points[:0]
	if c.TraceFile != "" {
		return nil // the trace's own point (validateTrace)
	}
	if len(c.Rates) == 0 {
		if len(c.Concurrencies) == 0 {
			c.Concurrencies = []int{1}
		}
		if c.RampUp < 0 {
			return setting.Errorf("{RampUp} %v: cannot be negative", c.RampUp)
		}
		for _, n := range c.Concurrencies {
			if n < 1 {
				return setting.Errorf("{Concurrencies} %d: must be at least 1", n)
			}
			c.Points = append(c.Points, Point{Concurrency: n})
		}
		return nil
	}
	if len(c.Concurrencies) > 0 {
		return setting.Errorf("{Concurrencies} is for closed-loop load; with {Rates} cap requests in flight with {MaxConcurrency}")
	}
	for _, r := range c.Rates {
		if _, err := NewSchedule(r, c.Arrival, c.Burstiness, c.RampUp, 0); err != nil {
			return err
		}
		c.Points = append(c.Points, Point{Rate: r, Concurrency: c.MaxConcurrency})
	}
	return nil
}

// NewRunID makes a run id that sorts by time and does not collide between
// shards started in the same second: 20261127T120102Z-3fa9c1.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
