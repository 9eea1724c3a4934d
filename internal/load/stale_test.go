package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

// runCounted runs cfg and returns its records, failing the test on a
// run error.
func runCounted(t *testing.T, cfg *Config) []record.Record {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), io.Discard); err != nil {
		t.Fatal(err)
	}
	var recs []record.Record
	rd := record.NewReader(&out, "out")
	for rd.Scan() {
		recs = append(recs, *rd.Record())
	}
	return recs
}

func failures(recs []record.Record) []string {
	var f []string
	for _, r := range recs {
		if !r.OK {
			f = append(f, fmt.Sprintf("seq %d: %s %s", r.Seq, r.ErrorKind, r.Error))
		}
	}
	return f
}

// idleTimeout answers with a Content-Length body and closes a connection
// idle for longer than idle, as a server's keep-alive timeout does,
// without a word (neither Connection: close nor Keep-Alive: timeout).
func idleTimeout(idle time.Duration, stream bool) handler {
	body := withLength("HTTP/1.1 200 OK\r\n", okJSON)
	if stream {
		body = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(okStream) + "0\r\n\r\n"
	}
	return func(c net.Conn, _ *bufio.Reader, _ *http.Request, _ int) bool {
		if _, err := io.WriteString(c, body); err != nil {
			return false
		}
		c.SetReadDeadline(time.Now().Add(idle))
		return true
	}
}

// TestStaleConnections: servers that close connections under the
// client's feet (after every answer without saying so, after short
// keep-alive timeouts, a stock net/http server with keep-alives off) cost
// no failed request in 200, on either client: a dead idle connection is
// not reused, and a request lost on one unanswered is sent again.
func TestStaleConnections(t *testing.T) {
	noKeepAlive := httptest.NewUnstartedServer(&openaitest.Server{Tokens: 2})
	noKeepAlive.Config.SetKeepAlivesEnabled(false)
	noKeepAlive.Start()
	t.Cleanup(noKeepAlive.Close)
	tests := []struct {
		name   string
		url    func(t *testing.T) string
		stream bool
		rate   float64
	}{
		{"close without saying", func(t *testing.T) string {
			return faultServer(t, nil, true, answer(withLength("HTTP/1.1 200 OK\r\n", okJSON), true))
		}, false, 0},
		{"close without saying, stream", func(t *testing.T) string {
			return faultServer(t, nil, true, answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk(okStream)+"0\r\n\r\n", true))
		}, true, 0},
		{"net/http, keep-alives off", func(*testing.T) string { return noKeepAlive.URL }, true, 0},
		{"keep-alive 5ms", func(t *testing.T) string { return faultServer(t, nil, true, idleTimeout(5*time.Millisecond, false)) }, false, 200},
		{"keep-alive 20ms, stream", func(t *testing.T) string { return faultServer(t, nil, true, idleTimeout(20*time.Millisecond, true)) }, true, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := tt.url(t)
			for _, netHTTP := range []bool{false, true} {
				cfg := &Config{URL: url, Model: "fake-model", Requests: 200, Concurrencies: []int{2}, Stream: tt.stream,
					Timeout: 5 * time.Second, NetHTTP: netHTTP, Seed: 1}
				if tt.rate > 0 {
					cfg.Concurrencies, cfg.Rates = nil, []float64{tt.rate}
				}
				recs := runCounted(t, cfg)
				if f := failures(recs); len(recs) != 200 || len(f) > 0 {
					t.Errorf("net/http %v: %d records, %d failed: %s", netHTTP, len(recs), len(f), strings.Join(f[:min(len(f), 5)], "; "))
				}
			}
		})
	}
}

// TestEarlyAnswer: a gateway that answers 413 after reading only the head
// of a request whose body it will not take, then closes, is recorded as
// its answer (http, 413, its message), not as the failed write. nginx
// closes lingering (it reads and drops the rest a while): both clients
// read that answer. A server that closes at once resets the connection
// under the write: net/http then reports the write's failure, h1 still
// reads the answer that came first.
func TestEarlyAnswer(t *testing.T) {
	const answer413 = "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Type: application/json\r\n"
	early := func(linger bool) handler {
		return func(c net.Conn, _ *bufio.Reader, _ *http.Request, _ int) bool {
			io.WriteString(c, withLength(answer413, `{"error":{"message":"prompt too long for this gateway"}}`))
			if tc, ok := c.(*net.TCPConn); ok && linger {
				tc.CloseWrite()
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				io.Copy(io.Discard, c)
			}
			return false
		}
	}
	for _, tt := range []struct {
		name    string
		linger  bool
		netHTTP bool
	}{{"h1, lingering close", true, false}, {"net/http, lingering close", true, true}, {"h1, close at once", false, false}} {
		url := faultServer(t, nil, false, early(tt.linger))
		cfg := &Config{URL: url, Model: "m", Requests: 3, Timeout: 5 * time.Second, NetHTTP: tt.netHTTP,
			Dataset: dataset.Config{InputTokens: 1 << 20}}
		for _, r := range runCounted(t, cfg) {
			if r.ErrorKind != record.ErrHTTP || r.Status != 413 || r.Error != "HTTP 413: prompt too long for this gateway" {
				t.Errorf("%s: seq %d: status %d kind %q error %q", tt.name, r.Seq, r.Status, r.ErrorKind, r.Error)
			}
		}
	}
}

// TestSlowEndAfterDone: a server that sends the body's last chunk 100 ms
// after [DONE] does not slow a closed loop down: the end is awaited off
// the worker's path.
func TestSlowEndAfterDone(t *testing.T) {
	const pause = 100 * time.Millisecond
	url := faultServer(t, nil, true, trickle(pause, true, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk(okStream), "0\r\n\r\n"))
	bothPaths(t, func(t *testing.T, path func(*Config)) {
		cfg := &Config{URL: url, Model: "m", Requests: 10, Stream: true, Timeout: 5 * time.Second}
		path(cfg)
		start := time.Now()
		recs := runCounted(t, cfg)
		if f := failures(recs); len(f) > 0 {
			t.Fatal(f)
		}
		if took := time.Since(start); took > 5*pause {
			t.Errorf("10 requests took %v: the worker waited for the end after [DONE]", took)
		}
	})
}

// TestReusesTLSConnections: the liveness check looks at the socket under
// TLS without mistaking what TLS itself sends (session tickets) for an
// unasked answer: a worker keeps its one connection.
func TestReusesTLSConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(&openaitest.Server{Tokens: 3})
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	clientTLS := srv.Client().Transport.(*http.Transport).TLSClientConfig
	for _, stream := range []bool{true, false} {
		conns.Store(0)
		cfg := &Config{URL: srv.URL, Model: "fake-model", Requests: 20, Stream: stream, Timeout: 5 * time.Second, TLS: clientTLS}
		if f := failures(runCounted(t, cfg)); len(f) > 0 {
			t.Fatal(f)
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("stream=%v: %d TLS connections for 1 worker", stream, n)
		}
	}
}
