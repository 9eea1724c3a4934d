package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// readH1 reads a response from data as Client does: head, then body.
func readH1(data []byte) (int, []byte, error) {
	conn := &conn{br: bufio.NewReaderSize(bytes.NewReader(data), readBuffer)}
	if err := conn.readResponse(&conn.resp); err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(&conn.resp)
	return conn.resp.Status, body, err
}

// readNetHTTP reads a response from data as net/http's Transport does:
// 1xx answers other than 101 skipped, at most 5.
func readNetHTTP(data []byte) (int, []byte, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	req := &http.Request{Method: http.MethodPost}
	for range 6 {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return 0, nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			if resp.StatusCode == http.StatusSwitchingProtocols {
				return resp.StatusCode, nil, nil // the exchange ends at the head
			}
			body, err := io.ReadAll(resp.Body)
			return resp.StatusCode, body, err
		}
	}
	return 0, nil, io.ErrUnexpectedEOF
}

// FuzzReadResponse: on any bytes, h1's response reader and net/http's
// agree: the same status and body, or both fail.
func FuzzReadResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil the end",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw",
		"HTTP/1.1 301 Moved\r\nLocation: https://x/\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"\x15\x03\x01\x00\x02\x02\x46",
		"\x00\x00\x12\x04\x00\x00\x00\x00\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, hb, herr := readH1(data)
		ns, nb, nerr := readNetHTTP(data)
		if (herr == nil) != (nerr == nil) {
			t.Fatalf("%q:\nh1: %d %q %v\nnet/http: %d %q %v", data, hs, hb, herr, ns, nb, nerr)
		}
		if herr == nil && (hs != ns || !bytes.Equal(hb, nb)) {
			t.Fatalf("%q:\nh1: %d %q\nnet/http: %d %q", data, hs, hb, ns, nb)
		}
	})
}

// TestLongHeads: heads up to 10 MiB are read, longer ones refused, as
// net/http's Transport does by default.
func TestLongHeads(t *testing.T) {
	for _, tt := range []struct {
		size int
		ok   bool
	}{{5 << 20, true}, {11 << 20, false}} {
		data := []byte("HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", tt.size) + "\r\nContent-Length: 2\r\n\r\nhi")
		_, body, err := readH1(data)
		if (err == nil) != tt.ok || tt.ok && string(body) != "hi" {
			t.Errorf("%d bytes: body %q, error %v", tt.size, body, err)
		}
		if !tt.ok && !strings.Contains(err.Error(), "server response headers exceeded 10485760 bytes") {
			t.Errorf("%d bytes: %v", tt.size, err)
		}
	}
}
