package load

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

// TestOnePathSameRecords runs one table of answers, good and broken,
// through the one request path (attempter.do) with each Doer, and requires
// the same records from both: kinds, messages, token counts.
func TestOnePathSameRecords(t *testing.T) {
	tests := []struct {
		name   string
		server *openaitest.Server
		mutate func(*Config)
		abort  time.Duration // the run ends this long after the request is sent
		kind   string        // "": success
		msg    string        // the message's start
	}{
		{name: "stream", server: &openaitest.Server{Tokens: 4}},
		{name: "whole body", server: &openaitest.Server{Tokens: 4}, mutate: func(c *Config) { c.Stream = false }},
		{name: "HTTP 500", server: &openaitest.Server{Tokens: 2, Fault: openaitest.FaultHTTP500}, kind: record.ErrHTTP, msg: "HTTP 500: boom"},
		{name: "error event", server: &openaitest.Server{Tokens: 3, Fault: openaitest.FaultErrorEvent}, kind: record.ErrStream, msg: "error event in stream: engine failed"},
		{name: "no [DONE]", server: &openaitest.Server{Tokens: 3, Fault: openaitest.FaultNoDone}, kind: record.ErrStream, msg: "stream ended before [DONE]"},
		{name: "reset", server: &openaitest.Server{Tokens: 3, Fault: openaitest.FaultReset}, kind: record.ErrStream, msg: "stream broke: "},
		{name: "no content", server: &openaitest.Server{Tokens: 3, Fault: openaitest.FaultNoContent}, kind: record.ErrProtocol, msg: "stream ended cleanly but carried no content"},
		{name: "JSON for a stream", server: &openaitest.Server{Tokens: 3, Fault: openaitest.FaultJSON200}, kind: record.ErrProtocol, msg: "no server-sent events"},
		{name: "stall", server: &openaitest.Server{Tokens: 3, Fault: openaitest.FaultStall},
			mutate: func(c *Config) { c.Timeout = 200 * time.Millisecond }, kind: record.ErrTimeout, msg: "response not finished within the request timeout (200ms)"},
		{name: "first token late", server: &openaitest.Server{Tokens: 3, TTFT: 400 * time.Millisecond},
			mutate: func(c *Config) { c.FirstTokenTimeout = 100 * time.Millisecond }, kind: record.ErrTimeout, msg: "no content within the first-token timeout (100ms)"},
		{name: "first token in time, then slow", server: &openaitest.Server{Tokens: 4, TTFT: 20 * time.Millisecond, ITL: 60 * time.Millisecond},
			mutate: func(c *Config) { c.FirstTokenTimeout = 100 * time.Millisecond }},
		{name: "too large", server: &openaitest.Server{Tokens: 20},
			mutate: func(c *Config) { c.MaxResponseBytes = 300 }, kind: record.ErrProtocol, msg: "response too large (over 300 bytes)"},
		{name: "too large, whole body", server: &openaitest.Server{Tokens: 20},
			mutate: func(c *Config) { c.MaxResponseBytes = 100; c.Stream = false }, kind: record.ErrProtocol, msg: "response too large (over 100 bytes)"},
		{name: "run interrupted", server: &openaitest.Server{Tokens: 3, TTFT: 2 * time.Second},
			abort: 50 * time.Millisecond, kind: record.ErrCanceled, msg: "run interrupted before the response ended"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(tt.server)
		var got [2]string
		for i, netHTTP := range []bool{false, true} {
			cfg := &Config{URL: srv.URL, Model: "fake-model", Requests: 1, Stream: true, MaxTokens: tt.server.Tokens,
				Timeout: 5 * time.Second, APIKey: "sk-k", NetHTTP: netHTTP}
			if tt.mutate != nil {
				tt.mutate(cfg)
			}
			rec := doOnce(t, cfg, tt.abort)
			got[i] = recordOutcome(rec)
			if rec.ErrorKind != tt.kind || !strings.HasPrefix(rec.Error, tt.msg) || rec.OK != (tt.kind == "") {
				t.Errorf("%s (net/http %v): %s, want kind %q error %q...", tt.name, netHTTP, got[i], tt.kind, tt.msg)
			}
		}
		if got[0] != got[1] {
			t.Errorf("%s:\nh1:       %s\nnet/http: %s", tt.name, got[0], got[1])
		}
		srv.Close()
	}
}

// TestOnePathConnectRefused: nobody listening is the same connect record
// from both clients.
func TestOnePathConnectRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	var got [2]string
	for i, netHTTP := range []bool{false, true} {
		cfg := &Config{URL: "http://" + addr, Model: "m", Requests: 1, Timeout: time.Second, NetHTTP: netHTTP}
		got[i] = recordOutcome(doOnce(t, cfg, 0))
	}
	want := fmt.Sprintf("status=0 ok=false kind=connect error=%q", "dial tcp "+addr+": connect: connection refused")
	for i, g := range got {
		if !strings.HasPrefix(g, want) {
			t.Errorf("client %d: %s, want %s...", i, g, want)
		}
	}
}

// doOnce validates cfg and makes one attempt through a new attempter;
// with abort, the run's context ends that long after.
func doOnce(t *testing.T, cfg *Config, abort time.Duration) *record.Record {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	run, cancel := context.WithCancel(context.Background())
	defer cancel()
	if abort > 0 {
		time.AfterFunc(abort, cancel)
	}
	hc := NewHTTPClient(1, cfg.ConnectTimeout, cfg.TLS)
	defer hc.CloseIdleConnections()
	a, closeIdle, err := newAttempter(cfg, hc, run)
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdle()
	body := fmt.Appendf(nil, `{"model":%q,"prompt":"hi","max_tokens":%d,"stream":%v}`, cfg.Model, cfg.MaxTokens, cfg.Stream)
	j := job{phase: record.PhaseMeasure, point: cfg.Points[0], prompt: &Prompt{MaxTokens: cfg.MaxTokens, Body: body}, scheduledAt: time.Now()}
	return a.do(run, j)
}

// recordOutcome is what a record says of its request, less the timings
// and the client's port number.
func recordOutcome(r *record.Record) string {
	return localAddr.ReplaceAllString(fmt.Sprintf("status=%d ok=%v kind=%s error=%q tokens=%d/%d from=%s finish=%q itl=%d ttft=%v",
		r.Status, r.OK, r.ErrorKind, r.Error, r.PromptTokens, r.OutputTokens, r.TokensFrom, r.FinishReason, len(r.ITLMs), r.TTFTMs != nil), "127.0.0.1:PORT->")
}

var localAddr = regexp.MustCompile(`127\.0\.0\.1:[0-9]+->`)
