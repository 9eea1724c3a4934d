package sim

import "strconv"

// The appenders below build vLLM's JSON by hand into reused buffers: a token
// event costs a few appends and no allocation, which matters at tens of
// thousands of events per second. Field order and null fields follow vLLM's
// serialization (completions chunks are dumped with every field, chat chunks
// only with the fields vLLM sets).

// vocab is the output vocabulary: plain ASCII words, so no escaping.
var vocab = [...]string{
	"the", "of", "and", "to", "in", "is", "that", "for", "it", "as",
	"was", "with", "be", "by", "on", "not", "he", "this", "are", "or",
	"his", "from", "at", "which", "but", "have", "an", "had", "they", "you",
	"were", "their", "one", "all", "we", "can", "her", "has", "there", "been",
	"if", "more", "when", "will", "would", "who", "so", "no", "time", "model",
	"token", "server", "latency", "batch", "queue", "stream", "request", "answer", "cache", "prompt",
	"fast", "slow", "simple", "exact",
}

// vocabJSON holds each token's text, " word", as a JSON string.
var vocabJSON = func() (q [len(vocab)]string) {
	for i, w := range vocab {
		q[i] = `" ` + w + `"`
	}
	return q
}()

const doneEvent = "data: [DONE]\n\n"

// appendPrefix writes the fields every chunk or body of p starts with,
// through `"choices":[`.
func (s *Server) appendPrefix(b []byte, p *plan, object string) []byte {
	if p.ep == chat {
		b = append(b, `{"id":"chatcmpl-`...)
	} else {
		b = append(b, `{"id":"cmpl-`...)
	}
	b = append(b, s.idTag...)
	b = appendHex16(b, p.seq)
	b = append(b, `","object":"`...)
	b = append(b, object...)
	b = append(b, `","created":`...)
	b = strconv.AppendInt(b, p.created, 10)
	b = append(b, `,"model":`...)
	b = append(b, s.quote[p.model]...)
	return append(b, `,"choices":[`...)
}

func appendHex16(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[v>>uint(shift)&0xf])
	}
	return b
}

// appendUsage writes vLLM's UsageInfo for completion tokens generated so far;
// for a reasoning model also completion_tokens_details.reasoning_tokens, the
// reasoning tokens among them.
func appendUsage(b []byte, p *plan, completion int) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(p.promptTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(p.promptTokens+completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	if p.reasons {
		b = append(b, `,"completion_tokens_details":{"reasoning_tokens":`...)
		b = strconv.AppendInt(b, int64(min(completion, p.reasoning)), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendFinalUsage is the usage of a whole answer or of the final usage
// chunk: with a prefix cache hit, also prompt_tokens_details.cached_tokens,
// as vLLM reports it with --enable-prompt-tokens-details (only when not 0;
// running usage chunks never carry it).
func appendFinalUsage(b []byte, p *plan) []byte {
	b = appendUsage(b, p, p.n)
	if p.cached > 0 {
		b = append(b[:len(b)-1], `,"prompt_tokens_details":{"cached_tokens":`...)
		b = strconv.AppendInt(b, int64(p.cached), 10)
		b = append(b, "}}"...)
	}
	return b
}

// appendChunkEnd closes a chunk's choices and the chunk: completions chunks
// carry "usage":null, chat chunks omit it, and both carry the running usage
// with continuous_usage_stats.
func appendChunkEnd(b []byte, p *plan, completion int) []byte {
	b = append(b, ']')
	switch {
	case p.continuous:
		b = append(b, `,"usage":`...)
		b = appendUsage(b, p, completion)
	case p.ep == completions:
		b = append(b, `,"usage":null`...)
	}
	return append(b, "}\n\n"...)
}

// appendRoleEvent is the chat chunk vLLM sends before the first token's:
// the assistant role with empty content.
func appendRoleEvent(b, prefix []byte, p *plan) []byte {
	b = append(b, "data: "...)
	b = append(b, prefix...)
	b = append(b, `{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}`...)
	return appendChunkEnd(b, p, 0)
}

// appendTokenHead writes token i's chunk up to its text, without the
// closing quote, so that the oversized fault can pad the text in place.
// A chat token is reasoning (the first p.reasoning of them), a tool call's
// (its name first, then argument fragments) or content, as vLLM streams
// them: the reasoning in "reasoning" (and "reasoning_content" with the
// same text, as the versions that send both), the tool call's id, type and
// name in its first delta.
func (s *Server) appendTokenHead(b, prefix []byte, p *plan, i, word int) []byte {
	b = append(b, "data: "...)
	b = append(b, prefix...)
	w := vocabJSON[word]
	w = w[:len(w)-1]
	switch {
	case p.ep != chat:
		b = append(b, `{"index":0,"text":`...)
	case i < p.reasoning:
		b = append(b, `{"index":0,"delta":{`...)
		if p.reasoningField == ReasoningBoth {
			b = append(b, `"reasoning":`...)
			b = append(b, w...)
			b = append(b, `","reasoning_content":`...)
		} else {
			b = append(b, '"')
			b = append(b, p.reasoningField...)
			b = append(b, `":`...)
		}
	case p.tool != "" && i == p.reasoning:
		b = append(b, `{"index":0,"delta":{"tool_calls":[{"id":"`...)
		b = s.appendToolCallID(b, p)
		b = append(b, `","type":"function","index":0,"function":{"name":"`...)
		return append(b, p.tool...)
	case p.tool != "":
		b = append(b, `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"`...)
		return appendArgument(b, p, i, word)
	default:
		b = append(b, `{"index":0,"delta":{"content":`...)
	}
	return append(b, w...)
}

// appendToolCallID writes the tool call's id: vLLM's chatcmpl-tool- and
// hex digits, unique per request.
func (s *Server) appendToolCallID(b []byte, p *plan) []byte {
	b = append(b, "chatcmpl-tool-"...)
	b = append(b, s.idTag...)
	return appendHex16(b, p.seq)
}

// appendArgument writes token i's fragment of the tool call's arguments, a
// JSON object as a JSON string: {"q": " w1 w2 ... wk"} over the tokens
// after the name ("{}" when the name is the only token).
func appendArgument(b []byte, p *plan, i, word int) []byte {
	if i == p.reasoning+1 {
		b = append(b, `{\"q\": \"`...)
	}
	b = append(b, ' ')
	b = append(b, vocab[word]...)
	if i == p.n-1 {
		b = append(b, `\"}`...)
	}
	return b
}

// appendTokenTail closes the chunk appendTokenHead began, for token i.
func appendTokenTail(b []byte, p *plan, i int) []byte {
	switch {
	case p.ep != chat:
		b = append(b, `","logprobs":null,"finish_reason":`...)
	case p.tool != "" && i == p.reasoning && i == p.n-1:
		b = append(b, `","arguments":"{}"}}]},"logprobs":null,"finish_reason":`...)
	case p.tool != "" && i >= p.reasoning:
		b = append(b, `"}}]},"logprobs":null,"finish_reason":`...)
	default:
		b = append(b, `"},"logprobs":null,"finish_reason":`...)
	}
	switch {
	case i == p.n-1:
		b = append(b, '"')
		b = append(b, p.finish...)
		b = append(b, `","stop_reason":null}`...)
	case p.ep == chat:
		b = append(b, `null}`...)
	default:
		b = append(b, `null,"stop_reason":null}`...)
	}
	return appendChunkEnd(b, p, i+1)
}

// appendUsageEvent is the final usage chunk of stream_options.include_usage:
// empty choices, full usage.
func appendUsageEvent(b, prefix []byte, p *plan) []byte {
	b = append(b, "data: "...)
	b = append(b, prefix...)
	b = append(b, `],"usage":`...)
	b = appendFinalUsage(b, p)
	return append(b, "}\n\n"...)
}

// appendBody is the whole non-streaming answer.
func (s *Server) appendBody(b []byte, p *plan) []byte {
	return s.appendBodyTail(s.appendBodyHead(b, p), p)
}

// appendBodyHead writes the answer through its generated text (a tool
// call's arguments), so that the oversized fault can pad the text before
// appendBodyTail closes it. A reasoning model's reasoning is drawn first,
// as it was generated, and written where vLLM puts it, after the content:
// the words of the content skip past it.
func (s *Server) appendBodyHead(b []byte, p *plan) []byte {
	if p.ep == responses {
		return s.appendRespBodyHead(b, p)
	}
	if p.ep != chat {
		b = s.appendPrefix(b, p, "text_completion")
		b = append(b, `{"index":0,"text":"`...)
		for range p.n {
			b = append(b, ' ')
			b = append(b, vocab[p.rng.word()]...)
		}
		return b
	}
	b = s.appendPrefix(b, p, "chat.completion")
	p.thought = p.rng
	for range p.reasoning {
		p.rng.word()
	}
	if p.tool == "" {
		b = append(b, `{"index":0,"message":{"role":"assistant","content":"`...)
		for range p.n - p.reasoning {
			b = append(b, ' ')
			b = append(b, vocab[p.rng.word()]...)
		}
		return b
	}
	b = append(b, `{"index":0,"message":{"role":"assistant","content":null,`...)
	b = appendReasoning(b, p)
	b = append(b, `,"tool_calls":[{"id":"`...)
	b = s.appendToolCallID(b, p)
	b = append(b, `","type":"function","function":{"name":"`...)
	b = append(b, p.tool...)
	b = append(b, `","arguments":"`...)
	if p.n-p.reasoning == 1 {
		return append(b, `{}`...)
	}
	p.rng.word() // the name's token
	for i := p.reasoning + 1; i < p.n; i++ {
		b = appendArgument(b, p, i, p.rng.word())
	}
	return b
}

// appendReasoning writes a whole answer's reasoning fields: null without
// reasoning, as vLLM sends for a model that does not reason.
func appendReasoning(b []byte, p *plan) []byte {
	if !p.reasons {
		return append(b, `"reasoning_content":null`...)
	}
	text := func(b []byte) []byte {
		r := p.thought
		b = append(b, '"')
		for range p.reasoning {
			b = append(b, ' ')
			b = append(b, vocab[r.word()]...)
		}
		return append(b, '"')
	}
	if p.reasoningField == ReasoningBoth {
		b = append(b, `"reasoning":`...)
		b = text(b)
		b = append(b, `,"reasoning_content":`...)
		return text(b)
	}
	b = append(b, '"')
	b = append(b, p.reasoningField...)
	b = append(b, `":`...)
	return text(b)
}

func (s *Server) appendBodyTail(b []byte, p *plan) []byte {
	if p.ep == responses {
		return s.appendRespBodyTail(b, p)
	}
	if p.ep == chat {
		if p.tool != "" {
			b = append(b, `"}}]},"logprobs":null,"finish_reason":"`...)
		} else {
			b = append(b, `",`...)
			b = appendReasoning(b, p)
			b = append(b, `,"tool_calls":[]},"logprobs":null,"finish_reason":"`...)
		}
		b = append(b, p.finish...)
		b = append(b, `","stop_reason":null}],"usage":`...)
		b = appendFinalUsage(b, p)
		return append(b, `,"prompt_logprobs":null}`...)
	}
	b = append(b, `","logprobs":null,"finish_reason":"`...)
	b = append(b, p.finish...)
	b = append(b, `","stop_reason":null,"prompt_logprobs":null}],"usage":`...)
	b = appendFinalUsage(b, p)
	return append(b, '}')
}
