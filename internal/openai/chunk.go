package openai

import (
	"encoding/json"
	"math"
	"strconv"

	"servebench/internal/jsonscan"
)

// chunkInfo is what genload takes from a completion chunk or body.
type chunkInfo struct {
	contentBytes   int    // answer text (text, content), in bytes once unescaped
	reasoningBytes int    // reasoning text: reasoning, else reasoning_content (never both)
	toolCalls      int    // tool_calls entries: a streamed call's deltas, or a message's calls
	toolCallIDs    int    // of those, the entries with an id: a call's first delta
	toolCallIndex  int    // 1 + the largest usable "index" of those entries; 0 for none
	finishReason   string // the last non-empty finish_reason of its choices
	usage          Usage
	hasUsage       bool // a usage object (not null) was present
	usageBad       bool // a usage whose counts are unusable: not integers in 0..2^63-1
	errorSet       bool // an "error" member other than null
	objectError    bool // "object":"error", vLLM's older error shape
	detailSet      bool // a "detail" member (FastAPI's errors), even null
}

// parseChunk reads a chunk as json.Unmarshal into a zero chunkJSON would
// (what the fields mean is there), without reflection or allocation for the
// chunks servers send. Whatever its scanner does not handle (an escaped
// finish_reason, keys that are not lowercase, duplicate keys, unexpected
// types, a usage count that is not a plain integer, invalid JSON) goes to
// encoding/json, which also supplies the error. FuzzParseChunk holds the
// two to the same results.
func parseChunk(data []byte) (chunkInfo, error) {
	var c chunkInfo
	err := parseChunkTo(data, &c)
	return c, err
}

// parseChunkTo is parseChunk into *c, which must be zero: the stream
// reader's per-token path, without copying the result.
func parseChunkTo(data []byte, c *chunkInfo) error {
	return parseChunkPrefix(data, c, nil)
}

// Prefix is what a stream's previous chunk said up to its "choices": the
// bytes before that key, and the keys they held. Every chunk of a stream
// begins with the same "id", "object", "created" and "model", byte for
// byte, so a chunk that begins with those bytes is scanned from there,
// in the state the previous one was in (the scan of the same bytes is the
// same; only a prefix that set nothing of what a chunk reports is kept).
// The zero Prefix holds nothing.
type Prefix struct {
	n    int
	keys seen
	buf  [prefixMax]byte
}

// prefixMax bounds a kept prefix.
const prefixMax = 160

// parseChunkPrefix is parseChunkTo, starting where the previous chunk of
// the stream reached "choices" when data begins as it did, and keeping
// where this one does (p nil: neither).
func parseChunkPrefix(data []byte, c *chunkInfo, p *Prefix) error {
	s := scanner{jsonscan.New(data)}
	if s.chunkFrom(c, p) {
		return nil
	}
	var err error
	*c, err = parseChunkJSON(data)
	return err
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
		c.contentBytes += len(ch.Text)
		for _, t := range []*textsJSON{&ch.Delta, &ch.Message} {
			c.contentBytes += len(t.Content)
			c.reasoningBytes += reasoningLen(len(t.Reasoning), len(t.ReasoningContent))
			c.toolCalls += len(t.ToolCalls)
			for _, tc := range t.ToolCalls {
				if tc.ID != "" {
					c.toolCallIDs++
				}
				var i int
				if rawCount(tc.Index, &i, nil) && len(tc.Index) > 0 && string(tc.Index) != "null" && i < math.MaxInt {
					c.toolCallIndex = max(c.toolCallIndex, i+1)
				}
			}
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			c.finishReason = *ch.FinishReason
		}
	}
	if len(chunk.Usage) > 0 && string(chunk.Usage) != "null" {
		c.hasUsage = true
		c.usage, c.usageBad = usageFromJSON(chunk.Usage)
	}
	return c, nil
}

// reasoningLen is a delta's reasoning: vLLM renamed reasoning_content to
// reasoning, and some versions send both keys with the same text, so
// reasoning is read first and reasoning_content only in its absence.
func reasoningLen(reasoning, reasoningContent int) int {
	if reasoning > 0 {
		return reasoning
	}
	return reasoningContent
}

// usageJSON is a usage object as the reference reads it: every count raw,
// so that one unusable count (a float, a string, a number past int64) marks
// the usage bad rather than failing the chunk.
type usageJSON struct {
	PromptTokens     json.RawMessage `json:"prompt_tokens"`
	CompletionTokens json.RawMessage `json:"completion_tokens"`
	TotalTokens      json.RawMessage `json:"total_tokens"`
	CompletionDetail json.RawMessage `json:"completion_tokens_details"`
	PromptDetail     json.RawMessage `json:"prompt_tokens_details"`
}

// usageFromJSON reads a usage object; bad is set when it is not an object
// or one of its counts is unusable.
func usageFromJSON(raw json.RawMessage) (u Usage, bad bool) {
	var uj usageJSON
	if json.Unmarshal(raw, &uj) != nil {
		return Usage{}, true
	}
	return usageCounts(uj)
}

// usageCounts reads a usage's counts, whichever API's names they came
// under (chat's and completions' usageJSON; the Responses API's
// input_/output_tokens, see responsesUsage); bad when one is unusable.
func usageCounts(uj usageJSON) (u Usage, bad bool) {
	ok := rawCount(uj.PromptTokens, &u.PromptTokens, nil) &&
		rawCount(uj.CompletionTokens, &u.CompletionTokens, nil) &&
		rawCount(uj.TotalTokens, &u.TotalTokens, nil) &&
		rawDetail(uj.CompletionDetail, "reasoning_tokens", &u.ReasoningTokens, &u.ReasoningSet) &&
		rawDetail(uj.PromptDetail, "cached_tokens", &u.CachedTokens, nil)
	if !ok {
		return Usage{}, true
	}
	return u, false
}

// rawDetail reads one count of a details object (null or absent: none).
func rawDetail(raw json.RawMessage, key string, v *int, set *bool) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var d struct {
		ReasoningTokens json.RawMessage `json:"reasoning_tokens"`
		CachedTokens    json.RawMessage `json:"cached_tokens"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return false
	}
	if key == "reasoning_tokens" {
		return rawCount(d.ReasoningTokens, v, set)
	}
	return rawCount(d.CachedTokens, v, set)
}

// rawCount reads a count: null or absent leaves v unchanged; anything but
// an integer in 0..2^63-1 is unusable.
func rawCount(raw json.RawMessage, v *int, set *bool) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 0 {
		return false
	}
	*v = n
	if set != nil {
		*set = true
	}
	return true
}

// textsJSON is a choice's delta or message.
type textsJSON struct {
	Content          string         `json:"content"`
	ReasoningContent string         `json:"reasoning_content"`
	Reasoning        string         `json:"reasoning"`
	ToolCalls        []toolCallJSON `json:"tool_calls"`
}

// toolCallJSON is a tool call, or a streamed call's delta: its first
// delta carries the id (with the type and function name), the others
// only argument fragments.
type toolCallJSON struct {
	ID    string          `json:"id"`
	Index json.RawMessage `json:"index"` // an unusable one (not an integer >= 0) is ignored
}

type choiceJSON struct {
	Text         string    `json:"text"`
	Delta        textsJSON `json:"delta"`
	Message      textsJSON `json:"message"`
	FinishReason *string   `json:"finish_reason"`
}

// chunkJSON is a chunk or a whole completion as encoding/json reads it:
// the reference for parseChunk, and its fallback.
type chunkJSON struct {
	Choices []choiceJSON    `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
	Error   json.RawMessage `json:"error"`
	Object  string          `json:"object"`
	Detail  json.RawMessage `json:"detail"`
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
func (s *scanner) chunk(c *chunkInfo) bool { return s.chunkFrom(c, nil) }

// chunkFrom is chunk, resuming after p's prefix when the text begins with
// it, and keeping in p (when not nil) the prefix before "choices".
func (s *scanner) chunkFrom(c *chunkInfo, p *Prefix) bool {
	var keys seen
	var more, ok bool
	if p != nil && p.n > 0 && len(s.B()) > p.n && string(s.B()[:p.n]) == string(p.buf[:p.n]) {
		s.Seek(p.n)
		keys, more, ok = p.keys, true, true
		p = nil // kept already
	} else {
		more, ok = s.Open('{', '}')
	}
	for ok && more {
		at := s.Pos()
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "choices":
			if p != nil && at > 1 && at <= prefixMax && keys&1 == 0 && *c == (chunkInfo{}) {
				p.n, p.keys = copy(p.buf[:], s.B()[:at]), keys
			}
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

// texts is what a choice's text, delta and message add up to.
type texts struct {
	content, reasoning, toolCalls, toolCallIDs, toolCallIndex int
}

func (s *scanner) choice(c *chunkInfo) bool {
	var keys seen
	var t texts
	finish := ""
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) { // no allocation: only compared
		case "text":
			ok = keys.first(0) && s.stringLenOrNull(&t.content)
		case "delta":
			ok = keys.first(1) && s.texts(&t)
		case "message":
			ok = keys.first(2) && s.texts(&t)
		case "finish_reason":
			if ok = keys.first(3); ok && !s.Null() {
				var raw []byte
				raw, ok = s.plainString()
				switch string(raw) { // the usual reasons without an allocation
				case "stop":
					finish = "stop"
				case "length":
					finish = "length"
				case "tool_calls":
					finish = "tool_calls"
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
	c.contentBytes += t.content
	c.reasoningBytes += t.reasoning
	c.toolCalls += t.toolCalls
	c.toolCallIDs += t.toolCallIDs
	c.toolCallIndex = max(c.toolCallIndex, t.toolCallIndex)
	if finish != "" {
		c.finishReason = finish
	}
	return true
}

// texts reads a delta or a message.
func (s *scanner) texts(t *texts) bool {
	if s.Null() {
		return true
	}
	var keys seen
	reasoning, reasoningContent := 0, 0
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) {
		case "content":
			ok = keys.first(0) && s.stringLenOrNull(&t.content)
		case "reasoning_content":
			ok = keys.first(1) && s.stringLenOrNull(&reasoningContent)
		case "reasoning":
			ok = keys.first(2) && s.stringLenOrNull(&reasoning)
		case "tool_calls":
			ok = keys.first(3) && s.toolCalls(t)
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	t.reasoning += reasoningLen(reasoning, reasoningContent)
	return ok
}

// toolCalls counts a tool_calls array's entries, and those with an id.
func (s *scanner) toolCalls(t *texts) bool {
	if s.Null() {
		return true
	}
	more, ok := s.Open('[', ']')
	for ok && more {
		t.toolCalls++
		if !s.Null() && !s.toolCall(t) {
			return false
		}
		more, ok = s.Next(']')
	}
	return ok
}

func (s *scanner) toolCall(t *texts) bool {
	var keys seen
	more, ok := s.Open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = s.Key(); !ok {
			return false
		}
		switch string(k) {
		case "id":
			if ok = keys.first(0); ok && !s.Null() {
				n := 0
				if n, ok = s.StringLen(); n > 0 {
					t.toolCallIDs++
				}
			}
		case "index":
			if ok = keys.first(1); ok && !s.Null() {
				i := 0
				if i, ok = s.Int(); ok && i >= 0 && i < math.MaxInt {
					t.toolCallIndex = max(t.toolCallIndex, i+1)
				} else {
					ok = false // not an integer >= 0: the reference ignores it
				}
			}
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
			ok = keys.first(0) && s.count(&c.usage.PromptTokens, nil)
		case "completion_tokens":
			ok = keys.first(1) && s.count(&c.usage.CompletionTokens, nil)
		case "total_tokens":
			ok = keys.first(2) && s.count(&c.usage.TotalTokens, nil)
		case "completion_tokens_details":
			ok = keys.first(3) && s.detail("reasoning_tokens", &c.usage.ReasoningTokens, &c.usage.ReasoningSet)
		case "prompt_tokens_details":
			ok = keys.first(4) && s.detail("cached_tokens", &c.usage.CachedTokens, nil)
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok
}

// detail reads the one count genload takes from a details object.
func (s *scanner) detail(key string, v *int, set *bool) bool {
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
		switch string(k) {
		case key:
			ok = keys.first(0) && s.count(v, set)
		case "reasoning_tokens", "cached_tokens": // the other one: duplicates still go to encoding/json
			ok = keys.first(1) && s.Skip()
		default:
			ok = s.Skip()
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok
}

// count reads a token count: null leaves it unchanged; anything but an
// integer in 0..2^63-1 goes to the reference, which marks the usage bad.
func (s *scanner) count(v *int, set *bool) bool {
	if s.Null() {
		return true
	}
	n, ok := s.Int()
	if !ok || n < 0 {
		return false
	}
	*v = n
	if set != nil {
		*set = true
	}
	return true
}

// plainString reads a string that is its own value: no escapes, valid
// UTF-8 (others are left to encoding/json).
func (s *scanner) plainString() ([]byte, bool) {
	raw, utf8ok, ok := s.PlainString()
	return raw, ok && utf8ok
}
