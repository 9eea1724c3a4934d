package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

// Differential tests: the records must not tell which client, h1.Client or
// net/http (the client of proxied targets), carried the requests.

// client is one of the ways genload reads: its own HTTP/1.1 client with
// a goroutine per connection, net/http, or its own client on the read
// loop (h1.Loop: streamed answers on Linux; elsewhere the same as h1).
type client int

const (
	h1Goroutine client = iota
	netHTTPClient
	h1Loop
)

func (c client) String() string { return [...]string{"h1", "net/http", "h1-loop"}[c] }

// reads is the Config.Reads of c (the runs of these tests hold few
// streams: auto would never read on the loop).
func (c client) reads() string {
	if c == h1Loop {
		return ReadsLoop
	}
	return ReadsGoroutine
}

// bothPaths runs f with genload's own HTTP/1.1 client (reading on the
// requests' goroutines, then on the read loop) and with net/http.
func bothPaths(t *testing.T, f func(t *testing.T, mutate func(*Config))) {
	for _, c := range []client{h1Goroutine, netHTTPClient, h1Loop} {
		t.Run(c.String(), func(t *testing.T) {
			f(t, func(cfg *Config) { cfg.NetHTTP, cfg.Reads = c == netHTTPClient, c.reads() })
		})
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
// as Run builds them: two runs, so without their salts (SamePrompts).
func TestBothPathsSendTheSameRequest(t *testing.T) {
	for _, stream := range []bool{true, false} {
		var heads [2]string
		for i, netHTTP := range []bool{false, true} {
			got := make(chan string, 1)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go openaitest.CaptureRequest(ln, got)
			cfg := &Config{URL: "http://" + ln.Addr().String(), Model: "m", Requests: 1, Stream: stream, MaxTokens: 5,
				APIKey: "sk-k", Timeout: 5 * time.Second, NetHTTP: netHTTP, RunID: "r1", SamePrompts: true}
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
