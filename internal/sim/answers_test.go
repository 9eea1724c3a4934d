package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// answerChunk is a chat chunk with the fields of reasoning and tool calls.
type answerChunk struct {
	Choices []struct {
		Delta struct {
			Content          *string `json:"content"`
			Reasoning        *string `json:"reasoning"`
			ReasoningContent *string `json:"reasoning_content"`
			ToolCalls        []struct {
				Index    *int    `json:"index"`
				ID       *string `json:"id"`
				Type     *string `json:"type"`
				Function struct {
					Name      *string `json:"name"`
					Arguments *string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
		Details          *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	} `json:"usage"`
}

func decodeAnswer(t *testing.T, data string) answerChunk {
	t.Helper()
	var c answerChunk
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("chunk %q: %v", data, err)
	}
	return c
}

const toolsBody = `{"messages":[{"role":"user","content":"hi"}],"max_tokens":8,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true},` +
	`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}]}`

// TestReasoningStream: N reasoning deltas (in the configured keys, both
// with the same text) before the content, counted in usage's details.
func TestReasoningStream(t *testing.T) {
	for _, field := range []string{ReasoningField, ReasoningContentField, ReasoningBoth} {
		_, ts := newTestServer(t, Config{ReasoningTokens: 3, ReasoningField: field})
		_, events := streamEvents(t, ts.Client(), ts.URL+"/v1/chat/completions", strings.Replace(toolsBody, `"tools"`, `"x"`, 1))
		var kinds []string
		for _, e := range events[1 : len(events)-2] { // after the role chunk, before usage and [DONE]
			d := decodeAnswer(t, e.data).Choices[0].Delta
			switch {
			case d.Content != nil:
				kinds = append(kinds, "c")
			case field == ReasoningBoth && d.Reasoning != nil && d.ReasoningContent != nil && *d.Reasoning == *d.ReasoningContent,
				field == ReasoningField && d.Reasoning != nil && d.ReasoningContent == nil,
				field == ReasoningContentField && d.ReasoningContent != nil && d.Reasoning == nil:
				kinds = append(kinds, "r")
			default:
				t.Errorf("%s: chunk %s", field, e.data)
			}
		}
		if got := strings.Join(kinds, ""); got != "rrrccccc" {
			t.Errorf("%s: chunks %s, want rrrccccc", field, got)
		}
		u := decodeAnswer(t, events[len(events)-2].data).Usage
		if u == nil || u.CompletionTokens != 8 || u.Details == nil || u.Details.ReasoningTokens != 3 {
			t.Errorf("%s: usage %s", field, events[len(events)-2].data)
		}
	}
}

// TestToolCallStream: a request with tools, picked by --tool-call-rate,
// gets vLLM's streamed call: id, type and name first, then argument
// fragments that join into JSON, finish_reason tool_calls, no content.
func TestToolCallStream(t *testing.T) {
	_, ts := newTestServer(t, Config{ToolCallRate: 1})
	_, events := streamEvents(t, ts.Client(), ts.URL+"/v1/chat/completions", toolsBody)
	var args strings.Builder
	for i, e := range events[1 : len(events)-2] {
		ch := decodeAnswer(t, e.data).Choices[0]
		d := ch.Delta
		if d.Content != nil || len(d.ToolCalls) != 1 || *d.ToolCalls[0].Index != 0 {
			t.Fatalf("chunk %d: %s", i, e.data)
		}
		tc := d.ToolCalls[0]
		if first := i == 0; first != (tc.ID != nil) || first != (tc.Function.Name != nil) || first && (*tc.Type != "function" || *tc.Function.Name != "get_weather") {
			t.Errorf("chunk %d: %s", i, e.data)
		}
		if tc.Function.Arguments != nil {
			args.WriteString(*tc.Function.Arguments)
		}
		if last := i == len(events)-4; last != (ch.FinishReason != nil) || last && *ch.FinishReason != "tool_calls" {
			t.Errorf("chunk %d finish: %s", i, e.data)
		}
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(args.String()), &v); err != nil || len(strings.Fields(v["q"])) != 7 {
		t.Errorf("arguments %q: %v", args.String(), err)
	}
	// Without tools, or at rate 0, the answer is text.
	_, ts0 := newTestServer(t, Config{})
	_, events = streamEvents(t, ts0.Client(), ts0.URL+"/v1/chat/completions", toolsBody)
	if d := decodeAnswer(t, events[1].data).Choices[0].Delta; d.Content == nil || d.ToolCalls != nil {
		t.Errorf("rate 0: %s", events[1].data)
	}
}

// TestToolCallBody: the whole answer's message carries the call, content
// null, and the reasoning with the same words a stream would have sent.
func TestToolCallBody(t *testing.T) {
	_, ts := newTestServer(t, Config{ToolCallRate: 1, ReasoningTokens: 2, ReasoningField: ReasoningBoth})
	body := strings.Replace(strings.Replace(toolsBody, `"stream":true,"stream_options":{"include_usage":true},`, "", 1), `"stream":true`, `"stream":false`, 1)
	_, b := post(t, ts.URL+"/v1/chat/completions", body)
	var r struct {
		Choices []struct {
			Message struct {
				Content          *string `json:"content"`
				Reasoning        string  `json:"reasoning"`
				ReasoningContent string  `json:"reasoning_content"`
				ToolCalls        []struct {
					ID       string `json:"id"`
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	m := r.Choices[0].Message
	if m.Content != nil || len(m.ToolCalls) != 1 || m.ToolCalls[0].Function.Name != "get_weather" || !json.Valid([]byte(m.ToolCalls[0].Function.Arguments)) ||
		r.Choices[0].FinishReason != "tool_calls" || len(strings.Fields(m.Reasoning)) != 2 || m.Reasoning != m.ReasoningContent {
		t.Errorf("body %s", b)
	}
}

// TestRequestLog: a line per request with its headers, the key redacted,
// and its body.
func TestRequestLog(t *testing.T) {
	var log syncBuffer
	_, ts := newTestServer(t, Config{RequestLog: &log})
	req, _ := http.NewRequest("POST", ts.URL+"/v1/completions", strings.NewReader(`{"prompt":"hi","max_tokens":2}`))
	req.Header.Set("Authorization", "Bearer sk-secret")
	req.Header.Set("X-Request-Id", "run-7")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var line requestLine
	if err := json.Unmarshal([]byte(log.String()), &line); err != nil {
		t.Fatalf("%s: %v", log.String(), err)
	}
	if line.Headers["x-request-id"][0] != "run-7" || line.Headers["authorization"][0] != "[redacted]" ||
		string(line.Body) != `{"prompt":"hi","max_tokens":2}` || strings.Contains(log.String(), "sk-secret") {
		t.Errorf("log %s", log.String())
	}
}

// TestReasoningRange: with a range, each request reasons for a seeded
// number of tokens within it, the same for the same seed and arrival.
func TestReasoningRange(t *testing.T) {
	cfg := Config{ReasoningTokens: 2, ReasoningTokensMax: 5, Seed: 3}
	s, again := New(cfg), New(cfg)
	seen := map[int]bool{}
	for seq := range uint64(200) {
		n := s.reasoningTokens(seq)
		if n < 2 || n > 5 || n != again.reasoningTokens(seq) {
			t.Fatalf("request %d: %d reasoning tokens", seq, n)
		}
		seen[n] = true
	}
	if len(seen) != 4 {
		t.Errorf("drawn %v, want each of 2..5", seen)
	}
}
