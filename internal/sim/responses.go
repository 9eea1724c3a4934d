package sim

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// POST /v1/responses, OpenAI's Responses API as vLLM serves it
// (vllm/entrypoints/openai/responses): the same timing model, reasoning,
// tool calls and faults as chat, in the Responses API's shapes. A stream
// is event:/data: pairs, each data's "type" repeating the event's name,
// numbered by sequence_number, and no [DONE]:
//
//	response.created, response.in_progress          on acceptance
//	response.output_item.added (reasoning), response.content_part.added,
//	response.reasoning_text.delta                   per reasoning token
//	response.reasoning_text.done, response.content_part.done,
//	response.output_item.done                       when reasoning ends
//	response.output_item.added (message), response.content_part.added,
//	response.output_text.delta                      per text token
//	response.output_item.added (function_call)     a tool call's name token
//	response.function_call_arguments.delta          per argument token
//	..._text.done / function_call_arguments.done, content_part.done,
//	response.output_item.done, response.completed  with the last token
//
// vLLM ends every stream with response.completed, whose response has
// status "incomplete" and incomplete_details {"reason":"max_output_tokens"}
// when the limit cut the answer: it never sends response.incomplete. The
// whole (not streamed) answer is that final response object.

// maxOutputTokens is the request's output limit as vLLM computes it: the
// room left in the context when the request gives none (here
// DefaultMaxTokens, as for chat), else max_output_tokens clipped to that
// room; a prompt that fills the context is refused.
func (s *Server) maxOutputTokens(asked *int, prompt int) (int, *apiError) {
	room := s.cfg.MaxModelLen - prompt
	if room <= 0 {
		return 0, badRequest("The engine prompt length %d exceeds the max_model_len %d. Please reduce prompt.", prompt, s.cfg.MaxModelLen)
	}
	if asked == nil {
		return min(DefaultMaxTokens, room), nil
	}
	return min(*asked, room), nil
}

// inputTokens counts the tokens of a Responses API input (see
// promptAcc.input).
func inputTokens(raw json.RawMessage) (int, *apiError) {
	a := promptAcc{}
	aerr := a.input(raw)
	return a.n, aerr
}

// input adds a Responses API input: a string (the user's text) or a list
// of message items, tokenized as chat messages are.
func (a *promptAcc) input(raw json.RawMessage) *apiError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return badRequest("Field required: input.")
	}
	switch raw[0] {
	case '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return badRequest("invalid input: %v", err)
		}
		a.text(text)
	case '[':
		var items []chatMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return badRequest("invalid input: %v", err)
		}
		if len(items) == 0 {
			return badRequest("The input cannot be empty.")
		}
		if aerr := a.messages(items, true); aerr != nil {
			return aerr
		}
	default:
		return badRequest("input must be a string or a list of input items.")
	}
	if a.n == 0 {
		return badRequest("The decoder prompt cannot be empty.")
	}
	return nil
}

// appendID writes an id: its prefix, the server's tag and the request's
// number, unique per request and run.
func (s *Server) appendID(b []byte, prefix string, p *plan) []byte {
	b = append(b, prefix...)
	b = append(b, s.idTag...)
	return appendHex16(b, p.seq)
}

// appendEventHead starts an event: its event: line, and its data up to
// the first field.
func appendEventHead(b []byte, typ string) []byte {
	b = append(b, "event: "...)
	b = append(b, typ...)
	return append(b, "\ndata: {"...)
}

// appendEventTail closes an event: its sequence_number, its type, the
// blank line; p counts the events.
func appendEventTail(b []byte, p *plan, typ string) []byte {
	b = append(b, `,"sequence_number":`...)
	b = strconv.AppendInt(b, int64(p.events), 10)
	p.events++
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	return append(b, "\"}\n\n"...)
}

// appendWords writes the words of tokens [from, to) as JSON string content
// (" w1 w2 ..."), drawn from r as token 0's rng would draw them.
func appendWords(b []byte, r rng, from, to int) []byte {
	for range from {
		r.word()
	}
	for range to - from {
		b = append(b, ' ')
		b = append(b, vocab[r.word()]...)
	}
	return b
}

// appendArguments writes a tool call's whole arguments (JSON in a JSON
// string), as its argument tokens stream them.
func appendArguments(b []byte, p *plan) []byte {
	if p.n-p.reasoning == 1 {
		return append(b, `{}`...)
	}
	r := p.first
	for range p.reasoning + 1 {
		r.word()
	}
	for i := p.reasoning + 1; i < p.n; i++ {
		b = appendArgument(b, p, i, r.word())
	}
	return b
}

// The output items' indexes: the reasoning (when there is some) first,
// then the message or the function call.
func answerIndex(p *plan) int {
	if p.reasoning > 0 {
		return 1
	}
	return 0
}

func appendIndex(b []byte, key string, i int) []byte {
	b = append(b, key...)
	return strconv.AppendInt(b, int64(i), 10)
}

// appendRespStart is what a stream sends on acceptance: response.created
// and response.in_progress, with the response as it begins.
func (s *Server) appendRespStart(b []byte, p *plan) []byte {
	for _, typ := range []string{"response.created", "response.in_progress"} {
		b = appendEventHead(b, typ)
		b = append(b, `"response":`...)
		b = s.appendResponseHead(b, p, false)
		b = s.appendResponseTail(b, p, false)
		b = appendEventTail(b, p, typ)
	}
	return b
}

// appendRespTokenHead writes token i's events up to its text, without the
// closing quote, so that the oversized fault can pad the text in place:
// first the events that close the item before it and open its own, then
// the delta (or, for a tool call's name token, the function_call item).
func (s *Server) appendRespTokenHead(b []byte, p *plan, i, word int) []byte {
	w := vocabJSON[word]
	w = w[:len(w)-1]
	switch {
	case i < p.reasoning:
		if i == 0 {
			b = s.appendItemAdded(b, p, "reasoning", 0)
			b = s.appendPartAdded(b, p, "reasoning_text", 0)
		}
		b = appendEventHead(b, "response.reasoning_text.delta")
		b = append(b, `"content_index":0,"delta":`...)
		return append(b, w...)
	case p.tool != "" && i == p.reasoning:
		if i > 0 {
			b = s.appendReasoningDone(b, p)
		}
		b = appendEventHead(b, "response.output_item.added")
		b = append(b, `"item":{"arguments":"","call_id":"`...)
		b = s.appendID(b, "call_", p)
		b = append(b, `","name":"`...)
		return append(b, p.tool...)
	case p.tool != "":
		b = appendEventHead(b, "response.function_call_arguments.delta")
		b = append(b, `"delta":"`...)
		return appendArgument(b, p, i, word)
	}
	if i == p.reasoning {
		if i > 0 {
			b = s.appendReasoningDone(b, p)
		}
		b = s.appendItemAdded(b, p, "message", answerIndex(p))
		b = s.appendPartAdded(b, p, "output_text", answerIndex(p))
	}
	b = appendEventHead(b, "response.output_text.delta")
	b = append(b, `"content_index":0,"delta":`...)
	return append(b, w...)
}

// appendRespTokenTail closes the event appendRespTokenHead began.
func (s *Server) appendRespTokenTail(b []byte, p *plan, i int) []byte {
	switch {
	case i < p.reasoning:
		b = append(b, `","item_id":"`...)
		b = s.appendID(b, "rs_", p)
		b = append(b, `","output_index":0`...)
		return appendEventTail(b, p, "response.reasoning_text.delta")
	case p.tool != "" && i == p.reasoning:
		b = append(b, `","type":"function_call","id":"`...)
		b = s.appendID(b, "fc_", p)
		b = append(b, `","status":"in_progress"}`...)
		b = appendIndex(b, `,"output_index":`, answerIndex(p))
		return appendEventTail(b, p, "response.output_item.added")
	case p.tool != "":
		b = append(b, `","item_id":"`...)
		b = s.appendID(b, "fc_", p)
		b = append(b, '"')
		b = appendIndex(b, `,"output_index":`, answerIndex(p))
		return appendEventTail(b, p, "response.function_call_arguments.delta")
	}
	b = append(b, `","item_id":"`...)
	b = s.appendID(b, "msg_", p)
	b = append(b, `","logprobs":[]`...)
	b = appendIndex(b, `,"output_index":`, answerIndex(p))
	return appendEventTail(b, p, "response.output_text.delta")
}

// appendItemAdded opens an output item: a reasoning or message item, in
// progress and empty.
func (s *Server) appendItemAdded(b []byte, p *plan, kind string, index int) []byte {
	b = appendEventHead(b, "response.output_item.added")
	b = append(b, `"item":`...)
	if kind == "reasoning" {
		b = append(b, `{"id":"`...)
		b = s.appendID(b, "rs_", p)
		b = append(b, `","summary":[],"type":"reasoning","content":null,"encrypted_content":null,"status":"in_progress"}`...)
	} else {
		b = append(b, `{"id":"`...)
		b = s.appendID(b, "msg_", p)
		b = append(b, `","content":[],"role":"assistant","status":"in_progress","type":"message"}`...)
	}
	b = appendIndex(b, `,"output_index":`, index)
	return appendEventTail(b, p, "response.output_item.added")
}

// appendPartAdded opens the item's content part, empty.
func (s *Server) appendPartAdded(b []byte, p *plan, kind string, index int) []byte {
	b = appendEventHead(b, "response.content_part.added")
	b = append(b, `"content_index":0,"item_id":"`...)
	if kind == "reasoning_text" {
		b = s.appendID(b, "rs_", p)
	} else {
		b = s.appendID(b, "msg_", p)
	}
	b = append(b, '"')
	b = appendIndex(b, `,"output_index":`, index)
	if kind == "reasoning_text" {
		b = append(b, `,"part":{"text":"","type":"reasoning_text"}`...)
	} else {
		b = append(b, `,"part":{"annotations":[],"text":"","type":"output_text","logprobs":[]}`...)
	}
	return appendEventTail(b, p, "response.content_part.added")
}

// appendReasoningDone closes the reasoning item, with its whole text.
func (s *Server) appendReasoningDone(b []byte, p *plan) []byte {
	text := func(b []byte) []byte {
		b = append(b, '"')
		b = appendWords(b, p.first, 0, p.reasoning)
		return append(b, '"')
	}
	b = appendEventHead(b, "response.reasoning_text.done")
	b = append(b, `"content_index":0,"item_id":"`...)
	b = s.appendID(b, "rs_", p)
	b = append(b, `","output_index":0,"text":`...)
	b = text(b)
	b = appendEventTail(b, p, "response.reasoning_text.done")
	b = appendEventHead(b, "response.content_part.done")
	b = append(b, `"content_index":0,"item_id":"`...)
	b = s.appendID(b, "rs_", p)
	b = append(b, `","output_index":0,"part":{"text":`...)
	b = text(b)
	b = append(b, `,"type":"reasoning_text"}`...)
	b = appendEventTail(b, p, "response.content_part.done")
	b = appendEventHead(b, "response.output_item.done")
	b = append(b, `"item":`...)
	b = s.appendReasoningItem(b, p, `"completed"`)
	b = append(b, `,"output_index":0`...)
	return appendEventTail(b, p, "response.output_item.done")
}

// appendReasoningItem is the whole reasoning item.
func (s *Server) appendReasoningItem(b []byte, p *plan, status string) []byte {
	b = append(b, `{"id":"`...)
	b = s.appendID(b, "rs_", p)
	b = append(b, `","summary":[],"type":"reasoning","content":[{"text":"`...)
	b = appendWords(b, p.first, 0, p.reasoning)
	b = append(b, `","type":"reasoning_text"}],"encrypted_content":null,"status":`...)
	b = append(b, status...)
	return append(b, '}')
}

// appendRespEnd is what follows the last token: the events that close the
// open item, then response.completed with the whole response.
func (s *Server) appendRespEnd(b []byte, p *plan) []byte {
	switch {
	case p.n <= p.reasoning:
		b = s.appendReasoningDone(b, p)
	case p.tool != "":
		b = appendEventHead(b, "response.function_call_arguments.done")
		b = append(b, `"arguments":"`...)
		b = appendArguments(b, p)
		b = append(b, `","item_id":"`...)
		b = s.appendID(b, "fc_", p)
		b = append(b, `","name":"`...)
		b = append(b, p.tool...)
		b = append(b, '"')
		b = appendIndex(b, `,"output_index":`, answerIndex(p))
		b = appendEventTail(b, p, "response.function_call_arguments.done")
		b = appendEventHead(b, "response.output_item.done")
		b = append(b, `"item":`...)
		b = s.appendCallItem(b, p, true)
		b = appendIndex(b, `,"output_index":`, answerIndex(p))
		b = appendEventTail(b, p, "response.output_item.done")
	default:
		text := func(b []byte) []byte {
			b = append(b, '"')
			b = appendWords(b, p.first, p.reasoning, p.n)
			return append(b, '"')
		}
		b = appendEventHead(b, "response.output_text.done")
		b = append(b, `"content_index":0,"item_id":"`...)
		b = s.appendID(b, "msg_", p)
		b = append(b, `","logprobs":[]`...)
		b = appendIndex(b, `,"output_index":`, answerIndex(p))
		b = append(b, `,"text":`...)
		b = text(b)
		b = appendEventTail(b, p, "response.output_text.done")
		b = appendEventHead(b, "response.content_part.done")
		b = append(b, `"content_index":0,"item_id":"`...)
		b = s.appendID(b, "msg_", p)
		b = append(b, '"')
		b = appendIndex(b, `,"output_index":`, answerIndex(p))
		b = append(b, `,"part":{"annotations":[],"text":`...)
		b = text(b)
		b = append(b, `,"type":"output_text","logprobs":null}`...)
		b = appendEventTail(b, p, "response.content_part.done")
		b = appendEventHead(b, "response.output_item.done")
		b = append(b, `"item":{"id":"`...)
		b = s.appendID(b, "msg_", p)
		b = append(b, `","content":[{"annotations":[],"text":`...)
		b = text(b)
		b = append(b, `,"type":"output_text","logprobs":null}],"role":"assistant","status":"completed","type":"message"}`...)
		b = appendIndex(b, `,"output_index":`, answerIndex(p))
		b = appendEventTail(b, p, "response.output_item.done")
	}
	b = appendEventHead(b, "response.completed")
	b = append(b, `"response":`...)
	b = s.appendRespBodyHead(b, p)
	b = s.appendRespBodyTail(b, p)
	return appendEventTail(b, p, "response.completed")
}

// appendCallItem writes the function_call item, its arguments whole when
// whole (else up to them, for appendRespBodyHead's split).
func (s *Server) appendCallItem(b []byte, p *plan, whole bool) []byte {
	b = append(b, `{"arguments":"`...)
	if !whole {
		return b
	}
	b = appendArguments(b, p)
	return s.appendCallItemTail(b, p)
}

func (s *Server) appendCallItemTail(b []byte, p *plan) []byte {
	b = append(b, `","call_id":"`...)
	b = s.appendID(b, "call_", p)
	b = append(b, `","name":"`...)
	b = append(b, p.tool...)
	b = append(b, `","type":"function_call","id":"`...)
	b = s.appendID(b, "fc_", p)
	return append(b, `","status":"completed"}`...)
}

// appendResponseHead writes a response object through the start of its
// output list; final is false for the stream's opening events (in
// progress, no output, no usage).
func (s *Server) appendResponseHead(b []byte, p *plan, final bool) []byte {
	b = append(b, `{"id":"`...)
	b = s.appendID(b, "resp_", p)
	b = append(b, `","created_at":`...)
	b = strconv.AppendInt(b, p.created, 10)
	if final && p.finish == "length" {
		b = append(b, `,"incomplete_details":{"reason":"max_output_tokens"}`...)
	} else {
		b = append(b, `,"incomplete_details":null`...)
	}
	b = append(b, `,"instructions":null,"metadata":null,"model":`...)
	b = append(b, s.quote[p.model]...)
	return append(b, `,"object":"response","output":[`...)
}

// appendResponseTail closes the output list and the response.
func (s *Server) appendResponseTail(b []byte, p *plan, final bool) []byte {
	b = append(b, `],"parallel_tool_calls":true,"temperature":1.0,"tool_choice":"auto","tools":[],"top_p":1.0,"background":false`...)
	b = appendIndex(b, `,"max_output_tokens":`, p.maxOut)
	b = append(b, `,"max_tool_calls":null,"previous_response_id":null,"prompt":null,"reasoning":null,"service_tier":"auto","status":`...)
	switch {
	case !final:
		b = append(b, `"in_progress"`...)
	case p.finish == "length":
		b = append(b, `"incomplete"`...)
	default:
		b = append(b, `"completed"`...)
	}
	b = append(b, `,"text":null,"top_logprobs":null,"truncation":"disabled","usage":`...)
	if final {
		b = appendRespUsage(b, p)
	} else {
		b = append(b, "null"...)
	}
	return append(b, `,"user":null}`...)
}

// appendRespUsage is the Responses API's usage: input and output tokens,
// the reasoning among the output, nothing cached.
func appendRespUsage(b []byte, p *plan) []byte {
	b = appendIndex(b, `{"input_tokens":`, p.promptTokens)
	b = append(b, `,"input_tokens_details":{"cached_tokens":0}`...)
	b = appendIndex(b, `,"output_tokens":`, p.n)
	b = appendIndex(b, `,"output_tokens_details":{"reasoning_tokens":`, min(p.reasoning, p.n))
	b = append(b, `,"tool_output_tokens":0}`...)
	b = appendIndex(b, `,"total_tokens":`, p.promptTokens+p.n)
	return append(b, '}')
}

// appendRespBodyHead writes the whole response through its last generated
// text (the message's, a tool call's arguments, or the reasoning when
// that is all there is), so that the oversized fault can pad it before
// appendRespBodyTail closes it. As vLLM orders them: the reasoning item,
// then the message, or the function call (a call has no message).
func (s *Server) appendRespBodyHead(b []byte, p *plan) []byte {
	b = s.appendResponseHead(b, p, true)
	if p.n <= p.reasoning {
		b = append(b, `{"id":"`...)
		b = s.appendID(b, "rs_", p)
		b = append(b, `","summary":[],"type":"reasoning","content":[{"text":"`...)
		return appendWords(b, p.first, 0, p.n)
	}
	if p.reasoning > 0 {
		b = s.appendReasoningItem(b, p, "null")
		b = append(b, ',')
	}
	if p.tool != "" {
		b = s.appendCallItem(b, p, false)
		return appendArguments(b, p)
	}
	b = append(b, `{"id":"`...)
	b = s.appendID(b, "msg_", p)
	b = append(b, `","content":[{"annotations":[],"text":"`...)
	return appendWords(b, p.first, p.reasoning, p.n)
}

// appendRespBodyTail closes what appendRespBodyHead began.
func (s *Server) appendRespBodyTail(b []byte, p *plan) []byte {
	switch {
	case p.n <= p.reasoning:
		b = append(b, `","type":"reasoning_text"}],"encrypted_content":null,"status":null}`...)
	case p.tool != "":
		b = s.appendCallItemTail(b, p)
	default:
		b = append(b, `","type":"output_text","logprobs":null}],"role":"assistant","status":"completed","type":"message"}`...)
	}
	return s.appendResponseTail(b, p, true)
}

// appendRespErrorEvent is the Responses API's error event, for a
// generation that fails after the 200: vLLM's error in it, no
// response.completed after it.
func appendRespErrorEvent(b []byte, p *plan, e *apiError) []byte {
	msg, _ := json.Marshal(e.msg)
	b = appendEventHead(b, "error")
	b = append(b, `"code":"`...)
	b = append(b, e.typ...)
	b = append(b, `","message":`...)
	b = append(b, msg...)
	b = append(b, `,"param":null`...)
	return appendEventTail(b, p, "error")
}
