package openai

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Usage is the token accounting a server reports: the counts, and from
// its details objects the reasoning tokens
// (completion_tokens_details.reasoning_tokens, ReasoningSet when sent) and
// the prompt tokens served from the prefix cache
// (prompt_tokens_details.cached_tokens).
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	ReasoningTokens  int
	ReasoningSet     bool
	CachedTokens     int
}

// Event is one server-sent event of a completion stream.
type Event struct {
	// Done marks the "data: [DONE]" sentinel that ends a clean stream.
	Done bool
	// ContentBytes is the length of the answer's text in the chunk (text
	// or content): zero for vLLM's opening role chunk, the usage chunk and
	// keep-alives, which must not count as a token or start the TTFT clock.
	ContentBytes int
	// ReasoningBytes is the length of its reasoning text (reasoning, else
	// reasoning_content: never the two added).
	ReasoningBytes int
	// ToolCalls counts its tool_calls entries; ToolCallIDs those with an
	// id, which open a call (the later deltas carry argument fragments);
	// ToolCallIndex is 1 + the largest "index" among them (0: none), the
	// calls a stream has made so far.
	ToolCalls, ToolCallIDs, ToolCallIndex int
	FinishReason                          string
	// Usage is set when the chunk carries real counts. Ollama sends an
	// all-zero usage on every chunk; those are ignored. UsageBad marks a
	// usage whose counts are unusable (floats, strings, past int64).
	Usage    *Usage
	UsageBad bool
	// Err is the message of an {"error":...} event inside the stream.
	Err string
}

// ErrMalformed wraps a chunk or body that is not the JSON it should be.
var ErrMalformed = errors.New("malformed")

// StreamReader reads the events of an SSE completion stream, as the
// WHATWG HTML standard's event-stream parser does: lines end with CR, LF
// or CRLF; a leading BOM is dropped; lines starting with ":" are comments;
// the data lines of an event are joined with LF and the event is
// dispatched at the blank line that ends it (or, unlike the standard, at
// the end of the stream). It reuses its buffers: an Event's Usage is
// valid until the next call to Next.
type StreamReader struct {
	br    *bufio.Reader
	usage Usage
	data  []byte // the data lines of the event being read, joined with LF
	long  []byte // a line longer than the buffer, assembled
	// capture, when set, collects the text of the events (SetCapture).
	capture *Capture
	// hasData: a data line was read for the event; started: the first
	// line was read (a BOM can only come first); skipLF: the last line
	// ended with a CR at the end of the buffer, and an LF may follow.
	hasData, started, skipLF bool
}

// NewStreamReader reads events from r.
func NewStreamReader(r io.Reader) *StreamReader {
	return NewStreamReaderSize(r, 16<<10)
}

// NewStreamReaderSize reads events from r through a buffer of size bytes;
// longer lines are assembled, not refused.
func NewStreamReaderSize(r io.Reader, size int) *StreamReader {
	return &StreamReader{br: bufio.NewReaderSize(r, size)}
}

// Reset makes s read a new stream from r, keeping its buffer: a
// connection's next response reuses its reader.
func (s *StreamReader) Reset(r io.Reader) {
	s.br.Reset(r)
	s.usage = Usage{}
	s.data, s.long = s.data[:0], s.long[:0]
	s.hasData, s.started, s.skipLF = false, false, false
}

// Resume makes s read the rest of a stream whose start was read
// elsewhere (by a caller's own parser, up to an event's first line): no
// byte-order mark is looked for.
func (s *StreamReader) Resume(r io.Reader) {
	s.Reset(r)
	s.started = true
}

var (
	errorPrefix = []byte("error:")
	doneData    = []byte("[DONE]")
)

// Next returns the next event. At the end of the body it returns io.EOF if
// no [DONE] came: a stream that stops early is an error, not a short answer.
func (s *StreamReader) Next() (Event, error) {
	data, errLine, err := s.nextData()
	if err != nil {
		return Event{}, err
	}
	if errLine != nil {
		// Some llama.cpp server builds send a failure as an "error:"
		// line instead of a data event; it is an error all the same.
		msg := ErrorMessage(bytes.TrimSpace(errLine))
		if msg == "" {
			msg = "error line in stream"
		}
		return Event{Err: msg}, nil
	}
	return s.parse(bytes.TrimSpace(data))
}

// NextData returns the data of the next event unparsed, trimmed, for a
// stream whose events are not completion chunks (the Responses API's
// event:/data: pairs, which end without [DONE]): the lines are read as
// Next reads them. errMsg is set, and data nil, for llama.cpp's "error:"
// line. At the end of the body it returns io.EOF. data is valid until the
// next call.
func (s *StreamReader) NextData() (data []byte, errMsg string, err error) {
	data, errLine, err := s.nextData()
	if err != nil {
		return nil, "", err
	}
	if errLine != nil {
		if errMsg = ErrorMessage(bytes.TrimSpace(errLine)); errMsg == "" {
			errMsg = "error line in stream"
		}
		return nil, errMsg, nil
	}
	return bytes.TrimSpace(data), "", nil
}

// nextData returns the data of the next event, or the rest of an
// llama.cpp "error:" line (errLine, not nil).
func (s *StreamReader) nextData() (data, errLine []byte, err error) {
	for {
		line, err := s.readLine()
		if err != nil && (err != io.EOF || len(line) == 0) {
			if err == io.EOF && s.hasData {
				s.hasData = false
				return s.data, nil, nil // see the end of the loop
			}
			return nil, nil, err
		}
		if len(line) == 0 { // the end of an event
			if !s.hasData {
				continue
			}
			s.hasData = false
			return s.data, nil, nil
		}
		if bytes.HasPrefix(line, errorPrefix) {
			return nil, line[len(errorPrefix):], nil
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if !bytes.Equal(field, dataField) {
			continue // a comment (":..."), event:, id:, retry:, or unknown
		}
		value = bytes.TrimPrefix(value, []byte(" "))
		if s.hasData {
			s.data = append(s.data, '\n')
		} else {
			s.data = s.data[:0]
		}
		s.data = append(s.data, value...)
		s.hasData = true
		if err == io.EOF {
			// The spec drops an event that the end of the stream cuts
			// off; it is taken here, so that a server ending with
			// "data: [DONE]" and no blank line is not failed.
			s.hasData = false
			return s.data, nil, nil
		}
	}
}

// readLine returns the next line without its end (CR, LF or CRLF); it is
// valid until the next read. A last line without an end comes with io.EOF.
func (s *StreamReader) readLine() ([]byte, error) {
	s.long = s.long[:0]
	for {
		buf, err := s.br.Peek(1)
		if err != nil {
			if len(s.long) > 0 && err == io.EOF {
				return s.long, io.EOF
			}
			return nil, err
		}
		buf, _ = s.br.Peek(s.br.Buffered())
		if s.skipLF {
			s.skipLF = false
			if buf[0] == '\n' {
				_, _ = s.br.Discard(1)
				continue
			}
		}
		if !s.started {
			s.started = true
			if bytes.HasPrefix(buf, bom) {
				_, _ = s.br.Discard(len(bom))
				continue
			} else if len(buf) < len(bom) && bytes.HasPrefix(bom, buf) && s.fill(len(bom)) {
				s.started = false // maybe a BOM: look again with more bytes
				continue
			}
		}
		i := lineEnd(buf)
		if i < 0 {
			// No line end buffered: keep what came and read more.
			s.long = append(s.long, buf...)
			_, _ = s.br.Discard(len(buf))
			continue
		}
		line := buf[:i]
		n := i + 1
		if buf[i] == '\r' {
			if i+1 < len(buf) {
				if buf[i+1] == '\n' {
					n++
				}
			} else {
				s.skipLF = true
			}
		}
		_, _ = s.br.Discard(n)
		if len(s.long) > 0 {
			s.long = append(s.long, line...)
			return s.long, nil
		}
		return line, nil // still in the buffer: Discard does not reuse it
	}
}

// lineEnd is the index of buf's first CR or LF, or -1: two vectorized
// scans (IndexAny is a byte-at-a-time loop), the CR one only up to the LF.
func lineEnd(buf []byte) int {
	lf := bytes.IndexByte(buf, '\n')
	if lf < 0 {
		return bytes.IndexByte(buf, '\r')
	}
	if cr := bytes.IndexByte(buf[:lf], '\r'); cr >= 0 {
		return cr
	}
	return lf
}

// fill waits until n bytes are buffered; false when the stream ends first.
func (s *StreamReader) fill(n int) bool {
	buf, _ := s.br.Peek(n)
	return len(buf) == n
}

var (
	dataField = []byte("data")
	bom       = []byte("\xef\xbb\xbf")
)

func (s *StreamReader) parse(data []byte) (Event, error) {
	ev, err := ParseEvent(data, &s.usage, nil)
	if err == nil && s.capture != nil && (ev.ContentBytes > 0 || ev.ReasoningBytes > 0) {
		if err := s.capture.add(data); err != nil {
			return Event{}, fmt.Errorf("%w chunk: %v: %s", ErrMalformed, err, Clip(string(data)))
		}
	}
	return ev, err
}

// ParseEvent reads the data of one event, trimmed, as Next would return
// it (without a capture): for a parser that splits the lines itself
// (genload's pushed streams). The Event's Usage, when set, points to
// usage. p, when not nil, is the stream's Prefix: the bytes its chunks
// share are then scanned once.
func ParseEvent(data []byte, usage *Usage, p *Prefix) (Event, error) {
	if bytes.Equal(data, doneData) {
		return Event{Done: true}, nil
	}
	var chunk chunkInfo
	c := &chunk
	if err := parseChunkPrefix(data, c, p); err != nil {
		return Event{}, fmt.Errorf("%w chunk: %v: %s", ErrMalformed, err, Clip(string(data)))
	}
	if c.errorSet || c.objectError {
		msg, _ := StreamError(data)
		if msg == "" {
			msg = "error event in stream"
		}
		return Event{Err: msg}, nil
	}
	ev := Event{ContentBytes: c.contentBytes, ReasoningBytes: c.reasoningBytes, ToolCalls: c.toolCalls,
		ToolCallIDs: c.toolCallIDs, ToolCallIndex: c.toolCallIndex, FinishReason: c.finishReason, UsageBad: c.usageBad}
	if c.hasUsage && !c.usageBad && (c.usage.CompletionTokens > 0 || c.usage.PromptTokens > 0) {
		*usage = c.usage
		ev.Usage = usage
	}
	return ev, nil
}

// Capture collects the text of an answer, for a conversation to send back
// in its history: the content (a completion's text, a chat message's or
// delta's content) and the reasoning (reasoning, else reasoning_content),
// of every choice, in order. Only conversation requests capture: the text
// is decoded a second time, with encoding/json, and kept, where a plain
// request only counts its bytes without allocating.
type Capture struct {
	Content, Reasoning []byte
}

// Reset empties c, keeping its memory.
func (c *Capture) Reset() { c.Content, c.Reasoning = c.Content[:0], c.Reasoning[:0] }

// add appends the text of one chunk or whole body.
func (c *Capture) add(data []byte) error {
	var chunk chunkJSON
	if err := json.Unmarshal(data, &chunk); err != nil {
		return err
	}
	for i := range chunk.Choices {
		ch := &chunk.Choices[i]
		c.Content = append(c.Content, ch.Text...)
		for _, t := range []*textsJSON{&ch.Delta, &ch.Message} {
			c.Content = append(c.Content, t.Content...)
			if t.Reasoning != "" {
				c.Reasoning = append(c.Reasoning, t.Reasoning...)
			} else {
				c.Reasoning = append(c.Reasoning, t.ReasoningContent...)
			}
		}
	}
	return nil
}

// CaptureText appends the text of a whole (not streamed) response body to c.
func CaptureText(body []byte, c *Capture) error { return c.add(body) }

// SetCapture makes s collect the text of the events it reads into c (nil:
// none, the default); Reset keeps it.
func (s *StreamReader) SetCapture(c *Capture) { s.capture = c }

// Response is what a non-streaming completion carries: the answer's text,
// reasoning and tool calls (the message's calls) as Event counts them.
type Response struct {
	ContentBytes   int
	ReasoningBytes int
	ToolCalls      int
	FinishReason   string
	Usage          *Usage
	UsageBad       bool
	// ErrorShaped is set when the body has an "error" (not null), an
	// "object":"error" or a "detail" member: StreamError then tells
	// whether it is an error body, and its message. Without them it is not.
	ErrorShaped bool
}

// ParseResponse reads a non-streaming completion or chat completion body.
func ParseResponse(body []byte) (Response, error) {
	c, err := parseChunk(body)
	if err != nil {
		return Response{}, fmt.Errorf("%w response body: %v: %s", ErrMalformed, err, Clip(string(body)))
	}
	r := Response{ContentBytes: c.contentBytes, ReasoningBytes: c.reasoningBytes, ToolCalls: c.toolCalls,
		FinishReason: c.finishReason, UsageBad: c.usageBad,
		ErrorShaped: c.errorSet || c.objectError || c.detailSet}
	if c.hasUsage && !c.usageBad && (c.usage.CompletionTokens > 0 || c.usage.PromptTokens > 0) {
		u := c.usage
		r.Usage = &u
	}
	return r, nil
}
