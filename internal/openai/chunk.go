package openai

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
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
	s := &scanner{b: data}
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

// scanner walks JSON text; every method returns false for what it does not
// handle, and the caller then leaves the whole text to encoding/json.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	s.ws()
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// null consumes a null literal if one is next.
func (s *scanner) null() bool { return s.literal("null") }

// key reads an object key made of lowercase ASCII letters, digits and
// underscores: such a key matches a field only if equal to its name
// (encoding/json also matches keys that differ in case), so anything
// else is left to encoding/json.
func (s *scanner) key() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			k := s.b[s.i+1 : j]
			s.i = j + 1
			return k, s.consume(':')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		default:
			return nil, false
		}
	}
	return nil, false
}

// open consumes c ('{' or '['); more tells whether members follow.
func (s *scanner) open(c, closing byte) (more, ok bool) {
	if !s.consume(c) {
		return false, false
	}
	return !s.consume(closing), true
}

// next reads the ',' before another member, or the closing bracket.
func (s *scanner) next(closing byte) (more, ok bool) {
	if s.consume(',') {
		return true, true
	}
	return false, s.consume(closing)
}

// stringLen reads a string and returns its length once unescaped as
// encoding/json unescapes it: invalid UTF-8 bytes and lone surrogates
// become U+FFFD (3 bytes).
func (s *scanner) stringLen() (int, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, false
	}
	b, n := s.b, 0
	for i := s.i + 1; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return n, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				n++
				i += 2
			case 'u':
				r, ok := hex4(b[i+2:])
				if !ok {
					return 0, false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := u4(b[i:]); ok && utf16.DecodeRune(r, r2) != utf8.RuneError {
						n += 4
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				n += utf8.RuneLen(r)
			default:
				return 0, false
			}
		case c < utf8.RuneSelf:
			n++
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			n += utf8.RuneLen(r) // 3 for an invalid byte's U+FFFD
			i += size
		}
	}
	return 0, false
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// u4 reads a \uXXXX escape.
func u4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hex4(b[2:])
}

// plainString reads a string without escapes or invalid UTF-8 and returns
// its bytes, valid until the scanned text changes.
func (s *scanner) plainString() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	ascii := true
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			raw := s.b[s.i+1 : j]
			s.i = j + 1
			return raw, ascii || utf8.Valid(raw)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// int reads an integer that fits an int.
func (s *scanner) int() (int, bool) {
	s.ws()
	start := s.i
	if !s.number() {
		return 0, false
	}
	n, err := strconv.Atoi(string(s.b[start:s.i])) // no allocation: a short-lived conversion
	return n, err == nil
}

// number skips a JSON number.
func (s *scanner) number() bool {
	s.ws()
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	s.i = i
	return true
}

// maxDepth bounds the nesting skip follows; deeper text goes to
// encoding/json (whose own limit is 10000).
const maxDepth = 100

// skip validates and skips any value.
func (s *scanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.stringLen()
		return ok
	case c == '{', c == '[':
		if s.depth++; s.depth > maxDepth {
			return false
		}
		ok := false
		if c == '{' {
			ok = s.skipObject()
		} else {
			ok = s.skipArray()
		}
		s.depth--
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.null()
	}
	return false
}

// skipObject skips an object whose keys may be any strings.
func (s *scanner) skipObject() bool {
	more, ok := s.open('{', '}')
	for ok && more {
		if _, ok = s.stringLen(); !ok || !s.consume(':') || !s.skip() {
			return false
		}
		more, ok = s.next('}')
	}
	return ok
}

func (s *scanner) skipArray() bool {
	more, ok := s.open('[', ']')
	for ok && more {
		if !s.skip() {
			return false
		}
		more, ok = s.next(']')
	}
	return ok
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
	more, ok := s.open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "choices":
			ok = keys.first(0) && s.choices(c)
		case "usage":
			ok = keys.first(1) && s.usage(c)
		case "error":
			if ok = keys.first(2); ok && !s.null() {
				c.errorSet = true
				ok = s.skip()
			}
		case "object":
			if ok = keys.first(3); ok && !s.null() {
				var raw []byte
				raw, ok = s.plainString()
				c.objectError = string(raw) == "error"
			}
		case "detail":
			c.detailSet = true
			ok = keys.first(4) && s.skip()
		default:
			ok = s.skip()
		}
		if ok {
			more, ok = s.next('}')
		}
	}
	if !ok {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

func (s *scanner) choices(c *chunkInfo) bool {
	if s.null() {
		return true
	}
	more, ok := s.open('[', ']')
	for ok && more {
		if !s.null() && !s.choice(c) {
			return false
		}
		more, ok = s.next(']')
	}
	return ok
}

// stringLenOrNull adds a string field's unescaped length to n.
func (s *scanner) stringLenOrNull(n *int) bool {
	if s.null() {
		return true
	}
	l, ok := s.stringLen()
	*n += l
	return ok
}

func (s *scanner) choice(c *chunkInfo) bool {
	var keys seen
	n := 0
	finish := ""
	more, ok := s.open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.key(); !ok {
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
			if ok = keys.first(3); ok && !s.null() {
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
			ok = s.skip()
		}
		if ok {
			more, ok = s.next('}')
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
	if s.null() {
		return true
	}
	var keys seen
	more, ok := s.open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.key(); !ok {
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
			ok = s.skip()
		}
		if ok {
			more, ok = s.next('}')
		}
	}
	return ok
}

func (s *scanner) usage(c *chunkInfo) bool {
	if s.null() {
		return true
	}
	c.hasUsage = true
	var keys seen
	more, ok := s.open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.key(); !ok {
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
			ok = s.skip()
		}
		if ok {
			more, ok = s.next('}')
		}
	}
	return ok
}

// intOrNull reads an int field; null leaves it unchanged.
func (s *scanner) intOrNull(v *int) bool {
	if s.null() {
		return true
	}
	n, ok := s.int()
	*v = n
	return ok
}
