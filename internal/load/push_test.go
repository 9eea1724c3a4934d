package load

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unsafe"

	"servebench/internal/h1"
	"servebench/internal/openai"
	"servebench/internal/record"
)

// pieceBody is a body read in the given pieces, one a read.
type pieceBody struct {
	pieces [][]byte
	next   int
	cur    []byte
}

func (b *pieceBody) Read(p []byte) (int, error) {
	for len(b.cur) == 0 {
		if b.next == len(b.pieces) {
			return 0, io.EOF
		}
		b.cur, b.next = b.pieces[b.next], b.next+1
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

func (b *pieceBody) FirstContent()    {}
func (b *pieceBody) Location() string { return "" }
func (b *pieceBody) Close(bool)       {}

// pushBody is a pieceBody whose pieces are pushed (as the read loop pushes
// its reads) until the sink stops; the rest is read.
type pushBody struct {
	pieceBody
	pushed int // pieces the sink took whole
}

func (b *pushBody) Push(s h1.Sink) bool {
	for b.next < len(b.pieces) {
		p := b.pieces[b.next]
		b.next++
		if !s.Body(p, time.Time{}, time.Now(), uint64(b.next)) {
			return true
		}
		b.pushed++
	}
	return true
}

// split cuts body into pieces of the given sizes (cycled; 0 is 1 byte).
func split(body []byte, sizes []byte) [][]byte {
	var pieces [][]byte
	for i, k := 0, 0; i < len(body); k++ {
		n := 1
		if len(sizes) > 0 {
			n = max(int(sizes[k%len(sizes)]), 1)
		}
		pieces = append(pieces, body[i:min(i+n, len(body))])
		i += n
	}
	return pieces
}

// readAs reads a stream body through readStream, pushed or not, and
// returns the record's fields that do not depend on the clock, with the
// error.
func readAs(body Body, maxBytes int64) string {
	a := &attempter{cfg: &Config{Stream: true, Endpoint: openai.EndpointCompletions, Timeout: time.Minute}, maxBytes: maxBytes}
	rec := &record.Record{MaxTokens: 64}
	now := time.Now()
	t := try{abort: context.Background(), deadline: now.Add(time.Minute), readBy: now.Add(time.Minute), resp: body}
	err := a.read(rec, &t, now)
	kind := ""
	if err != nil {
		kind, err = a.classify(&t, record.ErrStream, err)
		if k, ok := err.(*kindError); ok {
			kind, err = k.kind, k.err
		}
	}
	return fmt.Sprintf("err %v (%s)\ntokens %d prompt %d from %s, reasoning %d from %s, cached %d, tools %d, finish %q\nttft %v ttfo %v itl %d tpot %v times %s",
		err, kind, rec.OutputTokens, rec.PromptTokens, rec.TokensFrom, rec.ReasoningTokens, rec.ReasoningFrom, rec.CachedTokens,
		rec.ToolCalls, rec.FinishReason, rec.TTFTMs != nil, rec.TTFOMs != nil, len(rec.ITLMs), rec.TPOTMs != nil, rec.TimesFrom)
}

func checkPushedAsPulled(t *testing.T, body string, sizes []byte, maxBytes int64) {
	t.Helper()
	pull := readAs(&pieceBody{pieces: split([]byte(body), sizes)}, maxBytes)
	pb := &pushBody{pieceBody: pieceBody{pieces: split([]byte(body), sizes)}}
	push := readAs(pb, maxBytes)
	if push != pull {
		t.Fatalf("%q in pieces of %v (max %d bytes):\npushed: %s\npulled: %s", body, sizes, maxBytes, push, pull)
	}
}

const (
	vllmChunk = `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" a","logprobs":null,"finish_reason":null}]}` + "\n\n"
	vllmUsage = `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"","finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}` + "\n\n"
	doneChunk = "data: [DONE]\n\n"
)

var streamSamples = []string{
	strings.Repeat(vllmChunk, 4) + vllmUsage + doneChunk,
	strings.Repeat(vllmChunk, 3) + doneChunk,
	vllmChunk + ": keep-alive\n\n" + vllmChunk + doneChunk,
	"\xef\xbb\xbf" + vllmChunk + doneChunk,
	strings.ReplaceAll(vllmChunk+vllmChunk+doneChunk, "\n", "\r\n"),
	vllmChunk + "data: {\"choices\":\ndata: [{\"text\":\"x\"}]}\n\n" + doneChunk,
	vllmChunk + "data: {\"choices\":[{\"text\":\"x\"}]}\ndata: {\"choices\":[{\"text\":\"y\"}]}\n\n" + doneChunk,
	vllmChunk + "event: message\ndata: {\"choices\":[{\"text\":\"x\"}]}\n\n" + doneChunk,
	vllmChunk + `data: {"error":{"message":"boom","code":500}}` + "\n\n" + doneChunk,
	vllmChunk + "error: {\"message\":\"llama says no\"}\n\n",
	vllmChunk + "data: {not json}\n\n" + doneChunk,
	vllmChunk + vllmChunk,
	vllmChunk + "data: [DONE]",
	vllmChunk + "data:" + `{"choices":[{"text":"b"}]}` + "\n\n\n\n" + doneChunk,
	vllmChunk + "data: \n\n" + doneChunk,
	"<html>not a stream</html>",
	"",
	doneChunk,
	`data: {"choices":[{"delta":{"reasoning_content":"hm"}}]}` + "\n\n" + `data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f"}}]}}]}` + "\n\n" + doneChunk,
	"data: " + strings.Repeat("x", 20<<10) + "\n\n" + doneChunk,
	vllmChunk + "\r" + vllmChunk + doneChunk,
	vllmChunk + "\n" + doneChunk + vllmChunk,
}

// TestPushedAsPulled is the pushed parser's differential test: every
// sample stream, cut into pieces of 1 to 9 bytes and of whole events,
// under several byte limits, makes the same record and the same failure
// pushed (the loop's parser, then the pull readers from where it stopped)
// as read by the pull readers alone.
func TestPushedAsPulled(t *testing.T) {
	for _, body := range streamSamples {
		for _, sizes := range [][]byte{{1}, {2}, {3}, {5}, {7}, {9}, {255}, {byte(len(vllmChunk))}, {200, 3, 17}} {
			for _, max := range []int64{64 << 20, int64(len(body)), int64(len(body) - 1), 150, 10} {
				checkPushedAsPulled(t, body, sizes, max)
			}
		}
	}
	// The push did the work on a plain stream: the sink took every piece
	// but the last (the one with [DONE], after which it stops).
	pb := &pushBody{pieceBody: pieceBody{pieces: split([]byte(streamSamples[0]), []byte{byte(len(vllmChunk))})}}
	if got := readAs(pb, 64<<20); !strings.HasPrefix(got, "err <nil>") || pb.pushed != len(pb.pieces)-1 {
		t.Errorf("a plain stream: %d of %d pieces pushed: %s", pb.pushed, len(pb.pieces), got)
	}
}

func FuzzPushedAsPulled(f *testing.F) {
	for _, body := range streamSamples {
		f.Add(body, []byte{7, 1, 130}, int64(1<<20))
	}
	f.Fuzz(func(t *testing.T, body string, sizes []byte, maxBytes int64) {
		if maxBytes <= 0 || len(sizes) > 64 {
			return
		}
		checkPushedAsPulled(t, body, sizes, maxBytes)
	})
}

// Warm touches what Body reads of the reader, the body's counts last of
// all (an offset taken within the body rather than the reader once made
// it touch only the first line).
func TestWarmCoversWhatBodyReads(t *testing.T) {
	var rd reader
	end := unsafe.Offsetof(rd.body) + unsafe.Offsetof(rd.body.max) + unsafe.Sizeof(rd.body.max)
	if readerHot < end || readerHot > unsafe.Sizeof(rd) {
		t.Fatalf("Warm touches %d bytes of a reader; Body reads up to %d of its %d", readerHot, end, unsafe.Sizeof(rd))
	}
}
