package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeepTail: the Go floor finds an answer's end wherever the reads cut
// it, and never where it is not.
func TestKeepTail(t *testing.T) {
	answer := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata: \r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")
	for cut := 1; cut < len(answer); cut++ {
		for step := 1; step <= 9; step++ {
			var tail []byte
			ends := 0
			for i := 0; i < len(answer); {
				n := step
				if i < cut {
					n = min(n, cut-i)
				}
				n = min(n, len(answer)-i)
				tail = keepTail(tail, answer[i:i+n])
				if bytes.Equal(tail, chunkedEnd) {
					ends++
					if i+n != len(answer) {
						t.Fatalf("cut %d step %d: an end found at %d of %d", cut, step, i+n, len(answer))
					}
				}
				i += n
			}
			if ends != 1 {
				t.Fatalf("cut %d step %d: %d ends found, want 1", cut, step, ends)
			}
		}
	}
}

// TestLoopReaderCountsAnswers: the Go loop floor reads every answer of
// every stream, against a server that answers in small chunks.
func TestLoopReaderCountsAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	answer := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					c.Write([]byte(answer))
					for range 5 {
						time.Sleep(time.Millisecond)
						c.Write([]byte("7\r\ndata: x\r\n"))
					}
					c.Write([]byte("0\r\n\r\n"))
				}
			}()
		}
	}()
	var answers, reads atomic.Int64
	req := []byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
	if err := loopReads(ln.Addr().String(), 3, 2, req, &answers, &reads); err != nil {
		t.Fatal(err)
	}
	if answers.Load() != 6 || reads.Load() < 6 {
		t.Errorf("%d answers in %d reads, want 6 answers", answers.Load(), reads.Load())
	}
}
