package openai

import (
	"encoding/json"

	"servebench/internal/jsonscan"
)

// chunkInfo is what genload takes from a completion chunk or body.
type chunkInfo struct {
	contentBytes int    // generated text, in bytes once unescaped
	finishReason string // the last non-empty finish_reason of its choices
	usage        Usage
	hasUsage     bool // a usage object (not null) was present
	errorSet     bool // an "error" member other than null
	objectError  bool // "object":"error", vLLM's older error shape
	detailSet    bool // a "detail" member (FastAPI's errors), even null
}

// parseChunk reads a chunk as json.Unmarshal into a zero chunkJSON would
// (what the fields mean is there), without reflection or allocation for the
// chunks servers send. Whatever its scanner does not handle (an escaped
// finish_reason, keys that are not lowercase, duplicate keys, unexpected
// types, invalid JSON) goes to encoding/json, which also supplies the
// error. FuzzParseChunk holds the two to the same results.
func parseChunk(data []byte) (chunkInfo, error) {
	var c chunkInfo
	s := &scanner{jsonscan.New(data)}
	if s.chunk(&c) {
		return c, nil
	}
	return parseChunkJSON(data)
}

// parseChunkJSON is the reference: encoding/json into a fresh chunkJSON.
func parseChunkJSON(data []byte) (chunkInfo, error) {
	var chunk chunkJSON
	if err := json.Unmarshal(data, &chunk); err != nil {
		return chunkInfo{}, err
	}
	c := chunkInfo{errorSet: len(chunk.Error) > 0 && string(chunk.Error) != "null",
		objectError: chunk.Object == "error", detailSet: len(chunk.Detail) > 0}
	for i := range chunk.Choices {
		ch := &chunk.Choices[i]
		c.contentBytes += ch.contentBytes()
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			c.finishReason = *ch.FinishReason
		}
	}
	if chunk.Usage != nil {
		c.usage, c.hasUsage = *chunk.Usage, true
	}
	return c, nil
}

// scanner walks a chunk; every method returns false for what it does not
// handle, and the caller then leaves the whole text to encoding/json.
type scanner struct {
	jsonscan.Cursor
}

// seen tracks the keys of one object, to leave duplicates to
// encoding/json (the last one wins there, and merges into objects).
type seen uint8

func (m *seen) first(bit uint8) bool {
	if *m&seen(1<<bit) != 0 {
		return false
	}
	*m |= seen(1 << bit)
	return true
}

// chunk reads a whole chunk: one object and nothing after it.
func (s *scanner) chunk(c *chunkInfo) bool {
	var keys seen
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "choices":
			ok = keys.first(0) && s.choices(c)
		case "usage":
			ok = keys.first(1) && s.usage(c)
		case "error":
			if ok = keys.first(2); ok && !s.Null() {
				c.errorSet = true
				ok = s.Skip()
			}
		case "object":
			if ok = keys.first(3); ok && !s.Null() {
				var raw []byte
				raw, ok = s.plainString()
				c.objectError = string(raw) == "error"
			}
		case "detail":
			c.detailSet = true
			ok = keys.first(4) && s.Skip()
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok && s.End()
}

func (s *scanner) choices(c *chunkInfo) bool {
	if s.Null() {
		return true
	}
	more, ok := s.Open('[', ']')
	for ok && more {
		if !s.Null() && !s.choice(c) {
			return false
		}
		more, ok = s.Next(']')
	}
	return ok
}

// stringLenOrNull adds a string field's unescaped length to n.
func (s *scanner) stringLenOrNull(n *int) bool {
	if s.Null() {
		return true
	}
	l, ok := s.StringLen()
	*n += l
	return ok
}

func (s *scanner) choice(c *chunkInfo) bool {
	var keys seen
	n := 0
	finish := ""
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "text":
			ok = keys.first(0) && s.stringLenOrNull(&n)
		case "delta":
			ok = keys.first(1) && s.texts(&n, true)
		case "message":
			ok = keys.first(2) && s.texts(&n, false)
		case "finish_reason":
			if ok = keys.first(3); ok && !s.Null() {
				var raw []byte
				raw, ok = s.plainString()
				switch string(raw) { // the usual reasons without an allocation
				case "stop":
					finish = "stop"
				case "length":
					finish = "length"
				default:
					finish = string(raw)
				}
			}
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	if !ok {
		return false
	}
	c.contentBytes += n
	if finish != "" {
		c.finishReason = finish
	}
	return true
}

// texts reads a delta (reasoning counts too) or a message.
func (s *scanner) texts(n *int, delta bool) bool {
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
		switch key := string(k); {
		case key == "content":
			ok = keys.first(0) && s.stringLenOrNull(n)
		case key == "reasoning_content":
			ok = keys.first(1) && s.stringLenOrNull(n)
		case key == "reasoning" && delta:
			ok = keys.first(2) && s.stringLenOrNull(n)
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok
}

func (s *scanner) usage(c *chunkInfo) bool {
	if s.Null() {
		return true
	}
	c.hasUsage = true
	var keys seen
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "prompt_tokens":
			ok = keys.first(0) && s.intOrNull(&c.usage.PromptTokens)
		case "completion_tokens":
			ok = keys.first(1) && s.intOrNull(&c.usage.CompletionTokens)
		case "total_tokens":
			ok = keys.first(2) && s.intOrNull(&c.usage.TotalTokens)
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok
}

// intOrNull reads an int field; null leaves it unchanged.
func (s *scanner) intOrNull(v *int) bool {
	if s.Null() {
		return true
	}
	n, ok := s.Int()
	*v = n
	return ok
}

// plainString reads a string that is its own value: no escapes, valid
// UTF-8 (others are left to encoding/json).
func (s *scanner) plainString() ([]byte, bool) {
	raw, utf8ok, ok := s.PlainString()
	return raw, ok && utf8ok
}
