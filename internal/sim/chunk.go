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

// appendUsage writes vLLM's UsageInfo for completion tokens generated so far.
func appendUsage(b []byte, prompt, completion int) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(prompt+completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	return append(b, '}')
}

// appendChunkEnd closes a chunk's choices and the chunk: completions chunks
// carry "usage":null, chat chunks omit it, and both carry the running usage
// with continuous_usage_stats.
func appendChunkEnd(b []byte, p *plan, completion int) []byte {
	b = append(b, ']')
	switch {
	case p.continuous:
		b = append(b, `,"usage":`...)
		b = appendUsage(b, p.promptTokens, completion)
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

// appendTokenHead writes a token's chunk up to its text, without the
// closing quote, so that the oversized fault can pad the text in place.
func appendTokenHead(b, prefix []byte, p *plan, word int) []byte {
	b = append(b, "data: "...)
	b = append(b, prefix...)
	if p.ep == chat {
		b = append(b, `{"index":0,"delta":{"content":`...)
	} else {
		b = append(b, `{"index":0,"text":`...)
	}
	w := vocabJSON[word]
	return append(b, w[:len(w)-1]...)
}

// appendTokenTail closes the chunk appendTokenHead began, for token i.
func appendTokenTail(b []byte, p *plan, i int) []byte {
	if p.ep == chat {
		b = append(b, `"},"logprobs":null,"finish_reason":`...)
	} else {
		b = append(b, `","logprobs":null,"finish_reason":`...)
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
	b = appendUsage(b, p.promptTokens, p.n)
	return append(b, "}\n\n"...)
}

// appendBody is the whole non-streaming answer.
func (s *Server) appendBody(b []byte, p *plan) []byte {
	return appendBodyTail(s.appendBodyHead(b, p), p)
}

// appendBodyHead writes the answer through its generated text, so that the
// oversized fault can pad the text before appendBodyTail closes it.
func (s *Server) appendBodyHead(b []byte, p *plan) []byte {
	if p.ep == chat {
		b = s.appendPrefix(b, p, "chat.completion")
		b = append(b, `{"index":0,"message":{"role":"assistant","content":"`...)
	} else {
		b = s.appendPrefix(b, p, "text_completion")
		b = append(b, `{"index":0,"text":"`...)
	}
	for range p.n {
		b = append(b, ' ')
		b = append(b, vocab[p.rng.word()]...)
	}
	return b
}

func appendBodyTail(b []byte, p *plan) []byte {
	if p.ep == chat {
		b = append(b, `","reasoning_content":null,"tool_calls":[]},"logprobs":null,"finish_reason":"`...)
		b = append(b, p.finish...)
		b = append(b, `","stop_reason":null}],"usage":`...)
		b = appendUsage(b, p.promptTokens, p.n)
		return append(b, `,"prompt_logprobs":null}`...)
	}
	b = append(b, `","logprobs":null,"finish_reason":"`...)
	b = append(b, p.finish...)
	b = append(b, `","stop_reason":null,"prompt_logprobs":null}],"usage":`...)
	b = appendUsage(b, p.promptTokens, p.n)
	return append(b, '}')
}
