package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// responses answers POST /v1/responses in the Responses API's shapes,
// OpenAI's where OpenAI and vLLM differ: a text answer (always cut by the
// limit here, as this server's chat answers are) ends with a
// response.incomplete event (reason max_output_tokens) where vLLM sends
// response.completed with status incomplete; a tool-call answer ends with
// response.completed. Chunks are scheduled as for chat: reasoning first
// (reasoning_text deltas, or reasoning_summary_text deltas with
// ReasoningSummary), then text deltas, or per tool call an
// output_item.added of a function_call and one arguments delta. usage has
// input_tokens 4. The faults act as for chat: FaultErrorEvent sends an
// "error" event, FaultNoDone leaves the terminal event out, FaultJSON200
// answers with chat chunks (or a chat body), as a server without the
// Responses API behind a lenient router might.
func (s *Server) responses(w http.ResponseWriter, r *http.Request) {
	s.Completions.Add(1)
	s.lastAuth.Store(r.Header.Get("Authorization"))
	start := time.Now()
	var req struct {
		Model  string          `json:"model"`
		Stream bool            `json:"stream"`
		Input  json.RawMessage `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Input) == 0 {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"message":"want a JSON body with input","type":"BadRequestError","param":"input","code":400}}`)
		return
	}
	switch {
	case req.Model != s.model():
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error":{"message":"The model %s does not exist.","type":"NotFoundError","param":null,"code":404}}`, req.Model)
		return
	case s.Fault == FaultHTTP500:
		w.WriteHeader(500)
		fmt.Fprint(w, `{"error":{"message":"boom","type":"InternalServerError","param":null,"code":500}}`)
		return
	case s.Fault == FaultJSON200 && req.Stream:
		s.stream(w, r, true, start) // chat chunks where events belong
		return
	case s.Fault == FaultJSON200:
		fmt.Fprint(w, `{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
		return
	}
	if !req.Stream {
		if !sleepUntil(r, start.Add(s.TTFT+time.Duration(max(s.outputChunks()-1, 0))*s.ITL)) {
			return
		}
		fmt.Fprint(w, s.responseObject(true))
		return
	}
	s.responsesStream(w, r, start)
}

// responsesStream writes the events, each data's type repeated in an
// event: line.
func (s *Server) responsesStream(w http.ResponseWriter, r *http.Request, start time.Time) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	seq := 0
	event := func(typ, fields string) {
		fmt.Fprintf(w, "event: %s\ndata: {\"type\":%q,\"sequence_number\":%d,%s}\n\n", typ, typ, seq, fields)
		seq++
	}
	event("response.created", `"response":`+s.responseObject(false))
	fl.Flush()
	n := s.outputChunks()
	for i := 0; i < n; i++ {
		if !sleepUntil(r, start.Add(s.TTFT+time.Duration(i)*s.ITL)) {
			return
		}
		if i == 1 && s.Fault == FaultErrorEvent {
			event("error", `"code":"server_error","message":"engine failed","param":null`)
			fl.Flush()
			return
		}
		if i == 1 && s.misbehave(w, r) {
			return
		}
		switch {
		case i < s.Reasoning && s.ReasoningSummary:
			event("response.reasoning_summary_text.delta", `"item_id":"rs_1","output_index":0,"summary_index":0,"delta":" tok"`)
		case i < s.Reasoning:
			event("response.reasoning_text.delta", `"item_id":"rs_1","output_index":0,"content_index":0,"delta":" tok"`)
		case s.ToolCalls > 0 && (i-s.Reasoning)%2 == 0:
			call := (i - s.Reasoning) / 2
			event("response.output_item.added", fmt.Sprintf(`"output_index":%d,"item":{"type":"function_call","id":"fc_%d","call_id":"call_%d","name":"lookup","arguments":"","status":"in_progress"}`, call+1, call, call))
		case s.ToolCalls > 0:
			call := (i - s.Reasoning) / 2
			event("response.function_call_arguments.delta", fmt.Sprintf(`"item_id":"fc_%d","output_index":%d,"delta":"{\"key\": %d}"`, call, call+1, call))
		default:
			if i == s.Reasoning {
				event("response.output_item.added", `"output_index":1,"item":{"type":"message","id":"msg_1","role":"assistant","status":"in_progress","content":[]}`)
			}
			event("response.output_text.delta", `"item_id":"msg_1","output_index":1,"content_index":0,"delta":" tok","logprobs":[]`)
		}
		fl.Flush()
	}
	if s.Fault == FaultNoDone {
		return
	}
	end := "response.incomplete"
	if s.ToolCalls > 0 {
		end = "response.completed"
	}
	event(end, `"response":`+s.responseObject(true))
	fl.Flush()
}

// responseObject is the response: in progress and empty, or final with
// its output items and usage.
func (s *Server) responseObject(final bool) string {
	if !final {
		return fmt.Sprintf(`{"id":"resp_1","object":"response","model":%q,"status":"in_progress","output":[],"usage":null}`, s.model())
	}
	var items []string
	if s.Reasoning > 0 {
		text := strings.Repeat(" tok", s.Reasoning)
		if s.ReasoningSummary {
			items = append(items, fmt.Sprintf(`{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":%q}]}`, text))
		} else {
			items = append(items, fmt.Sprintf(`{"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":%q}]}`, text))
		}
	}
	status, incomplete := "incomplete", `{"reason":"max_output_tokens"}`
	if s.ToolCalls > 0 {
		status, incomplete = "completed", "null"
		for c := range s.ToolCalls {
			items = append(items, fmt.Sprintf(`{"type":"function_call","id":"fc_%d","call_id":"call_%d","name":"lookup","arguments":"{\"key\": %d}","status":"completed"}`, c, c, c))
		}
	} else {
		text := strings.Repeat(" tok", s.outputChunks()-s.Reasoning)
		items = append(items, fmt.Sprintf(`{"type":"message","id":"msg_1","role":"assistant","status":"incomplete","content":[{"type":"output_text","text":%q,"annotations":[]}]}`, text))
	}
	n := s.outputChunks()
	usage := fmt.Sprintf(`{"input_tokens":4,"input_tokens_details":{"cached_tokens":%d},"output_tokens":%d,"output_tokens_details":{"reasoning_tokens":%d},"total_tokens":%d}`,
		s.CachedTokens, n, s.Reasoning, n+4)
	if s.UsageJSON != "" {
		usage = s.UsageJSON
	}
	return fmt.Sprintf(`{"id":"resp_1","object":"response","model":%q,"status":%q,"incomplete_details":%s,"output":[%s],"usage":%s}`,
		s.model(), status, incomplete, strings.Join(items, ","), usage)
}
