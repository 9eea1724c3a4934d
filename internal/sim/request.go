package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"
)

// endpoint is one of the two generation APIs.
type endpoint int

const (
	completions endpoint = iota // POST /v1/completions
	chat                        // POST /v1/chat/completions
)

func (e endpoint) path() string {
	if e == chat {
		return "/v1/chat/completions"
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
	IgnoreEOS bool `json:"ignore_eos"`
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
}

// parse validates a generation request in vLLM's order (body, model, then
// limits) and draws its output length.
func (s *Server) parse(w http.ResponseWriter, r *http.Request, ep endpoint) (plan, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return plan{}, badRequest("reading the request body: %v", err)
	}
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
	var aerr *apiError
	if ep == chat {
		p.promptTokens, aerr = messageTokens(req.Messages)
	} else {
		p.promptTokens, aerr = promptTokens(req.Prompt)
	}
	if aerr != nil {
		return plan{}, aerr
	}
	maxTokens := DefaultMaxTokens
	if ep == chat && req.MaxCompletionTokens != nil {
		maxTokens = *req.MaxCompletionTokens
	} else if req.MaxTokens != nil {
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
	case req.StreamOptions != nil && !req.Stream:
		return plan{}, badRequest("Stream options can only be defined when `stream=True`.")
	}
	if req.StreamOptions != nil {
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
	return p, nil
}

// promptTokens counts a completions prompt: a string (its words), a list of
// one string, a list of token ids, or a list of one list of token ids.
func promptTokens(raw json.RawMessage) (int, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, badRequest("Field required: prompt.")
	}
	var n int
	switch raw[0] {
	case '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, badRequest("invalid prompt: %v", err)
		}
		n = countWords(text)
	case '[':
		var parts []json.RawMessage
		if err := json.Unmarshal(raw, &parts); err != nil {
			return 0, badRequest("invalid prompt: %v", err)
		}
		if len(parts) == 0 {
			return 0, badRequest("The prompt cannot be empty.")
		}
		first := bytes.TrimSpace(parts[0])
		if len(first) > 0 && (first[0] == '-' || first[0] >= '0' && first[0] <= '9') {
			n = len(parts) // token ids
			break
		}
		if len(parts) != 1 {
			return 0, badRequest("llmsim accepts one prompt per request, got %d.", len(parts))
		}
		return promptTokens(first)
	default:
		return 0, badRequest("prompt must be a string, a list of strings or a list of token ids.")
	}
	if n == 0 {
		return 0, badRequest("The decoder prompt cannot be empty.")
	}
	return n, nil
}

// messageTokens counts the words of every message's text content.
func messageTokens(msgs []chatMessage) (int, *apiError) {
	if len(msgs) == 0 {
		return 0, badRequest("Field required: messages (a non-empty list).")
	}
	n := 0
	for i, m := range msgs {
		c := bytes.TrimSpace(m.Content)
		switch {
		case len(c) == 0 || string(c) == "null":
		case c[0] == '"':
			var text string
			if err := json.Unmarshal(c, &text); err != nil {
				return 0, badRequest("messages[%d].content: %v", i, err)
			}
			n += countWords(text)
		case c[0] == '[':
			var parts []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if err := json.Unmarshal(c, &parts); err != nil {
				return 0, badRequest("messages[%d].content: %v", i, err)
			}
			for _, p := range parts {
				n += countWords(p.Text)
			}
		default:
			return 0, badRequest("messages[%d].content must be a string or a list of parts.", i)
		}
	}
	return n, nil
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
