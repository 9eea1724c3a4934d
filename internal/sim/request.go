package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"
)

// endpoint is one of the generation APIs.
type endpoint int

const (
	completions endpoint = iota // POST /v1/completions
	chat                        // POST /v1/chat/completions
	responses                   // POST /v1/responses (responses.go)
)

func (e endpoint) path() string {
	switch e {
	case chat:
		return "/v1/chat/completions"
	case responses:
		return "/v1/responses"
	}
	return "/v1/completions"
}

// maxBodyBytes bounds a request body; prompts beyond it are not benchmarks.
const maxBodyBytes = 64 << 20

// genRequest holds the request fields llmsim reads; others are ignored, as
// vLLM ignores unknown fields.
type genRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	N                   *int            `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage         bool `json:"include_usage"`
		ContinuousUsageStats bool `json:"continuous_usage_stats"`
	} `json:"stream_options"`
	IgnoreEOS bool       `json:"ignore_eos"`
	Tools     []toolJSON `json:"tools"`
	// The Responses API's: input (a string, or a list of message items)
	// and max_output_tokens.
	Input           json.RawMessage `json:"input"`
	MaxOutputTokens *int            `json:"max_output_tokens"`

	// AddGenerationPrompt (chat) is vLLM's flag, true unless false.
	AddGenerationPrompt *bool `json:"add_generation_prompt"`
}

// toolJSON is a tool the request offers: llmsim calls the first one. Chat
// names it in function.name, the Responses API in name.
type toolJSON struct {
	Name     string `json:"name"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"` // string, array of parts, or null
}

// plan is an accepted request: everything needed to answer it.
type plan struct {
	ep           endpoint
	seq          uint64 // arrival number, also the id
	created      int64  // Unix seconds, the "created" field
	model        int    // index into Server.names
	promptTokens int
	n            int    // output tokens
	finish       string // "stop" or "length"
	rng          rng    // draws the words, after the length
	stream       bool
	usage        bool // stream_options.include_usage
	continuous   bool // stream_options.continuous_usage_stats
	fault        Fault

	// A reasoning model's answer (chat): its first reasoning tokens are
	// reasoning, in reasoningField (or both keys); reasons says usage
	// reports them. thought is the rng at the first reasoning word, for a
	// whole body, which writes the reasoning after the content.
	reasons        bool
	reasoning      int
	reasoningField string
	thought        rng
	// The prompt's block hashes (with a prefix cache), the prompt tokens
	// served from the cache at admission, and the prefill time of the
	// others (prefixcache.go).
	blocks  []uint64
	cached  int
	prefill time.Duration

	// tool is the name of the tool the answer calls (JSON-escaped), or ""
	// for a text answer: the tokens after the reasoning are then the
	// call's name and argument fragments.
	tool string

	// The Responses API's: maxOut is the max_output_tokens applied, first
	// the rng at the first token (the closing events and the final
	// response repeat the text), events the stream's sequence_number.
	maxOut int
	first  rng
	events int
}

// parse validates a generation request in vLLM's order (body, model, then
// limits) and draws its output length.
func (s *Server) parse(w http.ResponseWriter, r *http.Request, ep endpoint) (plan, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return plan{}, badRequest("reading the request body: %v", err)
	}
	s.logRequest(r, body)
	var req genRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return plan{}, badRequest("invalid JSON body: %v", err)
	}
	p := plan{ep: ep, stream: req.Stream}
	if req.Model != "" {
		i, ok := s.index[req.Model]
		if !ok {
			return plan{}, &apiError{http.StatusNotFound, "NotFoundError", "The model `" + req.Model + "` does not exist."}
		}
		p.model = i
	}
	acc := s.newPromptAcc()
	var aerr *apiError
	switch ep {
	case chat:
		aerr = acc.messages(req.Messages, req.AddGenerationPrompt == nil || *req.AddGenerationPrompt)
	case responses:
		aerr = acc.input(req.Input)
	default:
		aerr = acc.prompt(req.Prompt)
	}
	p.promptTokens, p.blocks = acc.n, acc.blocks
	if aerr != nil {
		return plan{}, aerr
	}
	maxTokens := DefaultMaxTokens
	switch {
	case ep == chat && req.MaxCompletionTokens != nil:
		maxTokens = *req.MaxCompletionTokens
	case ep == responses:
		if maxTokens, aerr = s.maxOutputTokens(req.MaxOutputTokens, p.promptTokens); aerr != nil {
			return plan{}, aerr
		}
		p.maxOut = maxTokens
	case req.MaxTokens != nil:
		maxTokens = *req.MaxTokens
	}
	switch {
	case maxTokens < 1:
		return plan{}, badRequest("max_tokens must be at least 1, got %d.", maxTokens)
	case p.promptTokens+maxTokens > s.cfg.MaxModelLen:
		return plan{}, badRequest("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			s.cfg.MaxModelLen, p.promptTokens+maxTokens, p.promptTokens, maxTokens)
	case req.N != nil && *req.N != 1:
		return plan{}, badRequest("llmsim supports only n=1, got n=%d.", *req.N)
	case req.StreamOptions != nil && !req.Stream && ep != responses:
		return plan{}, badRequest("Stream options can only be defined when `stream=True`.")
	}
	if req.StreamOptions != nil && ep != responses {
		p.usage = req.StreamOptions.IncludeUsage
		p.continuous = p.usage && req.StreamOptions.ContinuousUsageStats
	}
	p.seq = s.seq.Add(1)
	p.created = time.Now().Unix()
	p.rng = newRNG(s.cfg.Seed, p.seq)
	p.n, p.finish = maxTokens, "length"
	if !req.IgnoreEOS && s.cfg.EOSProb > 0 {
		var stopped bool
		if p.n, stopped = p.rng.length(maxTokens, s.cfg.EOSProb); stopped {
			p.finish = "stop"
		}
	}
	if ep != completions {
		s.answerKind(&p, req.Tools)
	}
	p.first = p.rng
	return p, nil
}

// toolSeed separates the tool-call draws from the length and word draws.
const toolSeed = 0x7f4a7c159e3779b9

// answerKind decides a chat answer's shape: the reasoning tokens first
// (part of the n tokens, as vLLM counts them in max_tokens), then, when the
// request offers tools and the --tool-call-rate draw (seeded, per arrival)
// picks it, a call of the first tool instead of text.
func (s *Server) answerKind(p *plan, tools []toolJSON) {
	if s.cfg.ReasoningTokens > 0 || s.cfg.ReasoningTokensMax > 0 {
		p.reasons = true
		p.reasoning = min(s.reasoningTokens(p.seq), p.n)
		p.reasoningField = s.cfg.ReasoningField
	}
	if len(tools) == 0 || s.cfg.ToolCallRate <= 0 || p.n <= p.reasoning {
		return
	}
	if r := newRNG(s.cfg.Seed^toolSeed, p.seq); r.float() >= s.cfg.ToolCallRate {
		return
	}
	name := tools[0].Function.Name
	if tools[0].Name != "" {
		name = tools[0].Name
	}
	if name == "" {
		name = "tool"
	}
	q, _ := json.Marshal(name)
	p.tool, p.finish = string(q[1:len(q)-1]), "tool_calls"
}

// reasoningTokens is how long request seq reasons: ReasoningTokens, or
// with ReasoningTokensMax a seeded uniform draw between the two.
func (s *Server) reasoningTokens(seq uint64) int {
	lo, hi := s.cfg.ReasoningTokens, s.cfg.ReasoningTokensMax
	if hi <= lo {
		return lo
	}
	r := newRNG(s.cfg.Seed^reasoningSeed, seq)
	return lo + int(r.next()%uint64(hi-lo+1))
}

// reasoningSeed separates the reasoning-length draws from the others.
const reasoningSeed = 0x3c6ef372fe94f82b

// promptTokens counts a completions prompt's words: a string, a list of
// one string, a list of token ids, or a list of one list of token ids.
func promptTokens(raw json.RawMessage) (int, *apiError) {
	a := promptAcc{}
	aerr := a.prompt(raw)
	return a.n, aerr
}

// countWords counts maximal runs of non-space characters, without
// allocating.
func countWords(s string) int {
	n, inWord := 0, false
	for i := 0; i < len(s); {
		c := s[i]
		var space bool
		if c < utf8.RuneSelf {
			space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
			i += size
		}
		if !space && !inWord {
			n++
		}
		inWord = !space
	}
	return n
}
