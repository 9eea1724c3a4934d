package sim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Defaults for Config, also used for zero fields where zero makes no sense.
const (
	DefaultAddr        = "127.0.0.1:8000"
	DefaultModel       = "llmsim/tiny"
	DefaultTTFT        = 20 * time.Millisecond
	DefaultITL         = 5 * time.Millisecond
	DefaultMaxNumSeqs  = 256
	DefaultMaxModelLen = 4096
	DefaultEOSProb     = 0.05
	// DefaultMaxTokens is used when a request gives neither max_tokens nor
	// (chat) max_completion_tokens. It is vLLM's default for completions; for
	// chat vLLM would allow max_model_len - prompt tokens, but a benchmark
	// target that answers a forgotten limit with thousands of tokens only
	// slows everyone down, so chat gets 16 too.
	DefaultMaxTokens = 16
	// Version is what GET /version reports.
	Version = "0.0.0-llmsim"
)

// ErrConfig marks configuration errors, so that commands can exit with the
// usage status rather than the runtime one.
var ErrConfig = errors.New("invalid configuration")

// Config holds every knob of the simulator. The zero value is usable with
// New: it serves DefaultModel with no delays and no early EOS.
type Config struct {
	Addr             string   // listen address for Run; port 0 picks a free one
	Models           []string // model paths; the first one is the metrics label
	ServedModelNames []string // names clients use instead of Models, as vLLM's --served-model-name

	TTFT      time.Duration // admission to first token
	ITL       time.Duration // between successive tokens
	ITLPerSeq time.Duration // extra time per step for each other running sequence (batching slowdown)

	MaxNumSeqs   int           // sequences generating at once; more wait in a FIFO queue
	MaxModelLen  int           // prompt + max_tokens limit, in tokens
	StartupDelay time.Duration // time answering 503 before becoming ready

	Seed    int64   // seeds output lengths and words, with the arrival number
	EOSProb float64 // per-token probability of ending early without ignore_eos

	Stall      time.Duration // engine pause, once; 0 disables
	StallAfter time.Duration // when the stall starts, after New

	// Faults: either rates or a cycle decides each accepted request's
	// fault (see Fault and the package documentation).
	FaultRates    []FaultRate   // probability per request of each fault; they add up to at most 1
	FaultCycle    []Fault       // request i (from 0, in arrival order) gets FaultCycle[i mod len]
	FaultAfter    int           // tokens a stream sends before a mid-stream fault
	SlowHeaders   time.Duration // how late the slow-headers fault accepts a request
	OversizeBytes int64         // padding of the oversized fault; 0: DefaultOversizeBytes

	// A reasoning model (chat): every answer reasons for ReasoningTokens
	// tokens (or, with ReasoningTokensMax above it, a seeded uniform draw
	// between the two) before its content, within max_tokens. The
	// reasoning goes in ReasoningField: "reasoning" (vLLM's current
	// name, the default), "reasoning_content" (older versions) or "both"
	// (the versions that send both keys with the same text). The first
	// content token then comes ReasoningTokens x ITL after the first token.
	ReasoningTokens    int
	ReasoningTokensMax int
	ReasoningField     string
	// ToolCallRate is the probability (seeded per arrival) that a chat
	// request offering tools is answered with a streamed call of its
	// first tool, as vLLM streams one, instead of text.
	ToolCallRate float64

	// The prefix cache (prefixcache.go): prompts are cut into blocks of
	// BlockTokens tokens keyed by content, and CacheBlocks of them are
	// kept, least recently used evicted first; 0 blocks: no cache. A
	// request's first token then takes TTFT plus PrefillPerToken for each
	// prompt token not served from the cache.
	BlockTokens     int
	CacheBlocks     int
	PrefillPerToken time.Duration
	// Tokenizer counts prompt tokens: TokenizerWords (the default) or
	// TokenizerPieces (tokenizer.go).
	Tokenizer string

	// EmbeddingDim is the length of the vectors POST /v1/embeddings
	// answers with; 0: DefaultEmbeddingDim.
	EmbeddingDim int

	// RequestLog, when set, gets one JSON line per generation request: its
	// method, path, headers (Authorization redacted) and body, for tests
	// that check what a client sent.
	RequestLog io.Writer

	Quiet bool // Run prints only the startup line and errors
}

// The values of Config.ReasoningField.
const (
	ReasoningField        = "reasoning"
	ReasoningContentField = "reasoning_content"
	ReasoningBoth         = "both"
)

// DefaultConfig returns the configuration llmsim starts with when no flag is
// given.
func DefaultConfig() Config {
	return Config{
		Addr:          DefaultAddr,
		Models:        []string{DefaultModel},
		TTFT:          DefaultTTFT,
		ITL:           DefaultITL,
		MaxNumSeqs:    DefaultMaxNumSeqs,
		MaxModelLen:   DefaultMaxModelLen,
		EOSProb:       DefaultEOSProb,
		FaultAfter:    DefaultFaultAfter,
		SlowHeaders:   DefaultSlowHeaders,
		OversizeBytes: DefaultOversizeBytes,
		BlockTokens:   DefaultBlockTokens,
		CacheBlocks:   DefaultCacheBlocks,
		Tokenizer:     TokenizerWords,
	}
}

// Validate reports the first nonsensical setting, wrapped in ErrConfig. New
// does not call it (it normalizes instead); Run does.
func (c Config) Validate() error {
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"ttft", c.TTFT}, {"itl", c.ITL}, {"itl-per-seq", c.ITLPerSeq},
		{"startup-delay", c.StartupDelay}, {"stall", c.Stall}, {"stall-after", c.StallAfter},
		{"slow-headers", c.SlowHeaders}, {"prefill-per-token", c.PrefillPerToken},
	}
	for _, d := range durations {
		if d.d < 0 {
			return fmt.Errorf("%w: %s must not be negative, got %v", ErrConfig, d.name, d.d)
		}
	}
	switch {
	case c.MaxNumSeqs < 1:
		return fmt.Errorf("%w: max-num-seqs must be at least 1, got %d", ErrConfig, c.MaxNumSeqs)
	case c.MaxModelLen < 1:
		return fmt.Errorf("%w: max-model-len must be at least 1, got %d", ErrConfig, c.MaxModelLen)
	case math.IsNaN(c.EOSProb) || c.EOSProb < 0 || c.EOSProb > 1:
		return fmt.Errorf("%w: eos-prob must be in [0, 1], got %v", ErrConfig, c.EOSProb)
	case c.ReasoningTokens < 0:
		return fmt.Errorf("%w: reasoning-tokens must not be negative, got %d", ErrConfig, c.ReasoningTokens)
	case c.ReasoningTokensMax != 0 && c.ReasoningTokensMax < c.ReasoningTokens:
		return fmt.Errorf("%w: reasoning-tokens range %d-%d is empty", ErrConfig, c.ReasoningTokens, c.ReasoningTokensMax)
	case !slices.Contains([]string{"", ReasoningField, ReasoningContentField, ReasoningBoth}, c.ReasoningField):
		return fmt.Errorf("%w: reasoning-field must be %s, %s or %s, got %q", ErrConfig, ReasoningField, ReasoningContentField, ReasoningBoth, c.ReasoningField)
	case c.EmbeddingDim < 0 || c.EmbeddingDim > 1<<16:
		return fmt.Errorf("%w: embedding-dim must be 1-65536, got %d", ErrConfig, c.EmbeddingDim)
	case c.BlockTokens < 0 || c.BlockTokens > 1<<16:
		return fmt.Errorf("%w: block-tokens must be 1-65536, got %d", ErrConfig, c.BlockTokens)
	case c.CacheBlocks < 0 || c.CacheBlocks > 1<<26:
		return fmt.Errorf("%w: cache-blocks must be 0 (no cache) to %d, got %d", ErrConfig, 1<<26, c.CacheBlocks)
	case !slices.Contains([]string{"", TokenizerWords, TokenizerPieces}, c.Tokenizer):
		return fmt.Errorf("%w: tokenizer must be %s or %s, got %q", ErrConfig, TokenizerWords, TokenizerPieces, c.Tokenizer)
	case math.IsNaN(c.ToolCallRate) || c.ToolCallRate < 0 || c.ToolCallRate > 1:
		return fmt.Errorf("%w: tool-call-rate must be in [0, 1], got %v", ErrConfig, c.ToolCallRate)
	}
	for _, names := range [][]string{c.Models, c.ServedModelNames} {
		for _, n := range names {
			if n == "" {
				return fmt.Errorf("%w: empty model name", ErrConfig)
			}
		}
	}
	return c.validateFaults()
}

// normalized fills the fields whose zero value cannot be meant literally.
func (c Config) normalized() Config {
	if len(c.Models) == 0 {
		c.Models = []string{DefaultModel}
	}
	if c.MaxNumSeqs < 1 {
		c.MaxNumSeqs = DefaultMaxNumSeqs
	}
	if c.MaxModelLen < 1 {
		c.MaxModelLen = DefaultMaxModelLen
	}
	if math.IsNaN(c.EOSProb) || c.EOSProb < 0 {
		c.EOSProb = 0
	}
	c.EOSProb = min(c.EOSProb, 1)
	c.TTFT, c.ITL, c.ITLPerSeq = max(c.TTFT, 0), max(c.ITL, 0), max(c.ITLPerSeq, 0)
	c.Stall, c.StallAfter = max(c.Stall, 0), max(c.StallAfter, 0)
	c.FaultRates = slices.DeleteFunc(slices.Clone(c.FaultRates), func(r FaultRate) bool { return r.Fault >= numFaults })
	c.FaultCycle = slices.Clone(c.FaultCycle)
	for i, f := range c.FaultCycle {
		if f >= numFaults {
			c.FaultCycle[i] = FaultNone
		}
	}
	c.FaultAfter, c.SlowHeaders = max(c.FaultAfter, 0), max(c.SlowHeaders, 0)
	c.ReasoningTokens = max(c.ReasoningTokens, 0)
	if c.ReasoningField != ReasoningContentField && c.ReasoningField != ReasoningBoth {
		c.ReasoningField = ReasoningField
	}
	if c.EmbeddingDim <= 0 || c.EmbeddingDim > 1<<16 {
		c.EmbeddingDim = DefaultEmbeddingDim
	}
	if c.BlockTokens <= 0 || c.BlockTokens > 1<<16 {
		c.BlockTokens = DefaultBlockTokens
	}
	c.CacheBlocks = min(max(c.CacheBlocks, 0), 1<<26)
	c.PrefillPerToken = max(c.PrefillPerToken, 0)
	if c.Tokenizer != TokenizerPieces {
		c.Tokenizer = TokenizerWords
	}
	if c.OversizeBytes <= 0 {
		c.OversizeBytes = DefaultOversizeBytes
	}
	return c
}
