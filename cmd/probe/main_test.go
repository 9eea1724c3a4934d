package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"servebench/internal/cmdline"
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
		{"bad endpoint", []string{"--url", ready.URL, "--endpoint", "embeddings"}, cmdline.ExitUsage, "", `--endpoint "embeddings"`},
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
