package h1

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai"
	"servebench/internal/openai/openaitest"
)

// header is what genload sends with a streaming request.
func header() http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Accept": {"text/event-stream"}, "Authorization": {"Bearer sk-k"}}
}

func requestBody(stream bool) []byte {
	return fmt.Appendf(nil, `{"model":"fake-model","prompt":"hi","max_tokens":3,"stream":%v}`, stream)
}

func newClient(t *testing.T, url string, cfg Config) *Client {
	t.Helper()
	if cfg.Header == nil {
		cfg.Header = header()
	}
	if cfg.MaxIdle == 0 {
		cfg.MaxIdle = 4
	}
	cfg.ConnectTimeout = 5 * time.Second
	c, err := New(url, cfg, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	return c
}

// roundTrip sends one request and reads the whole response.
func roundTrip(c *Client, stream bool) (int, string, error) {
	return roundTripID(c, stream, "")
}

// roundTripID is roundTrip with an X-Request-Id.
func roundTripID(c *Client, stream bool, requestID string) (int, string, error) {
	deadline := time.Now().Add(5 * time.Second)
	resp, err := c.Do(requestBody(stream), requestID, deadline, deadline)
	if err != nil {
		return 0, "", err
	}
	b, err := io.ReadAll(resp)
	resp.Close(true)
	return resp.Status, string(b), err
}

// TestSendsWhatNetHTTPSends compares the requests of Client and net/http
// (without compression, as genload uses it), given the same header and
// request id: genload's own header, and one with --header's kind of
// additions (a User-Agent of the user's, a gateway's key header).
func TestSendsWhatNetHTTPSends(t *testing.T) {
	extra := header()
	extra.Set("User-Agent", "bench/1.0")
	extra.Set("Api-Key", "k")
	for _, tt := range []struct {
		header    http.Header
		requestID string
	}{{header(), ""}, {header(), "20261201T120000Z-ab12cd-7"}, {extra, "r-1"}} {
		var heads [2]string
		for i := range heads {
			got := make(chan string, 1)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go openaitest.CaptureRequest(ln, got)
			url := "http://" + ln.Addr().String() + "/v1/completions"
			if i == 0 {
				roundTripID(newClient(t, url, Config{Header: tt.header}), true, tt.requestID)
			} else {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(requestBody(true)))
				req.Header = tt.header.Clone()
				if tt.requestID != "" {
					req.Header.Set("X-Request-Id", tt.requestID)
				}
				hc := &http.Client{Transport: &http.Transport{DisableCompression: true}} // as genload's
				if resp, err := hc.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			heads[i] = <-got
			ln.Close()
		}
		if heads[0] != heads[1] {
			t.Errorf("h1:\n%s\nnet/http:\n%s", heads[0], heads[1])
		}
	}
}

// TestReusesConnections: streams (whose [DONE] comes before the body's
// last chunk, read by Close's drain) and whole responses alike reuse one
// connection.
func TestReusesConnections(t *testing.T) {
	for _, stream := range []bool{true, false} {
		srv, conns := openaitest.CountingServer(t, &openaitest.Server{Tokens: 3})
		c := newClient(t, srv.URL+"/v1/completions", Config{})
		for range 10 {
			if status, b, err := roundTrip(c, stream); status != 200 || err != nil {
				t.Fatalf("stream=%v: status %d, error %v: %s", stream, status, err, b)
			}
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("stream=%v: %d connections for 10 requests in turn", stream, n)
		}
	}
}

// TestServerClosesIdleConnections: a server that drops idle connections
// (uvicorn's keep-alive) costs a new connection, never a failed request.
func TestServerClosesIdleConnections(t *testing.T) {
	srv := httptest.NewUnstartedServer(&openaitest.Server{Tokens: 2})
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Start()
	defer srv.Close()
	c := newClient(t, srv.URL+"/v1/completions", Config{})
	for i := range 4 {
		if status, b, err := roundTrip(c, true); status != 200 || err != nil {
			t.Fatalf("request %d: status %d, error %v: %s", i, status, err, b)
		}
		time.Sleep(60 * time.Millisecond)
	}
}

// TestRunEndCancels: the end of the run's context ends a request waiting
// for its answer at once, whatever its deadline.
func TestRunEndCancels(t *testing.T) {
	srv := httptest.NewServer(&openaitest.Server{Tokens: 2, TTFT: 10 * time.Second})
	defer srv.Close()
	run, cancel := context.WithCancel(context.Background())
	c, err := New(srv.URL+"/v1/completions", Config{Header: header(), ConnectTimeout: time.Second, MaxIdle: 1}, run)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	deadline := start.Add(10 * time.Second)
	if resp, err := c.Do(requestBody(true), "", deadline, deadline); err == nil {
		_, err = io.ReadAll(resp)
		resp.Close(false)
		if err == nil {
			t.Fatal("the request ended without an error")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("canceled after %v", d)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(&openaitest.Server{Tokens: 3})
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	tlsCfg, err := openai.TLSConfig(ca, false)
	if err != nil {
		t.Fatal(err)
	}
	trusted := newClient(t, srv.URL+"/v1/completions", Config{TLS: tlsCfg})
	if status, b, err := roundTrip(trusted, true); status != 200 || err != nil || !strings.Contains(b, "[DONE]") {
		t.Errorf("with the CA: status %d, error %v: %s", status, err, b)
	}
	untrusted := newClient(t, srv.URL+"/v1/completions", Config{})
	if _, _, err := roundTrip(untrusted, true); err == nil || !strings.HasPrefix(err.Error(), "tls: failed to verify certificate") {
		t.Errorf("without the CA: error %v", err)
	}
}

// TestCloseWaitsForTheLastChunk: after a stream's [DONE], Close waits a
// moment for the body's last chunk, which servers write when their handler
// returns: one that comes a few milliseconds later keeps the connection;
// one that does not come within drainWait loses it, and Close returns.
func TestCloseWaitsForTheLastChunk(t *testing.T) {
	for _, c := range []struct {
		lag   time.Duration
		conns int64
	}{{0, 1}, {2 * time.Millisecond, 1}, {10 * drainWait, 3}} {
		srv, conns := openaitest.CountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: [DONE]\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(c.lag) // then the handler returns: net/http writes the last chunk
		}))
		client := newClient(t, srv.URL+"/v1/completions", Config{})
		for i := range 3 {
			deadline := time.Now().Add(5 * time.Second)
			resp, err := client.Do(requestBody(true), "", deadline, deadline)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, len("data: [DONE]\n\n"))
			if _, err := io.ReadFull(resp, buf); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			resp.Close(true)
			if waited := time.Since(start); waited > drainWait+time.Second {
				t.Errorf("lag %v, request %d: Close waited %v", c.lag, i, waited)
			}
		}
		if n := conns.Load(); n != c.conns {
			t.Errorf("last chunk %v after [DONE]: %d connections for 3 requests, want %d", c.lag, n, c.conns)
		}
	}
}
