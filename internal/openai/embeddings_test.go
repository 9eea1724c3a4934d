package openai

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseEmbeddings(t *testing.T) {
	const vllm = `{"id":"embd-1","object":"list","created":1,"model":"m","data":[{"index":0,"object":"embedding","embedding":[0.1,-0.2]},{"index":1,"object":"embedding","embedding":[0.3,0.4]}],"usage":{"prompt_tokens":7,"total_tokens":7,"completion_tokens":0,"prompt_tokens_details":null}}`
	for _, tc := range []struct {
		name, body string
		inputs     int
		want       Embeddings
		err        string // a part of the error; "" = success
	}{
		{"vLLM's shape", vllm, 2, Embeddings{Count: 2, PromptTokens: 7, UsageSet: true}, ""},
		// base64 embeddings are strings
		{"base64", `{"data":[{"embedding":"AAAA"}],"usage":{"prompt_tokens":1}}`, 1, Embeddings{Count: 1, PromptTokens: 1, UsageSet: true}, ""},
		// no usage: counts stay unset
		{"no usage", `{"data":[{"embedding":[1]}]}`, 1, Embeddings{Count: 1}, ""},
		{"fewer than asked", vllm, 3, Embeddings{}, "2 embeddings for 3 inputs"},
		{"empty vector", `{"data":[{"embedding":[]}]}`, 1, Embeddings{}, "data[0] holds no embedding"},
		{"no embedding key", `{"data":[{"index":0}]}`, 1, Embeddings{}, "data[0] holds no embedding"},
		// a completions answer to an embeddings request
		{"chat answered", `{"object":"chat.completion","choices":[{"message":{"content":"hi"}}]}`, 1, Embeddings{}, "choices, not data"},
		{"error body", `{"error":{"message":"boom","type":"X"}}`, 1, Embeddings{}, "error body with a 2xx status: boom"},
		{"no data", `{"object":"list"}`, 1, Embeddings{}, "no data array"},
		{"not JSON", `data: {"x":1}`, 1, Embeddings{}, "not the expected JSON"},
		{"negative count in range", `{"data":[{"embedding":[1]}],"usage":{"prompt_tokens":1e400}}`, 1, Embeddings{}, "not the expected JSON"},
	} {
		got, err := ParseEmbeddings([]byte(tc.body), tc.inputs)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.err)
		case got != tc.want:
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// FuzzParseEmbeddings holds ParseEmbeddings to encoding/json's generic
// reading of the same bytes: it never panics, and when it accepts a body,
// the body is JSON whose data array has that many non-empty embeddings.
func FuzzParseEmbeddings(f *testing.F) {
	f.Add([]byte(`{"data":[{"embedding":[0.1]},{"embedding":"QUJD"}],"usage":{"prompt_tokens":3}}`), 2)
	f.Add([]byte(`{"choices":[]}`), 1)
	f.Add([]byte(`{"data":null,"error":"x"}`), 0)
	f.Fuzz(func(t *testing.T, data []byte, inputs int) {
		got, err := ParseEmbeddings(data, inputs)
		if err != nil {
			return
		}
		// A struct, not a map: encoding/json matches keys without
		// regard to case, as ParseEmbeddings' own decoding does.
		var doc struct {
			Data []struct {
				Embedding any `json:"embedding"`
			} `json:"data"`
		}
		if jerr := json.Unmarshal(data, &doc); jerr != nil {
			t.Fatalf("accepted what encoding/json refuses (%v): %q", jerr, data)
		}
		if got.Count != inputs || len(doc.Data) != got.Count {
			t.Fatalf("count %d, inputs %d, encoding/json sees %d items: %q", got.Count, inputs, len(doc.Data), data)
		}
		for i, d := range doc.Data {
			switch v := d.Embedding.(type) {
			case []any:
				if len(v) == 0 {
					t.Fatalf("data[%d]: empty vector accepted: %q", i, data)
				}
			case string:
				if v == "" {
					t.Fatalf("data[%d]: empty string accepted: %q", i, data)
				}
			default:
				t.Fatalf("data[%d]: %T accepted as an embedding: %q", i, v, data)
			}
		}
	})
}
