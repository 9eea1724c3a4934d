package sim

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// respEvent is one event of a /v1/responses stream, its data decoded.
type respEvent struct {
	at   time.Duration
	name string // the event: line
	data map[string]any
}

func (e respEvent) str(key string) string { s, _ := e.data[key].(string); return s }

// respEvents reads a Responses API stream: every event an event: line and
// a data: line whose type repeats it, sequence_number counting from 0.
func respEvents(t *testing.T, url, body string) []respEvent {
	t.Helper()
	sent := time.Now()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var events []respEvent
	var name string
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event: "))
		case strings.HasPrefix(line, "data: "):
			e := respEvent{at: time.Since(sent), name: name}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.data); err != nil {
				t.Fatalf("event %s: %v: %q", name, err, line)
			}
			if e.str("type") != name {
				t.Errorf("event %s has type %q", name, e.str("type"))
			}
			if n, _ := e.data["sequence_number"].(float64); int(n) != len(events) {
				t.Errorf("event %d (%s) has sequence_number %v", len(events), name, e.data["sequence_number"])
			}
			events = append(events, e)
			name = ""
		case line == "\n" || line == "":
		default:
			t.Errorf("unexpected SSE line %q", line)
		}
		if err == io.EOF {
			return events
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// respBody is a response object as the tests read it.
type respBody struct {
	ID                string `json:"id"`
	Object            string `json:"object"`
	Status            string `json:"status"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Output []struct {
		Type      string `json:"type"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
		Content   []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	} `json:"output"`
	Usage struct {
		InputTokens         int `json:"input_tokens"`
		OutputTokens        int `json:"output_tokens"`
		TotalTokens         int `json:"total_tokens"`
		OutputTokensDetails struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
	} `json:"usage"`
}

func completedResponse(t *testing.T, e respEvent) respBody {
	t.Helper()
	raw, _ := json.Marshal(e.data["response"])
	var b respBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResponsesStream: a reasoning model's stream in vLLM's order, the
// deltas on the timing model's schedule (TTFT, then ITL), the whole
// response in response.completed with the deltas' text, usage, and
// status incomplete (max_output_tokens) for a capped answer.
func TestResponsesStream(t *testing.T) {
	_, ts := newTestServer(t, Config{ReasoningTokens: 2, TTFT: 30 * time.Millisecond, ITL: 10 * time.Millisecond})
	events := respEvents(t, ts.URL+"/v1/responses", `{"input":"three little words","max_output_tokens":5,"stream":true}`)
	var types []string
	var reasoning, text strings.Builder
	var deltaAt []time.Duration
	for _, e := range events {
		types = append(types, e.name)
		switch e.name {
		case "response.reasoning_text.delta":
			reasoning.WriteString(e.str("delta"))
			deltaAt = append(deltaAt, e.at)
		case "response.output_text.delta":
			text.WriteString(e.str("delta"))
			deltaAt = append(deltaAt, e.at)
		}
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added " +
		"response.reasoning_text.delta response.reasoning_text.delta response.reasoning_text.done response.content_part.done response.output_item.done " +
		"response.output_item.added response.content_part.added response.output_text.delta response.output_text.delta response.output_text.delta " +
		"response.output_text.done response.content_part.done response.output_item.done response.completed"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("events\n%s\nwant\n%s", got, want)
	}
	// On schedule: the first delta at TTFT, the last 4 x ITL later. A busy
	// machine delays the reads, so a miss is tried again (twice at most):
	// a wrong schedule misses every time.
	for try := 1; ; try++ {
		first, span := deltaAt[0]-30*time.Millisecond, deltaAt[4]-deltaAt[0]-40*time.Millisecond
		if first >= -time.Millisecond && first <= 15*time.Millisecond && span >= -2*time.Millisecond && span <= 15*time.Millisecond {
			break
		}
		if try == 3 {
			t.Fatalf("first delta at %v (want 30ms), the last %v after it (want 40ms), three tries", deltaAt[0], deltaAt[4]-deltaAt[0])
		}
		deltaAt = deltaAt[:0]
		for _, e := range respEvents(t, ts.URL+"/v1/responses", `{"input":"three little words","max_output_tokens":5,"stream":true}`) {
			if strings.HasSuffix(e.name, "_text.delta") {
				deltaAt = append(deltaAt, e.at)
			}
		}
	}
	b := completedResponse(t, events[len(events)-1])
	if b.Status != "incomplete" || b.IncompleteDetails == nil || b.IncompleteDetails.Reason != "max_output_tokens" || len(b.Output) != 2 ||
		b.Output[0].Type != "reasoning" || b.Output[0].Content[0].Text != reasoning.String() ||
		b.Output[1].Type != "message" || b.Output[1].Content[0].Text != text.String() ||
		b.Usage.InputTokens != 3 || b.Usage.OutputTokens != 5 || b.Usage.TotalTokens != 8 || b.Usage.OutputTokensDetails.ReasoningTokens != 2 {
		t.Errorf("completed response %+v (reasoning %q, text %q)", b, reasoning.String(), text.String())
	}
}

// TestResponsesToolCall: with tools offered and --tool-call-rate 1, the
// answer is a function call: its item (with the tool's name) on the
// first token, then argument deltas that add up to JSON; status
// completed. The whole answer has the same call.
func TestResponsesToolCall(t *testing.T) {
	_, ts := newTestServer(t, Config{ToolCallRate: 1})
	req := `{"input":[{"role":"user","content":"weather?"}],"max_output_tokens":4,"tools":[{"type":"function","name":"get_weather","parameters":{}}],"stream":true}`
	events := respEvents(t, ts.URL+"/v1/responses", req)
	var args strings.Builder
	var name string
	for _, e := range events {
		switch e.name {
		case "response.output_item.added":
			item := e.data["item"].(map[string]any)
			name, _ = item["name"].(string)
		case "response.function_call_arguments.delta":
			args.WriteString(e.str("delta"))
		}
	}
	var parsed map[string]string
	if name != "get_weather" || json.Unmarshal([]byte(args.String()), &parsed) != nil || parsed["q"] == "" {
		t.Errorf("call %q, arguments %q", name, args.String())
	}
	b := completedResponse(t, events[len(events)-1])
	if b.Status != "completed" || b.IncompleteDetails != nil || len(b.Output) != 1 || b.Output[0].Type != "function_call" ||
		b.Output[0].Arguments != args.String() || b.Usage.OutputTokens != 4 {
		t.Errorf("completed response %+v", b)
	}
	resp, body := post(t, ts.URL+"/v1/responses", strings.Replace(req, `"stream":true`, `"stream":false`, 1))
	var whole respBody
	if err := json.Unmarshal(body, &whole); resp.StatusCode != 200 || err != nil || whole.Object != "response" || whole.Status != "completed" ||
		len(whole.Output) != 1 || whole.Output[0].Name != "get_weather" || json.Unmarshal([]byte(whole.Output[0].Arguments), &parsed) != nil {
		t.Errorf("whole: %d %s", resp.StatusCode, body)
	}
}

// TestResponsesBody: the whole answer after TTFT + (n-1) x ITL, its text
// and usage, the prompt counted from input items' parts.
func TestResponsesBody(t *testing.T) {
	_, ts := newTestServer(t, Config{TTFT: 20 * time.Millisecond, ITL: 5 * time.Millisecond, EOSProb: 0})
	start := time.Now()
	resp, body := post(t, ts.URL+"/v1/responses", `{"input":[{"role":"user","content":[{"type":"input_text","text":"one two"}]},{"type":"function_call_output","call_id":"c","output":"x"}],"max_output_tokens":3}`)
	took := time.Since(start)
	var b respBody
	if err := json.Unmarshal(body, &b); resp.StatusCode != 200 || err != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if b.Status != "incomplete" || len(b.Output) != 1 || len(strings.Fields(b.Output[0].Content[0].Text)) != 3 || b.Usage.InputTokens != 2 || b.Usage.OutputTokens != 3 {
		t.Errorf("body %s", body)
	}
	if took < 30*time.Millisecond {
		t.Errorf("answered after %v, want 30ms", took)
	}
}

func TestResponsesBadInput(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxModelLen: 10})
	for _, tc := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"max_output_tokens":3}`, 400, "Field required: input"},
		{`{"input":[]}`, 400, "cannot be empty"},
		{`{"input":7}`, 400, "input must be a string"},
		{`{"input":"a","max_output_tokens":0}`, 400, "at least 1"},
		{`{"input":"w w w w w w w w w w w"}`, 400, "exceeds the max_model_len 10"},
		{`{"model":"nope","input":"a"}`, 404, "does not exist"},
		{`{"input":`, 400, "invalid JSON"},
	} {
		resp, body := post(t, ts.URL+"/v1/responses", tc.body)
		if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.msg) {
			t.Errorf("%s: %d %s, want %d %q", tc.body, resp.StatusCode, body, tc.code, tc.msg)
		}
	}
	// a limit past the context is clipped to it, as vLLM does
	resp, body := post(t, ts.URL+"/v1/responses", `{"input":"a b","max_output_tokens":100}`)
	var b respBody
	if json.Unmarshal(body, &b) != nil || resp.StatusCode != 200 || b.Usage.OutputTokens != 8 {
		t.Errorf("clipped: %d %s", resp.StatusCode, body)
	}
}

// TestResponsesFaults: a stream's stream-error is an error event and no
// response.completed; no-done leaves response.completed out.
func TestResponsesFaults(t *testing.T) {
	_, ts := newTestServer(t, Config{FaultCycle: []Fault{FaultStreamError, FaultNoDone}, FaultAfter: 1})
	for i, last := range []string{"error", "response.output_text.delta"} {
		events := respEvents(t, ts.URL+"/v1/responses", `{"input":"a","max_output_tokens":4,"stream":true}`)
		e := events[len(events)-1]
		if e.name != last {
			t.Errorf("fault %d: last event %s, want %s", i, e.name, last)
		}
		if i == 0 && (!strings.Contains(e.str("message"), "llmsim fault stream-error") || e.str("code") != "InternalServerError") {
			t.Errorf("error event %v", e.data)
		}
	}
}

// FuzzInputTokens: any input is counted or refused, never panics, and an
// accepted one has a token at least.
func FuzzInputTokens(f *testing.F) {
	for _, s := range []string{`"a b"`, `[{"role":"user","content":"x y"}]`, `[{"content":[{"type":"input_text","text":"z"}]}]`, `[{"type":"function_call_output","output":"x"}]`, `[]`, `7`, `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := inputTokens(json.RawMessage(raw))
		if err == nil && n < 1 {
			t.Errorf("inputTokens(%q) accepted %d tokens", raw, n)
		}
	})
}
