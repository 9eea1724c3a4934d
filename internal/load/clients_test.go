package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"servebench/internal/openai"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

// Differential tests: the records must not tell which client, h1.Client or
// net/http (the client of proxied targets), carried the requests.

// bothPaths runs f with genload's own HTTP/1.1 client and with net/http.
func bothPaths(t *testing.T, f func(t *testing.T, mutate func(*Config))) {
	for _, p := range []struct {
		name    string
		netHTTP bool
	}{{"h1", false}, {"net/http", true}} {
		t.Run(p.name, func(t *testing.T) { f(t, func(c *Config) { c.netHTTP = p.netHTTP }) })
	}
}

func TestBothPathsFailuresAreRecords(t *testing.T) {
	tests := []struct{ mode, kind, msg string }{
		{openaitest.FaultHTTP500, record.ErrHTTP, "HTTP 500: boom"},
		{openaitest.FaultErrorEvent, record.ErrStream, "error event in stream: engine failed"},
		{openaitest.FaultNoDone, record.ErrStream, "stream ended before [DONE]"},
		{openaitest.FaultReset, record.ErrStream, "stream broke: "},
		{openaitest.FaultStall, record.ErrTimeout, "response not finished within the request timeout (300ms)"},
		{openaitest.FaultNoContent, record.ErrProtocol, "stream ended cleanly but carried no content"},
		{openaitest.FaultJSON200, record.ErrProtocol, "no server-sent events in the response: does this server stream?"},
	}
	bothPaths(t, func(t *testing.T, path func(*Config)) {
		for _, tt := range tests {
			f := &openaitest.Server{Tokens: 3, ITL: time.Millisecond, Fault: tt.mode}
			recs, _, err := runFake(t, f, func(c *Config) { path(c); c.Timeout = 300 * time.Millisecond; c.Requests = 2 })
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.OK || r.ErrorKind != tt.kind || !strings.HasPrefix(r.Error, tt.msg) {
					t.Errorf("%s: kind %q error %q, want %q %q", tt.mode, r.ErrorKind, r.Error, tt.kind, tt.msg)
				}
			}
		}
	})
}

// TestBothPathsSendTheSameRequest compares the requests of both clients,
// as Run builds them.
func TestBothPathsSendTheSameRequest(t *testing.T) {
	for _, stream := range []bool{true, false} {
		var heads [2]string
		for i, netHTTP := range []bool{false, true} {
			got := make(chan string, 1)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					got <- err.Error()
					return
				}
				body, _ := io.ReadAll(req.Body)
				var b bytes.Buffer
				fmt.Fprintf(&b, "%s %s %s host-ok=%v len=%d\n", req.Method, req.RequestURI, req.Proto, req.Host == ln.Addr().String(), req.ContentLength)
				req.Header.Write(&b)
				b.Write(body)
				got <- b.String()
				io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
			}()
			cfg := &Config{URL: "http://" + ln.Addr().String(), Model: "m", Requests: 1, Stream: stream, MaxTokens: 5,
				APIKey: "sk-k", Timeout: 5 * time.Second, netHTTP: netHTTP}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if _, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(io.Discard), io.Discard); err != nil {
				t.Fatal(err)
			}
			heads[i] = <-got
			ln.Close()
		}
		if heads[0] != heads[1] {
			t.Errorf("stream=%v:\nh1:\n%s\nnet/http:\n%s", stream, heads[0], heads[1])
		}
	}
}

// TestReusesConnectionsPerWorker: streams (ended by [DONE] before the last
// chunk of the body) and whole responses alike reuse one connection per
// worker: the attempter closes its responses for reuse.
func TestReusesConnectionsPerWorker(t *testing.T) {
	for _, stream := range []bool{true, false} {
		f := &openaitest.Server{Tokens: 3, ITL: time.Millisecond}
		srv, conns := openaitest.CountingServer(t, f)
		cfg := &Config{URL: srv.URL, Model: "fake-model", Requests: 20, Concurrencies: []int{2}, Stream: stream, Timeout: 5 * time.Second}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		res, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), io.Discard)
		if err != nil || res.Failed != 0 {
			t.Fatalf("err %v, result %+v: %s", err, res, out.String())
		}
		if n := conns.Load(); n != 2 {
			t.Errorf("stream=%v: %d connections for 2 workers", stream, n)
		}
	}
}

// rawServer answers every request on a connection with answer(n), n
// counting the requests it read, until answer returns ""; with closeAfter
// it closes the connection after each answer.
func rawServer(t *testing.T, closeAfter bool, answer func(n int) string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	n := 0
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
					mu.Lock()
					n++
					a := answer(n)
					mu.Unlock()
					if a == "" {
						return
					}
					if _, err := io.WriteString(c, a); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestBothPathsResponseFraming: well-framed answers of every kind succeed,
// and broken ones fail with the same kind and message on both clients.
func TestBothPathsResponseFraming(t *testing.T) {
	const ok = `{"choices":[{"text":"a b","finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }
	stream := "data: " + `{"choices":[{"text":"a"}]}` + "\n\ndata: [DONE]\n\n"
	tests := []struct {
		name, answer string
		close        bool // the server closes the connection after answering
		stream       bool
		kind         string // "": success
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: " + fmt.Sprint(len(ok)) + "\r\n\r\n" + ok, false, false, ""},
		{"lowercase headers, close", "HTTP/1.1 200 OK\r\ncontent-length: " + fmt.Sprint(len(ok)) + "\r\nconnection: close\r\n\r\n" + ok, true, false, ""},
		{"HTTP/1.0 until close", "HTTP/1.0 200 OK\r\n\r\n" + ok, true, false, ""},
		{"100 Continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: " + fmt.Sprint(len(ok)) + "\r\n\r\n" + ok, false, false, ""},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(ok[:10]) + chunk(ok[10:]) + "0\r\nX-T: 1\r\n\r\n", false, false, ""},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n" + ok, true, false, record.ErrStream},
		{"stream", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(stream) + "0\r\n\r\n", false, true, ""},
		{"stream cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(stream[:20]), true, true, record.ErrStream},
		{"stream stalls", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(stream[:20]), false, true, record.ErrTimeout},
		{"bad chunking", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true, true, record.ErrStream},
		{"gzip encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", true, false, record.ErrConnect},
		{"bad status line", "HTTP/1.1 2000 OK\r\n\r\n", true, false, record.ErrConnect},
		{"no header end", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", true, false, record.ErrConnect},
		{"closed at once", "", true, false, record.ErrConnect},
	}
	for _, tt := range tests {
		url := rawServer(t, tt.close, func(int) string { return tt.answer })
		var got [2][]string
		for i, netHTTP := range []bool{false, true} {
			cfg := &Config{URL: url, Model: "m", Requests: 3, Stream: tt.stream, Timeout: 300 * time.Millisecond, netHTTP: netHTTP}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if _, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), io.Discard); err != nil {
				t.Fatal(err)
			}
			rd := record.NewReader(&out, "out")
			for rd.Scan() {
				r := rd.Record()
				got[i] = append(got[i], fmt.Sprintf("%d %s %q tokens=%d", r.Status, r.ErrorKind, r.Error, r.OutputTokens))
				if r.ErrorKind != tt.kind || (tt.kind == "" && r.OutputTokens == 0) {
					t.Errorf("%s (net/http %v): seq %d kind %q error %q tokens %d, want kind %q", tt.name, netHTTP, r.Seq, r.ErrorKind, r.Error, r.OutputTokens, tt.kind)
				}
			}
		}
		if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
			t.Errorf("%s:\nh1:\n%s\nnet/http:\n%s", tt.name, strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
		}
	}
}

func TestBothPathsConnectErrors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	bothPaths(t, func(t *testing.T, path func(*Config)) {
		cfg := &Config{URL: "http://" + addr, Model: "m", Requests: 2, Timeout: 2 * time.Second}
		path(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), io.Discard)
		want := fmt.Sprintf(`"error_kind":"connect","error":"dial tcp %s: connect: connection refused"`, addr)
		if strings.Count(out.String(), want) != 2 {
			t.Errorf("got %s\nwant %s", out.String(), want)
		}
	})
}

// TestTLSRecords: a certificate that cannot be verified is a connect failure.
func TestTLSRecords(t *testing.T) {
	f := &openaitest.Server{Tokens: 3}
	srv := httptest.NewTLSServer(f)
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	for _, trust := range []bool{true, false} {
		var tlsCfg *tls.Config
		if trust {
			var err error
			if tlsCfg, err = openai.TLSConfig(ca, false); err != nil {
				t.Fatal(err)
			}
		}
		cfg := &Config{URL: srv.URL, Model: "fake-model", Requests: 4, Concurrencies: []int{2}, Stream: true, Timeout: 5 * time.Second, TLS: tlsCfg}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		res, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case trust && res.Failed != 0:
			t.Errorf("with the CA: %s", out.String())
		case !trust && (res.Failed != 4 || !strings.Contains(out.String(), `"error_kind":"connect","error":"tls: failed to verify certificate`)):
			t.Errorf("without the CA: %s", out.String())
		}
	}
}
