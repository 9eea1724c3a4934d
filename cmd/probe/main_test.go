package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/probe"
)

// TestRun runs the whole program in-process: flags, the exit code of the
// one table, the JSON report and the stderr line.
func TestRun(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close() // nothing listens there now
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			w.Write([]byte(`{"object":"list","data":[{"id":"m","object":"model"}]}`))
		}
	}))
	defer ready.Close()
	loading := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer loading.Close()
	locked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer locked.Close()
	tests := []struct {
		name   string
		args   []string
		code   cmdline.ExitCode
		status string // of the JSON report; "" when none is written
		stderr string
	}{
		{"unreachable", []string{"--url", url, "--timeout", "1s", "--json"}, cmdline.ExitUnreachable, "unreachable", "probe: unreachable: is the server running"},
		{"loading: the advice names --wait", []string{"--url", loading.URL, "--json"}, cmdline.ExitNotReady, "not_ready", "loading the model; try --wait 10m"},
		{"key rejected: the advice names the key flags", []string{"--url", locked.URL, "--json"}, cmdline.ExitAuth, "auth_rejected", "set it with --api-key, --api-key-file or OPENAI_API_KEY"},
		{"ready", []string{"--url", ready.URL, "--json"}, cmdline.ExitOK, "ready", "probe: ready"},
		{"model not served", []string{"--url", ready.URL, "--model", "other", "--json"}, cmdline.ExitNoModel, "model_not_served", "probe: model_not_served"},
		{"bad endpoint", []string{"--url", ready.URL, "--endpoint", "images"}, cmdline.ExitUsage, "", `--endpoint "images"`},
		{"stray argument", []string{"extra"}, cmdline.ExitUsage, "", "unexpected arguments"},
		{"unknown flag", []string{"--nope"}, cmdline.ExitUsage, "", "see --help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"probe"}, tt.args...), nil, &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			if tt.status != "" {
				var rep struct {
					Status   string `json:"status"`
					ExitCode int    `json:"exit_code"`
				}
				if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Status != tt.status || rep.ExitCode != int(tt.code) {
					t.Fatalf("JSON report %s (%v)", out.String(), err)
				}
			} else if out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			if !strings.Contains(errOut.String(), tt.stderr) || strings.Contains(errOut.String(), "\x1b[") {
				t.Errorf("stderr %q, want %q without colour", errOut.String(), tt.stderr)
			}
		})
	}
}

// TestHelpListsExitCodes: --help prints the table's rows for probe.
func TestHelpListsExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"probe", "--help"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range exitCodes {
		if !strings.Contains(out.String(), c.Meaning()) {
			t.Errorf("--help lacks %d %q", c, c.Meaning())
		}
	}
}

// TestWaitingTalks: a --wait says what it waits for: once a minute in a
// log, at every try (redrawn) on a terminal.
func TestWaitingTalks(t *testing.T) {
	rep := &probe.Report{URL: "http://h:8000", Status: "not_ready", Message: "HTTP 503: loading"}
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var log strings.Builder
	w := waiting(&log, false, now)
	for i := range 130 { // a try a second for 130 s
		w(rep, time.Duration(600-i)*time.Second)
		clock = clock.Add(time.Second)
	}
	want := "probe: waiting for http://h:8000: not_ready (HTTP 503: loading), 10m0s left\n" +
		"probe: waiting for http://h:8000: not_ready (HTTP 503: loading), 9m0s left\n" +
		"probe: waiting for http://h:8000: not_ready (HTTP 503: loading), 8m0s left\n"
	if log.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), want)
	}
	var term strings.Builder
	w = waiting(&term, true, now)
	w(rep, 5*time.Second)
	w(rep, 4*time.Second)
	if got := term.String(); strings.Count(got, "\r\x1b[K") != 2 || !strings.HasSuffix(got, "4s left") {
		t.Errorf("terminal: %q", got)
	}
}

// TestWaitThenReady: the program waits through a loading server's 503s,
// saying so, then reports ready.
func TestWaitThenReady(t *testing.T) {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if time.Since(start) < 600*time.Millisecond {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/v1/models" {
			w.Write([]byte(`{"data":[{"id":"m"}]}`))
		}
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"probe", "--url", srv.URL, "--wait", "10s", "--interval", "100ms"}, nil, &out, &errOut)
	if code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "probe: waiting for "+srv.URL+": not_ready (") ||
		!strings.Contains(lines[0], "s left") || !strings.HasPrefix(lines[1], "probe: ready") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
}
