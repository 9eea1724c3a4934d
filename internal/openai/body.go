package openai

import (
	"encoding/json"
	"fmt"
)

// Message is one chat message. Content is a plain string: the form every
// OpenAI-compatible server accepts.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is what genload asks for. One body is built per distinct prompt and
// reused for every attempt, so nothing is encoded on the request path.
type Request struct {
	Endpoint  string
	Model     string
	Prompt    string    // completions
	Messages  []Message // chat; built from Prompt when empty
	MaxTokens int       // 0: not sent (the server's default applies)
	IgnoreEOS bool      // vLLM's extension: generate exactly MaxTokens
	Stream    bool
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type body struct {
	Model         string         `json:"model"`
	Prompt        string         `json:"prompt,omitempty"`
	Messages      []Message      `json:"messages,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	IgnoreEOS     bool           `json:"ignore_eos,omitempty"`
	Stream        bool           `json:"stream"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
}

// Body encodes r as a JSON request body. Streaming requests ask for the
// usage block (stream_options.include_usage) so that token counts come from
// the server's tokenizer, not from counting chunks. max_tokens is omitted
// when zero because Ollama reads 0 as "unlimited".
func (r Request) Body() ([]byte, error) {
	b := body{Model: r.Model, MaxTokens: r.MaxTokens, IgnoreEOS: r.IgnoreEOS, Stream: r.Stream}
	switch r.Endpoint {
	case EndpointChat:
		b.Messages = r.Messages
		if len(b.Messages) == 0 {
			b.Messages = []Message{{Role: "user", Content: r.Prompt}}
		}
	case EndpointCompletions:
		b.Prompt = r.Prompt
	default:
		return nil, fmt.Errorf("unknown endpoint %q (want %s or %s)", r.Endpoint, EndpointCompletions, EndpointChat)
	}
	if r.Stream {
		b.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	return json.Marshal(b)
}
