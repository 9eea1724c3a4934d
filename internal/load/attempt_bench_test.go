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
