package openai

import (
	"encoding/json"
	"reflect"
	"testing"
)

// OpenAI's Responses API events, as vLLM streams them.
const (
	respTextDelta      = `{"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hello","logprobs":[]}`
	respReasoningDelta = `{"type":"response.reasoning_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"content_index":0,"delta":"hmm"}`
	respArgsDelta      = `{"type":"response.function_call_arguments.delta","sequence_number":7,"item_id":"fc_1","output_index":1,"delta":"{\"city\":"}`
	respCompleted      = `{"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","object":"response","status":"completed","output":[],"usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":4},"output_tokens":8,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":20}}}`
	respFailed         = `{"type":"response.failed","sequence_number":4,"response":{"status":"failed","error":{"code":"server_error","message":"engine died"},"usage":null}}`
	respIncomplete     = `{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}`
	respErrorEvent     = `{"type":"error","code":"invalid_request","message":"bad things","param":null,"sequence_number":2}`
	respCutShort       = `{"response":{"id":"resp_2","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens":4,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":7}},"sequence_number":12,"type":"response.completed"}`
	respVLLMError      = `{"error":{"message":"Internal server error","type":"InternalServerError","param":null,"code":500}}`
	respCreated        = `{"response":{"id":"resp_1","created_at":1,"incomplete_details":null,"model":"m","object":"response","output":[],"status":"in_progress","usage":null,"user":null},"sequence_number":0,"type":"response.created"}`
	respPartAdded      = `{"content_index":0,"item_id":"msg_1","output_index":1,"part":{"annotations":[],"text":"","type":"output_text","logprobs":[]},"sequence_number":10,"type":"response.content_part.added"}`
	respTextDone       = `{"content_index":0,"item_id":"msg_1","logprobs":[],"output_index":1,"text":" in would had","sequence_number":14,"type":"response.output_text.done"}`
	respCallAdded      = `{"item":{"arguments":"","call_id":"call_1","name":"get_weather","type":"function_call","id":"fc_1","status":"in_progress"},"output_index":0,"sequence_number":2,"type":"response.output_item.added"}`
)

func TestParseResponsesEvent(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       ResponsesEvent
	}{
		{"text delta", respTextDelta, ResponsesEvent{Type: RespTextDelta, DeltaBytes: 5}},
		{"reasoning delta", respReasoningDelta, ResponsesEvent{Type: RespReasoningDelta, DeltaBytes: 3}},
		// escaped quotes count once unescaped
		{"arguments delta", respArgsDelta, ResponsesEvent{Type: RespArgumentsDelta, DeltaBytes: 8}},
		{"completed", respCompleted, ResponsesEvent{Type: RespCompleted, Status: "completed", Usage: &Usage{PromptTokens: 12, CompletionTokens: 8, TotalTokens: 20, ReasoningTokens: 3, ReasoningSet: true, CachedTokens: 4}}},
		{"failed", respFailed, ResponsesEvent{Type: RespFailed, Status: "failed", Reason: "engine died"}},
		{"incomplete", respIncomplete, ResponsesEvent{Type: RespIncomplete, Status: "incomplete", Reason: "max_output_tokens"}},
		// vLLM ends a cut answer with response.completed, status incomplete
		{"completed but incomplete", respCutShort, ResponsesEvent{Type: RespCompleted, Status: "incomplete", Reason: "max_output_tokens", Usage: &Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, ReasoningSet: true}}},
		{"error event", respErrorEvent, ResponsesEvent{Type: RespError, Reason: "bad things"}},
		// an error event with only a code; a failed response with only a code
		{"error code", `{"type":"error","code":"rate_limit_exceeded","message":"","param":null}`, ResponsesEvent{Type: RespError, Reason: "rate_limit_exceeded"}},
		{"failed code", `{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":""}}}`, ResponsesEvent{Type: RespFailed, Status: "failed", Reason: "server_error"}},
		// vLLM's ErrorResponse in a stream, code a number
		{"vllm error", respVLLMError, ResponsesEvent{Type: RespError, Reason: "Internal server error"}},
		{"function call added", respCallAdded, ResponsesEvent{Type: RespItemAdded, Item: "function_call"}},
		{"created", respCreated, ResponsesEvent{Type: "response.created"}},
		{"part added", respPartAdded, ResponsesEvent{Type: "response.content_part.added"}},
		{"text done", respTextDone, ResponsesEvent{Type: "response.output_text.done"}},
		{"summary delta", `{"type":"response.reasoning_summary_text.delta","delta":"abc","item_id":"rs","output_index":0,"summary_index":0,"sequence_number":4}`, ResponsesEvent{Type: RespSummaryDelta, DeltaBytes: 3}},
		// a delta with an obfuscation field, as OpenAI's newer servers send
		{"obfuscation", `{"content_index":0,"delta":" w","item_id":"msg_1","logprobs":[],"obfuscation":"xyz","output_index":0,"sequence_number":3,"type":"response.output_text.delta"}`, ResponsesEvent{Type: RespTextDelta, DeltaBytes: 2}},
		// a chat chunk where a Responses event should be
		{"chat chunk", `{"object":"chat.completion.chunk","choices":[{"delta":{"content":"hi"}}]}`, ResponsesEvent{Choices: true}},
		{"bad usage", `{"type":"response.completed","response":{"usage":{"input_tokens":1.5}}}`, ResponsesEvent{Type: RespCompleted, UsageBad: true}},
		// other events (created, output_item.added, ...) carry nothing to count
		{"created", `{"type":"response.created","response":{"status":"in_progress"}}`, ResponsesEvent{Type: "response.created"}},
		// a key in capitals goes to encoding/json, which matches it
		{"capital key", `{"Type":"response.output_text.delta","delta":"ab"}`, ResponsesEvent{Type: RespTextDelta, DeltaBytes: 2}},
	} {
		got, err := ParseResponsesEvent([]byte(tc.data))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v (%v), want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := ParseResponsesEvent([]byte(`{"type":`)); err == nil {
		t.Error("malformed event accepted")
	}
}

func TestParseResponsesEventDoesNotAllocate(t *testing.T) {
	// the deltas, and the item and part events around them
	for _, ev := range []string{respTextDelta, respReasoningDelta, respArgsDelta, respCreated, respPartAdded, respTextDone, respCallAdded} {
		data := []byte(ev)
		if n := testing.AllocsPerRun(100, func() { _, _ = ParseResponsesEvent(data) }); n != 0 {
			t.Errorf("%v allocations for %s, want 0", n, ev)
		}
	}
}

func TestResponsesRequestBody(t *testing.T) {
	b, err := Request{Endpoint: EndpointResponses, Model: "m", Prompt: "hi", MaxTokens: 5, Stream: true}.Body()
	if want := `{"model":"m","input":"hi","max_output_tokens":5,"stream":true}`; err != nil || string(b) != want {
		t.Errorf("got  %s (%v)\nwant %s", b, err, want)
	}
	b, _ = Request{Endpoint: EndpointResponses, Model: "m", Messages: []Message{{Role: "user", Content: "hi"}}}.Body()
	if want := `{"model":"m","input":[{"role":"user","content":"hi"}],"stream":false}`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestParseResponsesBody(t *testing.T) {
	const whole = `{"id":"resp_1","object":"response","status":"completed","output":[` +
		`{"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"think"}]},` +
		`{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hello there","annotations":[]}]},` +
		`{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{}"}],` +
		`"usage":{"input_tokens":5,"output_tokens":7,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":12}}`
	got, err := ParseResponsesBody([]byte(whole))
	want := ResponsesBody{Status: "completed", TextBytes: 11, ReasoningBytes: 5, FunctionCalls: 1,
		Usage: &Usage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12, ReasoningTokens: 2, ReasoningSet: true}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v (%v), want %+v", got, err, want)
	}
	got, err = ParseResponsesBody([]byte(`{"choices":[{"message":{"content":"hi"}}]}`))
	if err != nil || !got.Choices {
		t.Errorf("chat body: %+v (%v)", got, err)
	}
	got, err = ParseResponsesBody([]byte(respVLLMError))
	if err != nil || !got.ErrorBody || got.Reason != "Internal server error" {
		t.Errorf("error body: %+v (%v)", got, err)
	}
	// a summary is reasoning; a failed response is not an error body
	got, err = ParseResponsesBody([]byte(`{"status":"failed","error":{"code":"server_error","message":"boom"},"output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"abcd"}]}]}`))
	if err != nil || got.ErrorBody || got.Reason != "boom" || got.ReasoningBytes != 4 || got.Status != "failed" {
		t.Errorf("failed body: %+v (%v)", got, err)
	}
}

func TestFinish(t *testing.T) {
	for _, tc := range []struct {
		status, reason string
		calls          int
		finish         string
		ok             bool
	}{
		{"completed", "", 0, "stop", true},
		{"completed", "", 2, "tool_calls", true},
		{"", "", 0, "stop", true}, // a server that leaves status out
		{"incomplete", "max_output_tokens", 0, "length", true},
		{"incomplete", "content_filter", 0, "", false},
		{"failed", "boom", 0, "", false},
		{"cancelled", "", 0, "", false},
	} {
		if finish, ok := Finish(tc.status, tc.reason, tc.calls); finish != tc.finish || ok != tc.ok {
			t.Errorf("Finish(%q, %q, %d) = %q, %v; want %q, %v", tc.status, tc.reason, tc.calls, finish, ok, tc.finish, tc.ok)
		}
	}
}

// FuzzParseResponsesEvent holds the delta scanner to encoding/json: the
// same event, read either way, says the same.
func FuzzParseResponsesEvent(f *testing.F) {
	for _, s := range []string{respTextDelta, respReasoningDelta, respArgsDelta, respCompleted, respFailed, respIncomplete, respErrorEvent,
		respCutShort, respVLLMError, respCallAdded, `{"type":"response.output_text.delta","delta":"a","Choices":[1],"Error":{}}`,
		respCreated, respPartAdded, respTextDone,
		`{"response":{"status":null,"usage":null,"incomplete_details":null},"type":"response.completed"}`,
		`{"response":{"status":"incomplete","incomplete_details":{"reason":"content_filter","x":[1]}},"type":"response.incomplete","response":{}}`,
		`{"item":null,"type":"response.output_item.added"}`, `{"item":{"type":"reasoning","type":"x"},"type":"response.output_item.added"}`,
		`{"type":"response.completed","response":{"usage":{"input_tokens":1e2},"error":null}}`,
		`{"type":"response.output_text.delta","delta":"\u00e9\ud800x","delta":"y"}`, `{"type":"response.output_text.delta","delta":"\xff"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseResponsesEvent(data)
		want, werr := parseResponsesEventJSON(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("errors differ: %v vs encoding/json's %v: %q", err, werr, data)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, encoding/json says %+v: %q", got, want, data)
		}
	})
}

// FuzzParseResponsesBody: any bytes are read without a panic, what is not
// JSON is refused, and the counts are never negative.
func FuzzParseResponsesBody(f *testing.F) {
	for _, s := range []string{respVLLMError, `{"choices":[]}`,
		`{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"hi"}]},{"type":"function_call"}],"usage":{"input_tokens":1,"output_tokens":2}}`,
		`{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"x"}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseResponsesBody(data)
		if err == nil && !json.Valid(data) {
			t.Fatalf("not JSON, yet read as %+v: %q", b, data)
		}
		if b.TextBytes < 0 || b.ReasoningBytes < 0 || b.FunctionCalls < 0 || b.Usage != nil && (b.Usage.PromptTokens < 0 || b.Usage.CompletionTokens < 0) {
			t.Fatalf("negative count %+v: %q", b, data)
		}
	})
}
