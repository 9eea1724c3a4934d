package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"
)

// cannedServer answers every request with the same bytes, allocating
// nothing per request, so that a benchmark's allocations are the client's.
func cannedServer(b *testing.B, answer []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveCanned(c, answer)
		}
	}()
	return "http://" + ln.Addr().String()
}

func serveCanned(c net.Conn, answer []byte) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 16<<10)
	for {
		length := 0
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				break
			}
			if name, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("content-length")) {
				length = 0
				for _, d := range bytes.TrimSpace(v) {
					length = length*10 + int(d-'0')
				}
			}
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		if _, err := c.Write(answer); err != nil {
			return
		}
	}
}

// cannedAnswer is a 200 response of 16 tokens: an SSE stream (chunked,
// one chunk per event, as vLLM sends) or a whole JSON body.
func cannedAnswer(stream bool) []byte {
	var b bytes.Buffer
	if !stream {
		body := `{"choices":[{"text":"a b c d e f g h i j k l m n o p","finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":16,"total_tokens":20}}`
		fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return b.Bytes()
	}
	b.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := func(s string) { fmt.Fprintf(&b, "%x\r\n%s\r\n", len(s), s) }
	for range 16 {
		chunk(`data: {"choices":[{"index":0,"text":" a","finish_reason":null}]}` + "\n\n")
	}
	chunk(`data: {"choices":[{"index":0,"text":"","finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":16,"total_tokens":20}}` + "\n\n")
	chunk("data: [DONE]\n\n")
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// BenchmarkAttempt is one request attempt (attempter.do) against a canned
// local server, with each client, streaming and not: the client's cost per
// request, and its allocations (a record and its ITL slice are expected).
func BenchmarkAttempt(b *testing.B) {
	for _, client := range []struct {
		name    string
		netHTTP bool
	}{{"h1", false}, {"nethttp", true}} {
		for _, stream := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/stream=%v", client.name, stream), func(b *testing.B) {
				benchAttempt(b, client.netHTTP, stream)
			})
		}
	}
}

func benchAttempt(b *testing.B, netHTTP, stream bool) {
	url := cannedServer(b, cannedAnswer(stream))
	cfg := &Config{URL: url, Model: "m", Requests: 1, Stream: stream, MaxTokens: 16, Timeout: 5 * time.Second, NetHTTP: netHTTP}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	a, done := benchAttempter(b, cfg)
	defer done()
	body := fmt.Appendf(nil, `{"model":"m","prompt":"hello","max_tokens":16,"stream":%v}`, stream)
	j := job{phase: "measure", point: cfg.Points[0], prompt: &Prompt{MaxTokens: 16, Body: body}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		j.scheduledAt = time.Now()
		if rec := a.do(ctx, j); !rec.OK || rec.OutputTokens != 16 {
			b.Fatalf("record %+v", rec)
		}
	}
}

// benchAttempter builds the attempter as Run does.
func benchAttempter(b *testing.B, cfg *Config) (*attempter, func()) {
	hc := NewHTTPClient(1, cfg.ConnectTimeout, cfg.TLS)
	a, closeIdle, err := newAttempter(cfg, hc, context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return a, func() {
		closeIdle()
		hc.CloseIdleConnections()
	}
}

// cannedResponses is a 200 /v1/responses stream of 16 text deltas in
// vLLM's shape (its opening and closing events included), chunked an
// event a chunk.
func cannedResponses() []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	seq := 0
	event := func(typ, fields string) {
		s := fmt.Sprintf("event: %s\ndata: {%s,\"sequence_number\":%d,\"type\":%q}\n\n", typ, fields, seq, typ)
		seq++
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(s), s)
	}
	response := `"response":{"id":"resp_1","object":"response","output":[],"status":"in_progress","usage":null}`
	event("response.created", response)
	event("response.in_progress", response)
	event("response.output_item.added", `"item":{"id":"msg_1","content":[],"role":"assistant","status":"in_progress","type":"message"},"output_index":0`)
	event("response.content_part.added", `"content_index":0,"item_id":"msg_1","output_index":0,"part":{"annotations":[],"text":"","type":"output_text","logprobs":[]}`)
	for range 16 {
		event("response.output_text.delta", `"content_index":0,"delta":" a","item_id":"msg_1","logprobs":[],"output_index":0`)
	}
	event("response.output_text.done", `"content_index":0,"item_id":"msg_1","output_index":0,"text":" a a a a a a a a a a a a a a a a"`)
	event("response.completed", `"response":{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[],`+
		`"usage":{"input_tokens":4,"input_tokens_details":{"cached_tokens":0},"output_tokens":16,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":20}}`)
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// BenchmarkAttemptResponses is BenchmarkAttempt's streamed attempt on
// /v1/responses: its events are read by NextData and the responses
// parser instead of the chunk parser.
func BenchmarkAttemptResponses(b *testing.B) {
	url := cannedServer(b, cannedResponses())
	cfg := &Config{URL: url, Model: "m", Endpoint: "responses", Requests: 1, Stream: true, MaxTokens: 16, Timeout: 5 * time.Second}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	a, done := benchAttempter(b, cfg)
	defer done()
	body := []byte(`{"model":"m","input":"hello","max_output_tokens":16,"stream":true}`)
	j := job{phase: "measure", point: cfg.Points[0], prompt: &Prompt{MaxTokens: 16, Body: body}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		j.scheduledAt = time.Now()
		if rec := a.do(ctx, j); !rec.OK || rec.OutputTokens != 16 || rec.FinishReason != "length" {
			b.Fatalf("record %+v", rec)
		}
	}
}
