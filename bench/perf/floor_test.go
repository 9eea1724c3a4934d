package main

import (
	"bytes"
	"testing"
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
