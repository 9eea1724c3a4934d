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
	"servebench/internal/setting"
)

// Config is one genload run. Zero values are filled by Defaults.
type Config struct {
	URL      string
	Target   openai.Target // resolved from URL by Validate
	Endpoint string        // openai.EndpointCompletions, EndpointChat or EndpointEmbeddings
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

	// CheckModel makes Run list the served models before sending and fail
	// with an *openai.ModelNotServedError when Model is not among them: a
	// run of 404s is not a benchmark. A server that cannot list its models
	// is warned about and sent to anyway.
	CheckModel bool

	// Dataset says where prompts come from (literal, file, ShareGPT,
	// synthetic) and their per-request max_tokens; Validate opens it.
	Dataset   dataset.Config
	source    dataset.Source
	MaxTokens int // 0 = not sent: the server's default
	IgnoreEOS bool
	Stream    bool
	// Headers are sent with every request, after genload's own (which
	// they override; an X-Request-Id here replaces the per-request one).
	Headers http.Header
	// ExtraBody is deep-merged into every request body after genload's own
	// fields (sampling parameters, chat_template_kwargs, ...); a prompt
	// line's own extra fields merge after it. nil when none.
	ExtraBody map[string]any

	// Load points, run in turn: closed loop at each of Concurrencies, or
	// open loop at each of Rates (req/s) with at most MaxConcurrency in
	// flight (0 = no cap). Validate turns them into Points.
	Concurrencies  []int
	Rates          []float64
	MaxConcurrency int
	Arrival        string        // open loop: poisson, constant or gamma
	Burstiness     float64       // gamma shape
	RampUp         time.Duration // open loop: rate rises linearly from 0 over this time
	Seed           uint64        // arrival times (and prompts) are reproducible for a seed
	Points         []Point

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
}

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
	if c.Requests < 0 || c.Duration < 0 || (c.Requests == 0 && c.Duration == 0) {
		return setting.Errorf("give {Requests} N (at least 1) or {Duration} D")
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
	c.Dataset.Seed = int64(c.Seed)
	src, err := dataset.New(c.Dataset)
	if err != nil {
		return err
	}
	c.source = src
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
	if len(c.Rates) == 0 {
		if len(c.Concurrencies) == 0 {
			c.Concurrencies = []int{1}
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
