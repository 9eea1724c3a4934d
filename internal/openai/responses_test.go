package openai

import (
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
		{"completed", respCompleted, ResponsesEvent{Type: RespCompleted, Usage: &Usage{PromptTokens: 12, CompletionTokens: 8, TotalTokens: 20, ReasoningTokens: 3, ReasoningSet: true, CachedTokens: 4}}},
		{"failed", respFailed, ResponsesEvent{Type: RespFailed, Reason: "engine died"}},
		{"incomplete", respIncomplete, ResponsesEvent{Type: RespIncomplete, Reason: "max_output_tokens"}},
		{"error event", respErrorEvent, ResponsesEvent{Type: RespError, Reason: "bad things"}},
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
	data := []byte(respTextDelta)
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseResponsesEvent(data) }); n != 0 {
		t.Errorf("%v allocations per delta event, want 0", n)
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
}

// FuzzParseResponsesEvent holds the delta scanner to encoding/json: the
// same event, read either way, says the same.
func FuzzParseResponsesEvent(f *testing.F) {
	for _, s := range []string{respTextDelta, respReasoningDelta, respArgsDelta, respCompleted, respFailed, respIncomplete, respErrorEvent,
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
