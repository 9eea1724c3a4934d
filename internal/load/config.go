// Package load sends the requests of a benchmark run and records each
// attempt: it resolves the target, builds the request bodies once, runs the
// workers, applies timeouts, handles interrupts and writes one record per
// attempt as it finishes. It knows nothing about flags or statistics.
package load

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"servebench/internal/openai"
)

// Config is one genload run. Zero values are filled by Defaults.
type Config struct {
	URL      string
	Target   openai.Target // resolved from URL by Validate
	Endpoint string        // openai.EndpointCompletions or EndpointChat
	Model    string        // "" = the first model the server lists
	APIKey   string

	Prompts   []string // cycled through in order
	MaxTokens int      // 0 = not sent: the server's default
	IgnoreEOS bool
	Stream    bool

	Requests    int // measured requests
	Warmup      int // requests before the measured ones, excluded from statistics
	Concurrency int // requests in flight; 1 = serial

	Timeout          time.Duration // per request, from send to the last byte
	Grace            time.Duration // after an interrupt, how long requests in flight may finish
	MaxResponseBytes int64

	RunID string
	Label string

	Quiet    bool // no progress, no final line
	Progress bool // show a progress line (genload sets it when stderr is a terminal)
}

// Defaults used by genload's flags too.
const (
	DefaultTimeout          = 120 * time.Second
	DefaultGrace            = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 20
	DefaultPrompt           = "Write a short story about a lighthouse keeper who finds a message in a bottle."
)

// Validate checks the config and fills what is derived from it.
func (c *Config) Validate() error {
	t, err := openai.ParseTarget(c.URL)
	if err != nil {
		return err
	}
	c.Target = t
	switch {
	case c.Endpoint == "":
		c.Endpoint = t.Endpoint
		if c.Endpoint == "" {
			c.Endpoint = openai.EndpointCompletions
		}
	case c.Endpoint != openai.EndpointCompletions && c.Endpoint != openai.EndpointChat:
		return fmt.Errorf("--endpoint %q: want %s or %s", c.Endpoint, openai.EndpointCompletions, openai.EndpointChat)
	case t.Endpoint != "" && t.Endpoint != c.Endpoint:
		return fmt.Errorf("--url names the %s endpoint but --endpoint says %s", t.Endpoint, c.Endpoint)
	}
	if c.Requests < 1 {
		return errors.New("--requests must be at least 1")
	}
	if c.Warmup < 0 || c.MaxTokens < 0 {
		return errors.New("--warmup and --max-tokens cannot be negative")
	}
	if c.Concurrency < 1 {
		return errors.New("--concurrency must be at least 1")
	}
	if len(c.Prompts) == 0 {
		c.Prompts = []string{DefaultPrompt}
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Grace < 0 {
		return errors.New("--grace cannot be negative")
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.RunID == "" {
		c.RunID = NewRunID(time.Now())
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
