package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Message is one chat message. Content is a plain string: the form every
// OpenAI-compatible server accepts.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	// Reasoning is an assistant message's reasoning, sent back by a
	// conversation run with --keep-reasoning as reasoning_content (what
	// the chat templates of reasoning models read).
	Reasoning string `json:"reasoning_content,omitempty"`
}

// Request is what genload asks for. One body is built per distinct prompt and
// reused for every attempt, so nothing is encoded on the request path.
type Request struct {
	Endpoint string
	Model    string
	Prompt   string    // completions
	Messages []Message // chat; built from Prompt when empty
	// Inputs are an embeddings request's texts (Prompt when empty); it
	// sends neither max_tokens, ignore_eos nor stream: an embedding is
	// one answer, never streamed.
	Inputs    []string
	MaxTokens int  // 0: not sent (the server's default applies)
	IgnoreEOS bool // vLLM's extension: generate exactly MaxTokens
	Stream    bool
	// Extra are JSON objects deep-merged into the body after genload's own
	// fields, in order, each winning over what came before (see Merge):
	// sampling parameters, tools, response_format, chat_template_kwargs.
	Extra []map[string]any
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type body struct {
	Model         string         `json:"model"`
	Prompt        string         `json:"prompt,omitempty"`
	Messages      []Message      `json:"messages,omitempty"`
	Input         any            `json:"input,omitempty"` // embeddings: []string; responses: string or []Message
	MaxOutput     int            `json:"max_output_tokens,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	IgnoreEOS     bool           `json:"ignore_eos,omitempty"`
	Stream        *bool          `json:"stream,omitempty"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
}

// Body encodes r as a JSON request body. Streaming requests ask for the
// usage block (stream_options.include_usage) so that token counts come from
// the server's tokenizer, not from counting chunks. max_tokens is omitted
// when zero because Ollama reads 0 as "unlimited".
func (r Request) Body() ([]byte, error) {
	b := body{Model: r.Model, MaxTokens: r.MaxTokens, IgnoreEOS: r.IgnoreEOS, Stream: &r.Stream}
	switch r.Endpoint {
	case EndpointEmbeddings:
		inputs := r.Inputs
		if len(inputs) == 0 {
			inputs = []string{r.Prompt}
		}
		b = body{Model: r.Model, Input: inputs}
	case EndpointResponses:
		// The Responses API: input is the prompt, or the messages of a
		// chat-style item; max_output_tokens; usage always comes in the
		// final event, so there are no stream_options.
		b = body{Model: r.Model, Input: r.Prompt, MaxOutput: r.MaxTokens, IgnoreEOS: r.IgnoreEOS, Stream: &r.Stream}
		if len(r.Messages) > 0 {
			b.Input = r.Messages
		}
	case EndpointChat:
		b.Messages = r.Messages
		if len(b.Messages) == 0 {
			b.Messages = []Message{{Role: "user", Content: r.Prompt}}
		}
	case EndpointCompletions:
		b.Prompt = r.Prompt
	default:
		return nil, fmt.Errorf("unknown endpoint %q (want %s)", r.Endpoint, Endpoints)
	}
	if r.Stream && (r.Endpoint == EndpointChat || r.Endpoint == EndpointCompletions) {
		b.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	data, err := json.Marshal(b)
	if err != nil || len(r.Extra) == 0 {
		return data, err
	}
	doc, err := ParseObject(data)
	if err != nil {
		return nil, err
	}
	for _, extra := range r.Extra {
		Merge(doc, extra)
	}
	return json.Marshal(doc)
}

// OwnFields are the body fields genload sets from its own settings and
// writes into the records (model, prompt, messages or input, max_tokens
// or the Responses API's max_output_tokens, ignore_eos, stream): extras
// may add to a body, never change these, or the records would say what
// was not sent. stream_options is not among them: extras merge into it.
var OwnFields = []string{"model", "prompt", "messages", "input", "max_tokens", "max_output_tokens", "ignore_eos", "stream"}

// Merge deep-merges over into dst: objects merge key by key, recursively;
// anything else in over (a number, a string, an array, null) replaces
// what dst has. JSON merge-patch's rule (RFC 7396) without its "null
// deletes": a null is sent as null.
func Merge(dst, over map[string]any) {
	for k, v := range over {
		if sub, ok := v.(map[string]any); ok {
			if into, ok := dst[k].(map[string]any); ok {
				Merge(into, sub)
				continue
			}
			copied := map[string]any{}
			Merge(copied, sub)
			dst[k] = copied
			continue
		}
		dst[k] = v
	}
}

// ParseObject reads a JSON object such as --extra-body's, keeping numbers
// as they were written (json.Number) so that a seed or a large integer is
// sent exactly.
func ParseObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if obj == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if rest := bytes.Trim(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 { // JSON's whitespace only
		return nil, fmt.Errorf("not one JSON object: %q follows it", Clip(string(rest)))
	}
	return obj, nil
}
