package openai

import (
	"encoding/json"
	"fmt"

	"servebench/internal/jsonscan"
)

// The events of a /v1/responses stream that a benchmark reads: output
// deltas, the opening of a function call, and the events that end a
// stream (OpenAI's Responses API, as vLLM serves it). Each event's data
// repeats its name in "type".
const (
	RespTextDelta      = "response.output_text.delta"
	RespReasoningDelta = "response.reasoning_text.delta"
	// RespSummaryDelta is a reasoning summary's text: OpenAI streams it
	// for its reasoning models; it is reasoning all the same.
	RespSummaryDelta   = "response.reasoning_summary_text.delta"
	RespArgumentsDelta = "response.function_call_arguments.delta"
	// RespItemAdded opens an output item: a function call's carries its
	// name, the call's first token.
	RespItemAdded  = "response.output_item.added"
	RespCompleted  = "response.completed"
	RespFailed     = "response.failed"
	RespIncomplete = "response.incomplete"
	RespError      = "error"
)

// ResponsesEvent is what one event of a /v1/responses stream says.
type ResponsesEvent struct {
	// Type is the data's "type" (the event's name); "" when it has none,
	// RespError for vLLM's {"error":{...}} without one.
	Type string
	// DeltaBytes is the unescaped length of "delta" in a delta event: the
	// text, reasoning or tool-call arguments it adds, by Type.
	DeltaBytes int
	// Item is the added item's "type" in response.output_item.added
	// ("message", "reasoning", "function_call", ...).
	Item string
	// Status is response.status of a terminal event: vLLM ends every
	// stream with response.completed, whose status is "incomplete" (with
	// incomplete_details) when max_output_tokens cut the answer.
	Status string
	// Usage is response.usage of a terminal event, in the chat endpoints'
	// terms: input_tokens as PromptTokens, output_tokens as
	// CompletionTokens, output_tokens_details.reasoning_tokens and
	// input_tokens_details.cached_tokens; nil when absent. UsageBad marks
	// one whose counts are unusable.
	Usage    *Usage
	UsageBad bool
	// Reason is why a stream failed or stopped short: the error event's
	// message (or code), response.error.message (or code), else
	// response.incomplete_details.reason.
	Reason string
	// Choices is set when the data is a chat or completions chunk (it has
	// "choices"): a server answering /v1/responses in the wrong shape.
	Choices bool
}

// ParseResponsesEvent reads one event's data. The events of a stream
// that goes well (deltas, the item and part events, the terminal
// response) are read by a scanner that allocates nothing for a delta;
// anything it does not handle (errors, a chat chunk, escapes or capitals
// in keys, duplicate keys, deep nesting) goes to encoding/json, the
// reference both are fuzzed against.
func ParseResponsesEvent(data []byte) (ResponsesEvent, error) {
	var ev ResponsesEvent
	s := respScanner{Cursor: jsonscan.New(data)}
	if s.event(&ev) {
		return ev, nil
	}
	return parseResponsesEventJSON(data)
}

// respError is an error object: OpenAI's {code, message} of a failed
// response, or vLLM's ErrorResponse {message, type, param, code} whose
// code is a number. Code stays raw so that either reads.
type respError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// reason is the error's message, else its code, else its type.
func (e *respError) reason() string {
	switch {
	case e.Message != "":
		return e.Message
	case len(e.Code) > 0 && string(e.Code) != "null":
		var code string
		if json.Unmarshal(e.Code, &code) == nil {
			return code
		}
		return string(e.Code)
	}
	return e.Type
}

// responsesEventJSON is an event as encoding/json reads it.
type responsesEventJSON struct {
	Type    string          `json:"type"`
	Delta   *string         `json:"delta"`
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"`
	Choices json.RawMessage `json:"choices"`
	Error   *respError      `json:"error"`
	Item    *struct {
		Type string `json:"type"`
	} `json:"item"`
	Response *struct {
		Status            string          `json:"status"`
		Usage             json.RawMessage `json:"usage"`
		Error             *respError      `json:"error"`
		IncompleteDetails *struct {
			Reason string `json:"reason"`
		} `json:"incomplete_details"`
	} `json:"response"`
}

func parseResponsesEventJSON(data []byte) (ResponsesEvent, error) {
	var j responsesEventJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return ResponsesEvent{}, fmt.Errorf("%w responses event: %v: %s", ErrMalformed, err, Clip(string(data)))
	}
	ev := ResponsesEvent{Type: j.Type, Choices: len(j.Choices) > 0 && string(j.Choices) != "null"}
	if j.Delta != nil && isDelta(j.Type) {
		ev.DeltaBytes = len(*j.Delta)
	}
	if j.Item != nil && j.Type == RespItemAdded {
		ev.Item = j.Item.Type
	}
	switch {
	case j.Type == RespError:
		// OpenAI's error event: {"type":"error","code","message","param"}
		ev.Reason = (&respError{Message: j.Message, Code: j.Code}).reason()
		if ev.Reason == "" && j.Error != nil {
			ev.Reason = j.Error.reason()
		}
	case j.Type == "" && j.Error != nil:
		// vLLM's ErrorResponse, as its stream generators send one
		ev.Type, ev.Reason = RespError, j.Error.reason()
	}
	if r := j.Response; r != nil && isTerminal(j.Type) {
		ev.Status = r.Status
		if len(r.Usage) > 0 && string(r.Usage) != "null" {
			u, bad := responsesUsage(r.Usage)
			if bad {
				ev.UsageBad = true
			} else {
				ev.Usage = &u
			}
		}
		switch {
		case r.Error != nil && r.Error.reason() != "":
			ev.Reason = r.Error.reason()
		case r.IncompleteDetails != nil:
			ev.Reason = r.IncompleteDetails.Reason
		}
	}
	return ev, nil
}

func isDelta(typ string) bool {
	return typ == RespTextDelta || typ == RespReasoningDelta || typ == RespSummaryDelta || typ == RespArgumentsDelta
}

func isTerminal(typ string) bool {
	return typ == RespCompleted || typ == RespFailed || typ == RespIncomplete
}

// responsesUsage reads the Responses API's usage object.
func responsesUsage(raw json.RawMessage) (Usage, bool) {
	var uj struct {
		InputTokens   json.RawMessage `json:"input_tokens"`
		OutputTokens  json.RawMessage `json:"output_tokens"`
		TotalTokens   json.RawMessage `json:"total_tokens"`
		OutputDetails json.RawMessage `json:"output_tokens_details"`
		InputDetails  json.RawMessage `json:"input_tokens_details"`
	}
	if json.Unmarshal(raw, &uj) != nil {
		return Usage{}, true
	}
	return usageCounts(usageJSON{PromptTokens: uj.InputTokens, CompletionTokens: uj.OutputTokens, TotalTokens: uj.TotalTokens,
		CompletionDetail: uj.OutputDetails, PromptDetail: uj.InputDetails})
}

// respScanner reads events as parseResponsesEventJSON does.
type respScanner struct {
	jsonscan.Cursor
}

// eventNames are the event types a stream carries, so that a scanned
// event's Type is a constant rather than a new string.
var eventNames = [...]string{RespTextDelta, RespReasoningDelta, RespSummaryDelta, RespArgumentsDelta, RespItemAdded,
	RespCompleted, RespFailed, RespIncomplete, "response.created", "response.in_progress", "response.output_item.done",
	"response.content_part.added", "response.content_part.done", "response.output_text.done", "response.reasoning_text.done",
	"response.function_call_arguments.done", "response.reasoning_part.added", "response.reasoning_part.done"}

// intern is raw as one of names, or a new string.
func intern(raw []byte, names []string) string {
	for _, n := range names {
		if string(raw) == n {
			return n
		}
	}
	return string(raw)
}

var (
	itemTypes = []string{"message", "reasoning", "function_call"}
	statuses  = []string{"completed", "incomplete", "in_progress", "failed", "cancelled", "queued"}
	reasons   = []string{"max_output_tokens", "content_filter"}
)

// respFields is what the scanner takes from a "response" object.
type respFields struct {
	set           bool   // an object, not null
	status, usage []byte // status's text; usage's raw value
	incomplete    bool   // incomplete_details is an object
	incompleteWhy []byte // its reason
}

// event reads a whole event: one object whose keys are "type" (a plain
// string), "delta" (a string), "item" (null, or an object with a plain
// "type"), "response" (null, or an object with a plain "status", any
// "usage" and "incomplete_details" of a plain "reason") and keys it can
// skip (item_id, output_index, sequence_number, logprobs, part, text,
// ...). An error event, any "message", "code", "choices" or "error", or
// anything unusual, returns false.
func (s *respScanner) event(ev *ResponsesEvent) bool {
	var keys seen
	var typ, item []byte
	n := -1
	var r respFields
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "type":
			var utf8ok bool
			typ, utf8ok, ok = s.PlainString()
			ok = ok && utf8ok && keys.first(0)
		case "delta":
			ok = keys.first(1)
			if ok {
				n, ok = s.StringLen()
			}
		case "item":
			ok = keys.first(2) && s.item(&item)
		case "response":
			ok = keys.first(3) && s.response(&r)
		case "choices", "message", "error", "code":
			return false // what encoding/json must see
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	if !ok || !s.End() {
		return false
	}
	t := intern(typ, eventNames[:])
	if t == RespError {
		return false
	}
	ev.Type = t
	if n >= 0 && isDelta(t) {
		ev.DeltaBytes = n
	}
	if t == RespItemAdded {
		ev.Item = intern(item, itemTypes)
	}
	if r.set && isTerminal(t) {
		ev.Status = intern(r.status, statuses)
		if len(r.usage) > 0 && string(r.usage) != "null" {
			if u, bad := responsesUsage(r.usage); bad {
				ev.UsageBad = true
			} else {
				ev.Usage = &u
			}
		}
		if r.incomplete {
			ev.Reason = intern(r.incompleteWhy, reasons)
		}
	}
	return true
}

// plainOrNull reads a string field: null leaves it empty, as
// encoding/json does; a string with escapes or invalid UTF-8 is not read.
func (s *respScanner) plainOrNull(v *[]byte) bool {
	if s.Null() {
		return true
	}
	raw, utf8ok, ok := s.PlainString()
	*v = raw
	return ok && utf8ok
}

// item reads an output item (null or an object) for its type.
func (s *respScanner) item(typ *[]byte) bool {
	if s.Null() {
		return true
	}
	var keys seen
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		if string(k) == "type" {
			ok = keys.first(0) && s.plainOrNull(typ)
		} else {
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok
}

// response reads a response object (or null): its status, usage and
// incomplete_details; an error in it is left to encoding/json.
func (s *respScanner) response(r *respFields) bool {
	if s.Null() {
		return true
	}
	r.set = true
	var keys seen
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) {
		case "status":
			ok = keys.first(0) && s.plainOrNull(&r.status)
		case "usage":
			if ok = keys.first(1); ok {
				s.WS()
				pos := s.Pos()
				ok = s.Skip()
				r.usage = s.Since(pos)
			}
		case "incomplete_details":
			ok = keys.first(2) && s.details(r)
		case "error":
			return false
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok
}

// details reads incomplete_details (null or an object) for its reason.
func (s *respScanner) details(r *respFields) bool {
	if s.Null() {
		return true
	}
	r.incomplete = true
	var keys seen
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		if string(k) == "reason" {
			ok = keys.first(0) && s.plainOrNull(&r.incompleteWhy)
		} else {
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok
}

// ResponsesBody is what a whole (not streamed) /v1/responses answer says.
type ResponsesBody struct {
	Status         string // "completed", "incomplete", "failed", ...
	TextBytes      int    // output_text content of the message items
	ReasoningBytes int    // reasoning_text content (and summary_text) of the reasoning items
	FunctionCalls  int    // function_call items
	Usage          *Usage
	UsageBad       bool
	// Reason is error.message (or its code), else
	// incomplete_details.reason.
	Reason string
	// ErrorBody is set for an error answer ({"error":{...}} without a
	// status): vLLM's ErrorResponse.
	ErrorBody bool
	Choices   bool // a chat or completions body instead
}

// respContent is a content or summary part of an output item.
type respContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// ParseResponsesBody reads a whole /v1/responses body.
func ParseResponsesBody(data []byte) (ResponsesBody, error) {
	var j struct {
		Status  string          `json:"status"`
		Choices json.RawMessage `json:"choices"`
		Output  []struct {
			Type    string        `json:"type"`
			Content []respContent `json:"content"`
			Summary []respContent `json:"summary"`
		} `json:"output"`
		Usage             json.RawMessage `json:"usage"`
		Error             *respError      `json:"error"`
		IncompleteDetails *struct {
			Reason string `json:"reason"`
		} `json:"incomplete_details"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return ResponsesBody{}, fmt.Errorf("%w responses body: %v: %s", ErrMalformed, err, Clip(string(data)))
	}
	b := ResponsesBody{Status: j.Status, Choices: len(j.Choices) > 0 && string(j.Choices) != "null"}
	for _, item := range j.Output {
		switch item.Type {
		case "function_call":
			b.FunctionCalls++
		case "message", "reasoning":
			for _, c := range append(item.Content, item.Summary...) {
				switch c.Type {
				case "output_text":
					b.TextBytes += len(c.Text)
				case "reasoning_text", "summary_text":
					b.ReasoningBytes += len(c.Text)
				}
			}
		}
	}
	if len(j.Usage) > 0 && string(j.Usage) != "null" {
		if u, bad := responsesUsage(j.Usage); bad {
			b.UsageBad = true
		} else {
			b.Usage = &u
		}
	}
	switch {
	case j.Error != nil && j.Error.reason() != "":
		b.Reason = j.Error.reason()
		b.ErrorBody = j.Status == ""
	case j.IncompleteDetails != nil:
		b.Reason = j.IncompleteDetails.Reason
	}
	return b, nil
}

// Finish is how a Responses API answer ended, as a chat finish_reason:
// "stop" for a completed answer ("tool_calls" when it called a tool),
// "length" for one that max_output_tokens cut short (status incomplete,
// reason max_output_tokens: what vLLM sends when the limit was reached,
// the normal end of a benchmark's fixed-length answer). ok is false for
// any other status: failed, cancelled, or incomplete for another reason
// (content_filter); the reason then says why.
func Finish(status, reason string, toolCalls int) (finish string, ok bool) {
	switch {
	case status == "completed" || status == "":
		if toolCalls > 0 {
			return "tool_calls", true
		}
		return "stop", true
	case status == "incomplete" && (reason == "max_output_tokens" || reason == ""):
		return "length", true
	}
	return "", false
}
