// Package openaitest is a small vLLM-shaped server for tests, written
// independently of llmsim so that the tools are also tested against code
// that does not share llmsim's assumptions. It can misbehave on request.
package openaitest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Faults the server can act out on every completion request.
const (
	FaultNone       = ""
	FaultHTTP500    = "http500"    // 500 with vLLM's error body
	FaultErrorEvent = "errorevent" // an {"error":...} event after the first token of a 200 stream
	FaultNoDone     = "nodone"     // the stream ends without [DONE]
	FaultReset      = "reset"      // the connection is reset after the first token
	FaultStall      = "stall"      // the stream stalls after the first token until the client leaves
	FaultNoContent  = "nocontent"  // chunks carry empty text
	FaultJSON200    = "json200"    // a plain JSON body although a stream was asked for (embeddings: a completion; responses: chat chunks or a chat body)
)

// Server streams Tokens chunks, the first TTFT after the request and then
// one every ITL, each scheduled from the request's arrival. Chat streams
// open with a role chunk sent at once (as several servers do), which a
// client must not take as the first token.
type Server struct {
	Model     string
	TTFT, ITL time.Duration
	Tokens    int
	Fault     string
	// ZeroUsage sends an all-zero usage object on every chunk, as Ollama does.
	ZeroUsage bool

	// Reasoning makes chat answers reason: the first Reasoning of the
	// Tokens chunks carry reasoning_content (and reasoning too, with the
	// same text, with BothReasoningKeys), and the usage reports them in
	// completion_tokens_details. A whole body has them in its message.
	Reasoning         int
	BothReasoningKeys bool
	// ReasoningSummary streams /v1/responses reasoning as
	// reasoning_summary_text deltas (OpenAI's reasoning models) rather
	// than reasoning_text ones (vLLM's).
	ReasoningSummary bool
	// ToolCalls makes chat answers, after any reasoning, that many calls
	// of a "lookup" tool instead of text, OpenAI's way: each call's first
	// delta has its index, id, type, name and empty arguments, and a second
	// its arguments; finish_reason "tool_calls", no content. Each delta is
	// one chunk (and one token of the usage).
	ToolCalls int
	// CachedTokens, when set, is reported as usage's
	// prompt_tokens_details.cached_tokens.
	CachedTokens int
	// UsageJSON, when set, replaces the final usage object as it is: a
	// server whose counts are unusable.
	UsageJSON string

	// EmbeddingDim is the length of /v1/embeddings vectors (0: 3).
	EmbeddingDim int

	Completions atomic.Int64 // completion (and responses) requests seen
	Embeds      atomic.Int64 // embeddings requests seen
	lastAuth    atomic.Value
}

// LastAuth is the Authorization header of the last completion request.
func (s *Server) LastAuth() string {
	v, _ := s.lastAuth.Load().(string)
	return v
}

func (s *Server) model() string {
	if s.Model == "" {
		return "fake-model"
	}
	return s.Model
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/health":
		return
	case "/v1/models":
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%q,"object":"model","owned_by":"test","max_model_len":2048}]}`, s.model())
		return
	case "/v1/embeddings":
		s.embeddings(w, r)
		return
	case "/v1/responses":
		s.responses(w, r)
		return
	case "/v1/completions", "/v1/chat/completions":
	default:
		http.NotFound(w, r)
		return
	}
	s.Completions.Add(1)
	s.lastAuth.Store(r.Header.Get("Authorization"))
	chat := r.URL.Path == "/v1/chat/completions"
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"BadRequestError","param":null,"code":400}}`, err.Error())
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
	case s.Fault == FaultJSON200:
		fmt.Fprint(w, `{"choices":[{"text":"hi","finish_reason":"stop"}]}`)
		return
	}
	start := time.Now()
	if !req.Stream {
		if !sleepUntil(r, start.Add(s.TTFT+time.Duration(max(s.Tokens-1, 0))*s.ITL)) {
			return
		}
		text, finish := `"text":"a b c"`, "length"
		if chat {
			text, finish = s.message()
		}
		fmt.Fprintf(w, `{"choices":[{"index":0,%s,"finish_reason":%q}],"usage":%s}`, text, finish, s.usage(s.outputChunks()))
		return
	}
	s.stream(w, r, chat, start)
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, chat bool, start time.Time) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	usage := ""
	if s.ZeroUsage {
		usage = `,"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}`
	}
	if chat {
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]%s}\n\n", usage)
	}
	fl.Flush()
	n := s.outputChunks()
	for i := 0; i < n; i++ {
		if !sleepUntil(r, start.Add(s.TTFT+time.Duration(i)*s.ITL)) {
			return
		}
		if i == 1 && s.misbehave(w, r) {
			return
		}
		text := " tok"
		if s.Fault == FaultNoContent {
			text = ""
		}
		finish := "null"
		if i == n-1 {
			finish = `"length"`
			if chat && s.ToolCalls > 0 {
				finish = `"tool_calls"`
			}
		}
		if chat {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]%s}\n\n", s.delta(i, text), finish, usage)
		} else {
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":%q,\"finish_reason\":%s}]%s}\n\n", text, finish, usage)
		}
		fl.Flush()
	}
	if s.Fault == FaultNoDone {
		return
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":%s}\n\ndata: [DONE]\n\n", s.usage(n))
}

// outputChunks is how many chunks (tokens) an answer has: Tokens, or the
// reasoning and two deltas per tool call when the answer calls tools.
func (s *Server) outputChunks() int {
	if s.ToolCalls > 0 {
		return s.Reasoning + 2*s.ToolCalls
	}
	return s.Tokens
}

// delta is chat chunk i's delta: reasoning, a tool call's delta, or text.
func (s *Server) delta(i int, text string) string {
	switch {
	case i < s.Reasoning:
		if s.BothReasoningKeys {
			return fmt.Sprintf(`{"reasoning":%q,"reasoning_content":%q}`, text, text)
		}
		return fmt.Sprintf(`{"reasoning_content":%q}`, text)
	case s.ToolCalls > 0:
		call := (i - s.Reasoning) / 2
		if (i-s.Reasoning)%2 == 0 {
			return fmt.Sprintf(`{"content":null,"tool_calls":[{"index":%d,"id":"call_%d","type":"function","function":{"name":"lookup","arguments":""}}]}`, call, call)
		}
		return fmt.Sprintf(`{"tool_calls":[{"index":%d,"function":{"arguments":"{\"key\": %d}"}}]}`, call, call)
	}
	return fmt.Sprintf(`{"role":"assistant","content":%q}`, text)
}

// message is a whole chat answer's message and finish reason.
func (s *Server) message() (string, string) {
	reasoning := ""
	if s.Reasoning > 0 {
		text := strings.Repeat(" tok", s.Reasoning)
		reasoning = fmt.Sprintf(`,"reasoning_content":%q`, text)
		if s.BothReasoningKeys {
			reasoning += fmt.Sprintf(`,"reasoning":%q`, text)
		}
	}
	if s.ToolCalls == 0 {
		return `"message":{"role":"assistant","content":"a b c"` + reasoning + `}`, "length"
	}
	var calls []string
	for c := range s.ToolCalls {
		calls = append(calls, fmt.Sprintf(`{"id":"call_%d","type":"function","function":{"name":"lookup","arguments":"{\"key\": %d}"}}`, c, c))
	}
	return `"message":{"role":"assistant","content":null` + reasoning + `,"tool_calls":[` + strings.Join(calls, ",") + `]}`, "tool_calls"
}

// usage is the usage object of an answer of completion tokens.
func (s *Server) usage(completion int) string {
	if s.UsageJSON != "" {
		return s.UsageJSON
	}
	u := fmt.Sprintf(`{"prompt_tokens":4,"completion_tokens":%d,"total_tokens":%d`, completion, completion+4)
	if s.Reasoning > 0 {
		u += fmt.Sprintf(`,"completion_tokens_details":{"reasoning_tokens":%d}`, s.Reasoning)
	}
	if s.CachedTokens > 0 {
		u += fmt.Sprintf(`,"prompt_tokens_details":{"cached_tokens":%d}`, s.CachedTokens)
	}
	return u + "}"
}

// misbehave acts out a mid-stream fault; it reports whether the stream ends.
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request) bool {
	switch s.Fault {
	case FaultErrorEvent:
		fmt.Fprint(w, "data: {\"error\":{\"message\":\"engine failed\",\"type\":\"InternalServerError\",\"code\":500}}\n\n")
		return true
	case FaultReset:
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST, not FIN
			}
			conn.Close()
		}
		return true
	case FaultStall:
		<-r.Context().Done()
		return true
	}
	return false
}

// sleepUntil waits for t unless the client goes away first, so that a
// closing test server is not held up by a long simulated delay.
func sleepUntil(r *http.Request, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
