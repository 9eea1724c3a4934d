package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Embeddings is what a /v1/embeddings answer says, as far as a benchmark
// needs it: how many embeddings came, and the server's count of the input
// tokens.
type Embeddings struct {
	Count        int  // items of data holding an embedding
	PromptTokens int  // usage.prompt_tokens
	UsageSet     bool // usage.prompt_tokens was sent
}

// embeddingsBody is vLLM's EmbeddingResponse, with what the other
// endpoints send instead, to name it when it comes. The vectors stay raw:
// a benchmark checks they are there, not what they say.
type embeddingsBody struct {
	Object string `json:"object"`
	Data   *[]struct {
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Choices json.RawMessage `json:"choices"`
	Usage   *struct {
		PromptTokens *int `json:"prompt_tokens"`
	} `json:"usage"`
}

// ParseEmbeddings reads a whole /v1/embeddings body that should hold one
// embedding (a non-empty array of floats, or a base64 string for
// encoding_format "base64") per input. Anything else is an error naming
// what came instead: a completion's choices, an error body, no data.
func ParseEmbeddings(data []byte, inputs int) (Embeddings, error) {
	var b embeddingsBody
	if err := json.Unmarshal(data, &b); err != nil {
		return Embeddings{}, fmt.Errorf("embeddings response is not the expected JSON (%v): %s", err, Clip(string(data)))
	}
	if b.Data == nil {
		if len(b.Choices) > 0 && string(b.Choices) != "null" {
			return Embeddings{}, fmt.Errorf("embeddings response has choices, not data: a completion answered (object %q)", b.Object)
		}
		if msg, isErr := StreamError(data); isErr {
			return Embeddings{}, fmt.Errorf("error body with a 2xx status: %s", msg)
		}
		return Embeddings{}, fmt.Errorf("embeddings response has no data array: %s", Clip(string(data)))
	}
	var e Embeddings
	for i, d := range *b.Data {
		v := bytes.TrimSpace(d.Embedding)
		if !nonEmptyVector(v) {
			return Embeddings{}, fmt.Errorf("embeddings response: data[%d] holds no embedding (%s)", i, Clip(string(v)))
		}
		e.Count++
	}
	if e.Count != inputs {
		return Embeddings{}, fmt.Errorf("embeddings response has %d embeddings for %d inputs", e.Count, inputs)
	}
	if b.Usage != nil && b.Usage.PromptTokens != nil {
		e.PromptTokens, e.UsageSet = *b.Usage.PromptTokens, true
	}
	return e, nil
}

// nonEmptyVector is true for a non-empty array or a non-empty string
// (base64): the two forms of an embedding.
func nonEmptyVector(v []byte) bool {
	switch {
	case len(v) >= 2 && v[0] == '[':
		return len(bytes.TrimSpace(v[1:len(v)-1])) > 0
	case len(v) >= 2 && v[0] == '"':
		return len(v) > 2
	}
	return false
}
