package sim

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// embeddingsAnswer is vLLM's EmbeddingResponse, as a client reads it.
type embeddingsAnswer struct {
	Object string `json:"object"`
	Model  string `json:"model"`
	Data   []struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	} `json:"data"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		TotalTokens      int `json:"total_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func TestEmbeddings(t *testing.T) {
	_, ts := newTestServer(t, Config{TTFT: 20 * time.Millisecond, EmbeddingDim: 4, Models: []string{"m"}})
	start := time.Now()
	resp, body := post(t, ts.URL+"/v1/embeddings", `{"model":"m","input":["one two","three four five"]}`)
	took := time.Since(start)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var a embeddingsAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if a.Object != "list" || a.Model != "m" || len(a.Data) != 2 || a.Usage.PromptTokens != 5 || a.Usage.TotalTokens != 5 || a.Usage.CompletionTokens != 0 {
		t.Fatalf("answer %s", body)
	}
	for i, d := range a.Data {
		norm := 0.0
		for _, v := range d.Embedding {
			norm += v * v
		}
		if d.Object != "embedding" || d.Index != i || len(d.Embedding) != 4 || math.Abs(norm-1) > 1e-9 {
			t.Errorf("data[%d] = %+v (norm² %v)", i, d, norm)
		}
	}
	if took < 20*time.Millisecond || took > 60*time.Millisecond {
		t.Errorf("answered after %v, want --ttft (20ms)", took)
	}
	// The same text embeds the same, alone or in a batch, in another request.
	_, again := post(t, ts.URL+"/v1/embeddings", `{"input":"three four five"}`)
	var b embeddingsAnswer
	if err := json.Unmarshal(again, &b); err != nil || len(b.Data) != 1 {
		t.Fatalf("%v: %s", err, again)
	}
	for j := range b.Data[0].Embedding {
		if b.Data[0].Embedding[j] != a.Data[1].Embedding[j] {
			t.Fatalf("the same text embedded differently: %v and %v", b.Data[0].Embedding, a.Data[1].Embedding)
		}
	}
}

func TestEmbeddingsBadInput(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxModelLen: 3})
	for _, tc := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"input":[]}`, 400, "empty list"},
		{`{}`, 400, "Field required: input"},
		{`{"input":["ok", "  "]}`, 400, "input[1] is empty"},
		{`{"input":[1,2,3]}`, 400, "list of strings"},
		{`{"input":"a b c d"}`, 400, "maximum context length is 3"},
		{`{"input":"a","encoding_format":"base64"}`, 400, "encoding_format"},
		{`{"input":"a","model":"nope"}`, 404, "does not exist"},
		{`{"input":`, 400, "invalid JSON"},
	} {
		resp, body := post(t, ts.URL+"/v1/embeddings", tc.body)
		if resp.StatusCode != tc.code || errorType(t, body) == "" || !strings.Contains(string(body), tc.msg) {
			t.Errorf("%s: %d %s, want %d with %q", tc.body, resp.StatusCode, body, tc.code, tc.msg)
		}
	}
}
