package openai

import (
	"encoding/json"
	"fmt"

	"servebench/internal/jsonscan"
)

// The events of a /v1/responses stream that a benchmark reads: output
// deltas, and the three that end a stream (OpenAI's Responses API, as
// vLLM serves it). Each event's data repeats its name in "type".
const (
	RespTextDelta      = "response.output_text.delta"
	RespReasoningDelta = "response.reasoning_text.delta"
	RespArgumentsDelta = "response.function_call_arguments.delta"
	RespCompleted      = "response.completed"
	RespFailed         = "response.failed"
	RespIncomplete     = "response.incomplete"
	RespError          = "error"
)

// ResponsesEvent is what one event of a /v1/responses stream says. It is
// not wired into genload yet: the building block of --endpoint responses.
type ResponsesEvent struct {
	// Type is the data's "type" (the event's name); "" when it has none.
	Type string
	// DeltaBytes is the unescaped length of "delta" in a delta event: the
	// text, reasoning or tool-call arguments it adds, by Type.
	DeltaBytes int
	// Usage is response.usage of a terminal event, in the chat endpoints'
	// terms: input_tokens as PromptTokens, output_tokens as
	// CompletionTokens, output_tokens_details.reasoning_tokens and
	// input_tokens_details.cached_tokens; nil when absent. UsageBad marks
	// one whose counts are unusable.
	Usage    *Usage
	UsageBad bool
	// Reason is why a stream failed: the error event's message,
	// response.error.message of response.failed, or
	// response.incomplete_details.reason of response.incomplete.
	Reason string
	// Choices is set when the data is a chat or completions chunk (it has
	// "choices"): a server answering /v1/responses in the wrong shape.
	Choices bool
}

// ParseResponsesEvent reads one event's data. Delta events, nearly all
// of a stream, are read by a scanner that does not allocate; anything it
// does not handle (a terminal event, escapes in keys, duplicate keys)
// goes to encoding/json, the reference both are fuzzed against.
func ParseResponsesEvent(data []byte) (ResponsesEvent, error) {
	var ev ResponsesEvent
	s := respScanner{Cursor: jsonscan.New(data)}
	if s.delta(&ev) {
		return ev, nil
	}
	return parseResponsesEventJSON(data)
}

// responsesEventJSON is an event as encoding/json reads it.
type responsesEventJSON struct {
	Type     string          `json:"type"`
	Delta    *string         `json:"delta"`
	Message  string          `json:"message"`
	Choices  json.RawMessage `json:"choices"`
	Response *struct {
		Usage json.RawMessage `json:"usage"`
		Error *struct {
			Message string `json:"message"`
			Code    string `json:"code"`
		} `json:"error"`
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
	if j.Type == RespError {
		ev.Reason = j.Message
	}
	if r := j.Response; r != nil {
		if len(r.Usage) > 0 && string(r.Usage) != "null" {
			u, bad := responsesUsage(r.Usage)
			if bad {
				ev.UsageBad = true
			} else {
				ev.Usage = &u
			}
		}
		switch {
		case j.Type == RespFailed && r.Error != nil && r.Error.Message != "":
			ev.Reason = r.Error.Message
		case j.Type == RespFailed && r.Error != nil:
			ev.Reason = r.Error.Code
		case j.Type == RespIncomplete && r.IncompleteDetails != nil:
			ev.Reason = r.IncompleteDetails.Reason
		}
	}
	return ev, nil
}

func isDelta(typ string) bool {
	return typ == RespTextDelta || typ == RespReasoningDelta || typ == RespArgumentsDelta
}

// responsesUsage reads the Responses API's usage object.
func responsesUsage(raw json.RawMessage) (u Usage, bad bool) {
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
	ok := rawCount(uj.InputTokens, &u.PromptTokens, nil) &&
		rawCount(uj.OutputTokens, &u.CompletionTokens, nil) &&
		rawCount(uj.TotalTokens, &u.TotalTokens, nil) &&
		rawDetail(uj.OutputDetails, "reasoning_tokens", &u.ReasoningTokens, &u.ReasoningSet) &&
		rawDetail(uj.InputDetails, "cached_tokens", &u.CachedTokens, nil)
	if !ok {
		return Usage{}, true
	}
	return u, false
}

// respScanner reads delta events without allocating.
type respScanner struct {
	jsonscan.Cursor
}

// delta reads a whole delta event: one object with a plain "type" naming
// a delta, its "delta" string, and only keys it can skip (item_id,
// output_index, content_index, sequence_number, logprobs, ...). Any other
// event, or anything unusual, returns false.
func (s *respScanner) delta(ev *ResponsesEvent) bool {
	var keys seen
	typ, n := "", -1
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "type":
			var raw []byte
			var utf8ok bool
			raw, utf8ok, ok = s.PlainString()
			ok = ok && utf8ok && keys.first(0)
			switch string(raw) {
			case RespTextDelta:
				typ = RespTextDelta
			case RespReasoningDelta:
				typ = RespReasoningDelta
			case RespArgumentsDelta:
				typ = RespArgumentsDelta
			default:
				return false
			}
		case "delta":
			ok = keys.first(1)
			if ok {
				n, ok = s.StringLen()
			}
		case "choices", "response", "message":
			return false // what encoding/json must see
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	if !ok || !s.End() || typ == "" || n < 0 {
		return false
	}
	ev.Type, ev.DeltaBytes = typ, n
	return true
}

// ResponsesBody is what a whole (not streamed) /v1/responses answer says.
type ResponsesBody struct {
	Status         string // "completed", "incomplete", "failed", ...
	TextBytes      int    // output_text content of the message items
	ReasoningBytes int    // reasoning_text content of the reasoning items
	FunctionCalls  int    // function_call items
	Usage          *Usage
	UsageBad       bool
	Reason         string // error.message, or incomplete_details.reason
	Choices        bool   // a chat or completions body instead
}

// ParseResponsesBody reads a whole /v1/responses body.
func ParseResponsesBody(data []byte) (ResponsesBody, error) {
	var j struct {
		Status  string          `json:"status"`
		Choices json.RawMessage `json:"choices"`
		Output  []struct {
			Type    string `json:"type"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
		Usage json.RawMessage `json:"usage"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
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
			for _, c := range item.Content {
				switch c.Type {
				case "output_text":
					b.TextBytes += len(c.Text)
				case "reasoning_text":
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
	case j.Error != nil:
		b.Reason = j.Error.Message
	case j.IncompleteDetails != nil:
		b.Reason = j.IncompleteDetails.Reason
	}
	return b, nil
}
