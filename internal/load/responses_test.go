package load

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

func responsesEndpoint(c *Config) { c.Endpoint = openai.EndpointResponses }

// TestResponses: /v1/responses streamed and whole over both HTTP clients:
// a reasoning answer's TTFT at the first reasoning delta, TTFO at the
// first text delta, an ITL gap per delta, tokens from usage, and
// response.incomplete for max_output_tokens as the length finish.
func TestResponses(t *testing.T) {
	for _, netHTTP := range []bool{false, true} {
		for _, stream := range []bool{true, false} {
			for _, summary := range []bool{false, true} {
				f := &openaitest.Server{TTFT: 20 * time.Millisecond, ITL: 10 * time.Millisecond, Tokens: 6, Reasoning: 3, ReasoningSummary: summary, CachedTokens: 2}
				recs, res, err := runFake(t, f, func(c *Config) { responsesEndpoint(c); c.Stream, c.NetHTTP = stream, netHTTP })
				name := fmt.Sprintf("net/http %v stream %v summary %v", netHTTP, stream, summary)
				if err != nil || res.Failed != 0 || len(recs) != 3 {
					t.Fatalf("%s: %v %+v", name, err, res)
				}
				for _, r := range recs {
					if !r.OK || r.Endpoint != openai.EndpointResponses || r.OutputTokens != 6 || r.PromptTokens != 4 || r.TokensFrom != record.TokensFromUsage ||
						r.ReasoningTokens != 3 || r.ReasoningFrom != record.TokensFromUsage || r.CachedTokens != 2 || r.FinishReason != "length" || r.ToolCalls != 0 {
						t.Fatalf("%s: record %+v", name, r)
					}
					if !stream {
						if r.TTFTMs != nil || r.ITLMs != nil || r.LatencyMs < 70 {
							t.Errorf("%s: record %+v", name, r)
						}
						continue
					}
					if r.TTFTMs == nil || r.TTFOMs == nil || len(r.ITLMs) != 5 || r.TPOTMs == nil {
						t.Fatalf("%s: record %+v", name, r)
					}
					// TTFO is the fourth output event, the first text delta after
					// three reasoning ones: TTFT and the first three gaps, read
					// on the same clock (the timing's truth is e2e's, against
					// llmsim)
					if d := *r.TTFOMs - *r.TTFTMs - (r.ITLMs[0] + r.ITLMs[1] + r.ITLMs[2]); math.Abs(d) > 0.01 {
						t.Errorf("%s: ttfo - ttft = %.3f ms, the first three gaps %v", name, *r.TTFOMs-*r.TTFTMs, r.ITLMs[:3])
					}
				}
			}
		}
	}
}

// TestResponsesToolCalls: an answer of function calls, each an
// output_item.added and an arguments delta: ok, the calls counted per
// item, TTFO at the first call, finish tool_calls.
func TestResponsesToolCalls(t *testing.T) {
	for _, stream := range []bool{true, false} {
		f := &openaitest.Server{TTFT: 10 * time.Millisecond, ITL: 5 * time.Millisecond, Tokens: 4, ToolCalls: 2}
		recs, _, err := runFake(t, f, func(c *Config) { responsesEndpoint(c); c.Stream = stream })
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.OK || r.ToolCalls != 2 || r.FinishReason != "tool_calls" || r.OutputTokens != 4 {
				t.Fatalf("stream %v: record %+v", stream, r)
			}
			if stream && (r.TTFOMs == nil || *r.TTFOMs != *r.TTFTMs || len(r.ITLMs) != 3) {
				t.Errorf("stream %v: record %+v", stream, r)
			}
		}
	}
}

// TestResponsesCountedChunks: without usage, the output deltas are the
// tokens, marked; with unusable usage, marked as such.
func TestResponsesCountedChunks(t *testing.T) {
	for usage, from := range map[string]string{"null": record.TokensFromChunks, `{"input_tokens":1.5}`: record.TokensFromBadUsage} {
		f := &openaitest.Server{Tokens: 5, Reasoning: 2, UsageJSON: usage}
		recs, _, err := runFake(t, f, responsesEndpoint)
		if err != nil {
			t.Fatal(err)
		}
		if r := recs[0]; !r.OK || r.OutputTokens != 5 || r.TokensFrom != from || r.ReasoningTokens != 2 || r.ReasoningFrom != record.TokensFromChunks {
			t.Errorf("usage %s: record %+v", usage, r)
		}
	}
}

// TestResponsesFailures: the server's faults, and the wrong shape, each
// the kind docs/record.md gives it.
func TestResponsesFailures(t *testing.T) {
	for _, tc := range []struct {
		fault  string
		stream bool
		kind   string
		msg    string
	}{
		{openaitest.FaultErrorEvent, true, record.ErrStream, "error event in stream: engine failed"},
		{openaitest.FaultNoDone, true, record.ErrStream, "stream ended before response.completed"},
		{openaitest.FaultHTTP500, true, record.ErrHTTP, "boom"},
		{openaitest.FaultReset, true, record.ErrStream, "reset"},
		{openaitest.FaultJSON200, true, record.ErrProtocol, "with chat or completions chunks"},
		{openaitest.FaultJSON200, false, record.ErrProtocol, "with a chat or completions body"},
	} {
		f := &openaitest.Server{Tokens: 4, Fault: tc.fault}
		recs, _, err := runFake(t, f, func(c *Config) { responsesEndpoint(c); c.Stream = tc.stream })
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.OK || r.ErrorKind != tc.kind || !strings.Contains(r.Error, tc.msg) {
				t.Errorf("%s stream %v: record %+v", tc.fault, tc.stream, r)
			}
		}
	}
}

// TestResponsesStatuses: how a terminal event's status and reason decide
// the record, streamed and whole, and a chat request answered with
// Responses API events or body.
func TestResponsesStatuses(t *testing.T) {
	delta := "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n"
	end := func(typ, response string) string {
		return fmt.Sprintf("event: %s\ndata: {\"type\":%q,\"response\":%s}\n\n", typ, typ, response)
	}
	for _, tc := range []struct {
		name, endpoint, body string
		stream               bool
		ok                   bool
		kind, finish, msg    string
	}{
		{"completed", openai.EndpointResponses, delta + end("response.completed", `{"status":"completed"}`), true, true, "", "stop", ""},
		{"vLLM's cut answer", openai.EndpointResponses, delta + end("response.completed", `{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}`), true, true, "", "length", ""},
		{"content filter", openai.EndpointResponses, delta + end("response.incomplete", `{"status":"incomplete","incomplete_details":{"reason":"content_filter"}}`), true, false, record.ErrStream, "", "response incomplete: content_filter"},
		{"failed", openai.EndpointResponses, delta + end("response.failed", `{"status":"failed","error":{"code":"server_error","message":"engine died"}}`), true, false, record.ErrStream, "", "response failed: engine died"},
		{"vLLM error in stream", openai.EndpointResponses, delta + "data: {\"error\":{\"message\":\"Internal server error\",\"type\":\"InternalServerError\",\"code\":500}}\n\n", true, false, record.ErrStream, "", "error event in stream: Internal server error"},
		{"no output", openai.EndpointResponses, end("response.completed", `{"status":"completed"}`), true, false, record.ErrProtocol, "stop", "carried no content"},
		{"[DONE]", openai.EndpointResponses, delta + "data: [DONE]\n\n", true, false, record.ErrStream, "", "[DONE] before response.completed"},
		{"malformed", openai.EndpointResponses, "data: {\"type\":\n\n", true, false, record.ErrProtocol, "", "malformed responses event"},
		{"whole failed", openai.EndpointResponses, `{"object":"response","status":"failed","error":{"code":"server_error","message":"engine died"},"output":[]}`, false, false, record.ErrStream, "", "response failed: engine died"},
		{"whole error body", openai.EndpointResponses, `{"error":{"message":"nope","type":"BadRequestError","code":400}}`, false, false, record.ErrProtocol, "", "error body with a 2xx status: nope"},
		{"chat got events", openai.EndpointChat, "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{}}\n\n" + delta, true, false, record.ErrProtocol, "", "Responses API events, not chat chunks"},
		{"chat got a response", openai.EndpointChat, `{"id":"resp_1","object":"response","status":"completed","output":[]}`, false, false, record.ErrProtocol, "", "Responses API body, not a chat completion"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/models" {
				fmt.Fprint(w, `{"object":"list","data":[{"id":"m","object":"model"}]}`)
				return
			}
			fmt.Fprint(w, tc.body)
		}))
		cfg := &Config{URL: srv.URL, Endpoint: tc.endpoint, Model: "m", Requests: 1, Concurrencies: []int{1}, Stream: tc.stream, MaxTokens: 4,
			Timeout: 5 * time.Second, Grace: time.Second, RunID: "test"}
		recs := runCounted(t, cfg)
		srv.Close()
		r := recs[0]
		if r.OK != tc.ok || r.ErrorKind != tc.kind || r.FinishReason != tc.finish || !strings.Contains(r.Error, tc.msg) {
			t.Errorf("%s: record %+v", tc.name, r)
		}
	}
}
