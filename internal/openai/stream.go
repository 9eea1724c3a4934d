package openai

import (
	"bufio"
	"bytes"
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

// StreamReader reads the events of an SSE completion stream. It reuses its
// buffers: an Event's Usage is valid until the next call to Next.
type StreamReader struct {
	br    *bufio.Reader
	usage Usage
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
}

var (
	dataPrefix  = []byte("data:")
	errorPrefix = []byte("error:")
	doneData    = []byte("[DONE]")
)

// Next returns the next event. At the end of the body it returns io.EOF if
// no [DONE] came: a stream that stops early is an error, not a short answer.
func (s *StreamReader) Next() (Event, error) {
	for {
		line, err := s.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			line, err = s.readLong(line)
		}
		if err != nil && (err != io.EOF || len(line) == 0) {
			return Event{}, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(line, errorPrefix) {
			// Some llama.cpp server builds send a failure as an "error:"
			// line instead of a data event; it is an error all the same.
			msg := ErrorMessage(bytes.TrimSpace(line[len(errorPrefix):]))
			if msg == "" {
				msg = "error line in stream"
			}
			return Event{Err: msg}, nil
		}
		if !bytes.HasPrefix(line, dataPrefix) {
			continue // blank separator, comment (":"), event: or id: field
		}
		return s.parse(bytes.TrimSpace(line[len(dataPrefix):]))
	}
}

// readLong assembles a line longer than the reader's buffer.
func (s *StreamReader) readLong(first []byte) ([]byte, error) {
	line := append([]byte(nil), first...)
	for {
		frag, err := s.br.ReadSlice('\n')
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

func (s *StreamReader) parse(data []byte) (Event, error) {
	if bytes.Equal(data, doneData) {
		return Event{Done: true}, nil
	}
	var chunk chunkInfo
	c := &chunk
	if err := parseChunkTo(data, c); err != nil {
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
		s.usage = c.usage
		ev.Usage = &s.usage
	}
	return ev, nil
}

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
