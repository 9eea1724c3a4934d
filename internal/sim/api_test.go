package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHealthDuringStartup(t *testing.T) {
	_, ts := newTestServer(t, Config{StartupDelay: 200 * time.Millisecond})
	for _, path := range []string{"/health", "/v1/models", "/version"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s while starting: status %d, want 503", path, resp.StatusCode)
		}
	}
	resp, body := post(t, ts.URL+"/v1/completions", `{"prompt":"hi"}`)
	if resp.StatusCode != 503 || errorType(t, body) != "ServiceUnavailableError" {
		t.Errorf("POST while starting: %d %s", resp.StatusCode, body)
	}
	time.Sleep(250 * time.Millisecond)
	resp, err := http.Get(ts.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != 0 {
		t.Errorf("GET /health when ready: status %d, length %d; want 200, empty", resp.StatusCode, resp.ContentLength)
	}
}

func TestModelsAndVersion(t *testing.T) {
	tests := []struct {
		name         string
		cfg          Config
		ids, roots   []string
		label        string
		requestModel string
	}{
		// The default model serves under its own name.
		{"default", Config{}, []string{DefaultModel}, []string{DefaultModel}, DefaultModel, DefaultModel},
		// Served names replace the path, which stays the root, as in vLLM.
		{"served names", Config{Models: []string{"/models/llama"}, ServedModelNames: []string{"llama", "l3"}},
			[]string{"llama", "l3"}, []string{"/models/llama", "/models/llama"}, "llama", "l3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.MaxModelLen = 2048
			_, ts := newTestServer(t, tt.cfg)
			resp, err := http.Get(ts.URL + "/v1/models")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var list struct {
				Object string
				Data   []map[string]any
			}
			if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
				t.Fatal(err)
			}
			if list.Object != "list" || len(list.Data) != len(tt.ids) {
				t.Fatalf("models: %+v", list)
			}
			for i, m := range list.Data {
				want := map[string]any{"id": tt.ids[i], "object": "model", "owned_by": "vllm",
					"root": tt.roots[i], "parent": nil, "max_model_len": 2048.0}
				for k, v := range want {
					if m[k] != v {
						t.Errorf("model %d: %s = %v, want %v", i, k, m[k], v)
					}
				}
				if p, ok := m["permission"].([]any); !ok || len(p) != 1 {
					t.Errorf("model %d: permission %v", i, m["permission"])
				}
				if _, ok := m["created"].(float64); !ok {
					t.Errorf("model %d: created %v", i, m["created"])
				}
			}
			_, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"model":%q,"prompt":"a"}`, tt.requestModel))
			if c := decodeChunk(t, string(body)); c.Model != tt.requestModel {
				t.Errorf("answer's model %q, want %q", c.Model, tt.requestModel)
			}
			resp, err = http.Get(ts.URL + "/version")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var v struct{ Version string }
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version != Version {
				t.Errorf("version %q, %v", v.Version, err)
			}
		})
	}
}

func TestNonStreaming(t *testing.T) {
	_, ts := newTestServer(t, Config{TTFT: 30 * time.Millisecond, ITL: 5 * time.Millisecond})
	tests := []struct {
		name, path, body string
		prompt, n        int
	}{
		// Completions count the prompt's words.
		{"completions", "/v1/completions", `{"prompt":"one two  three\nfour","max_tokens":7,"ignore_eos":true}`, 4, 7},
		// Chat counts the words of every message, string or parts.
		{"chat", "/v1/chat/completions", `{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"a b c"},{"type":"image_url","image_url":{"url":"x"}}]}],"max_tokens":3,"ignore_eos":true}`, 5, 3},
		// max_completion_tokens wins over max_tokens in chat.
		{"max_completion_tokens", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":9,"max_completion_tokens":2,"ignore_eos":true}`, 1, 2},
		// Token-id prompts count one token per id.
		{"token ids", "/v1/completions", `{"prompt":[1,2,3,4,5,6],"max_tokens":1}`, 6, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp, body := post(t, ts.URL+tt.path, tt.body)
			elapsed := time.Since(start)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			// Sent when the last token is due: ttft + (n-1)*itl.
			if want := 30*time.Millisecond + time.Duration(tt.n-1)*5*time.Millisecond; elapsed < want {
				t.Errorf("answered after %v, before the last token was due at %v", elapsed, want)
			}
			var r struct {
				ID, Object string
				Choices    []struct {
					Index        int
					Text         *string
					Message      *struct{ Role, Content string }
					FinishReason string `json:"finish_reason"`
				}
				Usage usage
			}
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Choices) != 1 {
				t.Fatalf("choices: %s", body)
			}
			c := r.Choices[0]
			text := ""
			if strings.Contains(tt.path, "chat") {
				if r.Object != "chat.completion" || !strings.HasPrefix(r.ID, "chatcmpl-") || c.Message == nil || c.Message.Role != "assistant" {
					t.Fatalf("chat body: %s", body)
				}
				text = c.Message.Content
			} else {
				if r.Object != "text_completion" || !strings.HasPrefix(r.ID, "cmpl-") || c.Text == nil {
					t.Fatalf("completion body: %s", body)
				}
				text = *c.Text
			}
			if got := len(strings.Fields(text)); got != tt.n || !strings.HasPrefix(text, " ") {
				t.Errorf("text %q: %d words, want %d, each with a leading space", text, got, tt.n)
			}
			want := usage{tt.prompt, tt.n, tt.prompt + tt.n}
			if r.Usage != want || c.FinishReason != "length" {
				t.Errorf("usage %+v finish %q, want %+v length", r.Usage, c.FinishReason, want)
			}
		})
	}
}

func TestStreamEvents(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	const n = 5
	tests := []struct {
		name        string
		path, extra string
		chat, usage bool
		continuous  bool
	}{
		// A completions stream: n chunks, then [DONE].
		{"completions", "/v1/completions", ``, false, false, false},
		// include_usage adds a chunk with empty choices before [DONE].
		{"completions usage", "/v1/completions", `,"stream_options":{"include_usage":true}`, false, true, false},
		// Chat first sends the assistant role with empty content.
		{"chat", "/v1/chat/completions", ``, true, false, false},
		{"chat usage", "/v1/chat/completions", `,"stream_options":{"include_usage":true}`, true, true, false},
		// continuous_usage_stats puts the running usage on every chunk.
		{"chat continuous", "/v1/chat/completions", `,"stream_options":{"include_usage":true,"continuous_usage_stats":true}`, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"prompt":"p q","messages":[{"role":"user","content":"p q"}],"max_tokens":%d,"ignore_eos":true,"stream":true%s}`, n, tt.extra)
			resp, events := streamEvents(t, http.DefaultClient, ts.URL+tt.path, body)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Errorf("Content-Type %q", ct)
			}
			want := n + 1 // tokens and [DONE]
			if tt.chat {
				want++
			}
			if tt.usage {
				want++
			}
			if len(events) != want {
				t.Fatalf("%d events, want %d: %v", len(events), want, events)
			}
			if events[len(events)-1].data != "[DONE]" {
				t.Errorf("last event %q, want [DONE]", events[len(events)-1].data)
			}
			events = events[:len(events)-1]
			if tt.chat {
				c := decodeChunk(t, events[0].data)
				d := c.Choices[0].Delta
				if c.Object != "chat.completion.chunk" || d == nil || d.Role == nil || *d.Role != "assistant" || d.Content == nil || *d.Content != "" || c.hasContent() {
					t.Errorf("first chat event %s, want the role chunk", events[0].data)
				}
				events = events[1:]
			}
			for i := range n {
				c := decodeChunk(t, events[i].data)
				if len(c.Choices) != 1 || !c.hasContent() {
					t.Fatalf("token %d: %s", i, events[i].data)
				}
				ch := c.Choices[0]
				text := ch.Text
				if tt.chat {
					text = *ch.Delta.Content
				}
				if len(strings.Fields(text)) != 1 || text[0] != ' ' {
					t.Errorf("token %d text %q, want one word with a leading space", i, text)
				}
				if last := i == n-1; last != (ch.FinishReason != nil) || last && *ch.FinishReason != "length" {
					t.Errorf("token %d finish_reason %v", i, ch.FinishReason)
				}
				if tt.continuous != (c.Usage != nil) || tt.continuous && c.Usage.CompletionTokens != i+1 {
					t.Errorf("token %d usage %+v", i, c.Usage)
				}
			}
			if tt.usage {
				c := decodeChunk(t, events[n].data)
				if c.Choices == nil || len(c.Choices) != 0 || c.Usage == nil || *c.Usage != (usage{2, n, 2 + n}) {
					t.Errorf("usage event %s", events[n].data)
				}
			}
		})
	}
}

func TestMaxTokensDefault(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for _, path := range []string{"/v1/completions", "/v1/chat/completions"} {
		_, events := streamEvents(t, http.DefaultClient, ts.URL+path,
			`{"prompt":"x","messages":[{"role":"user","content":"x"}],"stream":true,"ignore_eos":true}`)
		if got := len(contentTimes(t, events)); got != DefaultMaxTokens {
			t.Errorf("%s: %d tokens without max_tokens, want %d", path, got, DefaultMaxTokens)
		}
	}
}

func TestSeededEOS(t *testing.T) {
	const maxTokens = 40
	run := func(seed int64, ignoreEOS bool) (lengths []int, texts []string, stops int) {
		_, ts := newTestServer(t, Config{Seed: seed, EOSProb: 0.2})
		for range 10 {
			_, body := post(t, ts.URL+"/v1/completions",
				fmt.Sprintf(`{"prompt":"x","max_tokens":%d,"ignore_eos":%v}`, maxTokens, ignoreEOS))
			var r struct {
				Choices []struct {
					Text         string
					FinishReason string `json:"finish_reason"`
				}
				Usage usage
			}
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			n := r.Usage.CompletionTokens
			if words := len(strings.Fields(r.Choices[0].Text)); words != n || n < 2 || n > maxTokens {
				t.Fatalf("%d words, usage %d: %s", words, n, body)
			}
			if want := map[bool]string{true: "stop", false: "length"}[n < maxTokens]; r.Choices[0].FinishReason != want && n < maxTokens {
				t.Errorf("%d tokens of %d, finish_reason %q", n, maxTokens, r.Choices[0].FinishReason)
			}
			if r.Choices[0].FinishReason == "stop" {
				stops++
			}
			lengths = append(lengths, n)
			texts = append(texts, r.Choices[0].Text)
		}
		return lengths, texts, stops
	}
	l1, t1, stops := run(42, false)
	l2, t2, _ := run(42, false)
	if fmt.Sprint(l1, t1) != fmt.Sprint(l2, t2) {
		t.Errorf("same seed, different outputs:\n%v\n%v", l1, l2)
	}
	if stops == 0 {
		t.Errorf("eos-prob 0.2 never stopped early in 10 requests of %d tokens: %v", maxTokens, l1)
	}
	if l3, _, _ := run(43, false); fmt.Sprint(l3) == fmt.Sprint(l1) {
		t.Errorf("seeds 42 and 43 drew the same lengths %v", l1)
	}
	if l4, _, stops := run(42, true); stops != 0 || strings.Count(fmt.Sprint(l4), "40") != 10 {
		t.Errorf("ignore_eos: lengths %v", l4)
	}
}

// errorType checks the vLLM error shape and returns its type.
func errorType(t *testing.T, body []byte) string {
	t.Helper()
	var e map[string]map[string]any
	if err := json.Unmarshal(body, &e); err != nil || len(e) != 1 || e["error"] == nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	info := e["error"]
	if _, ok := info["message"].(string); !ok || info["param"] != nil || len(info) != 4 {
		t.Errorf("error body %s", body)
	}
	if _, ok := info["param"]; !ok {
		t.Errorf("error body %s lacks param", body)
	}
	typ, _ := info["type"].(string)
	return typ
}

func TestErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxModelLen: 10})
	tests := []struct {
		name, path, body string
		code             int
		typ, message     string
	}{
		{"unknown model", "/v1/completions", `{"model":"gpt-9","prompt":"hi"}`, 404, "NotFoundError", "The model `gpt-9` does not exist."},
		{"malformed JSON", "/v1/completions", `{"prompt":`, 400, "BadRequestError", "invalid JSON"},
		{"wrong type", "/v1/completions", `{"prompt":"a","max_tokens":"many"}`, 400, "BadRequestError", "invalid JSON"},
		{"missing prompt", "/v1/completions", `{"max_tokens":3}`, 400, "BadRequestError", "prompt"},
		{"empty prompt", "/v1/completions", `{"prompt":"  "}`, 400, "BadRequestError", "empty"},
		{"several prompts", "/v1/completions", `{"prompt":["a","b"]}`, 400, "BadRequestError", "one prompt"},
		{"missing messages", "/v1/chat/completions", `{"max_tokens":3}`, 400, "BadRequestError", "messages"},
		{"zero max_tokens", "/v1/completions", `{"prompt":"a","max_tokens":0}`, 400, "BadRequestError", "max_tokens must be at least 1"},
		// prompt tokens + max_tokens must fit max_model_len (4 + 7 > 10).
		{"too long", "/v1/completions", `{"prompt":"a b c d","max_tokens":7}`, 400, "BadRequestError", "maximum context length is 10 tokens. However, you requested 11 tokens (4 in the messages, 7 in the completion)"},
		{"chat too long", "/v1/chat/completions", `{"messages":[{"role":"user","content":"a b c d e f g h i j k"}],"max_tokens":1}`, 400, "BadRequestError", "maximum context length"},
		{"n=2", "/v1/completions", `{"prompt":"a","n":2,"max_tokens":1}`, 400, "BadRequestError", "n=1"},
		{"stream_options without stream", "/v1/completions", `{"prompt":"a","max_tokens":1,"stream_options":{"include_usage":true}}`, 400, "BadRequestError", "stream=True"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, ts.URL+tt.path, tt.body)
			if resp.StatusCode != tt.code || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, resp.Header.Get("Content-Type"), tt.code)
			}
			if typ := errorType(t, body); typ != tt.typ {
				t.Errorf("type %q, want %q", typ, tt.typ)
			}
			var e struct {
				Error struct {
					Message string
					Code    int
				}
			}
			json.Unmarshal(body, &e)
			if !strings.Contains(e.Error.Message, tt.message) || e.Error.Code != tt.code {
				t.Errorf("error %+v, want code %d and message containing %q", e.Error, tt.code, tt.message)
			}
		})
	}
	resp, err := http.Get(ts.URL + "/v1/completions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/completions: %d, want 405", resp.StatusCode)
	}
}
