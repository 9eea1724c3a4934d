package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"servebench/internal/cmdline"
)

// buildLLMSim builds the command once per test binary run.
func buildLLMSim(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "llmsim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var urlRE = regexp.MustCompile(`http://[^ ]*`)

// TestEndToEnd runs the binary as a script would: port 0, read the URL from
// the startup line, use it, stop with SIGTERM, expect exit 0.
func TestEndToEnd(t *testing.T) {
	bin := buildLLMSim(t)
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--ttft", "2ms", "--itl", "1ms", "--model", "e2e/model", "--quiet")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewReader(stderr)
	line, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the startup line: %v", err)
	}
	if !strings.HasPrefix(line, "llmsim: serving e2e/model on http://127.0.0.1:") {
		t.Fatalf("startup line %q", line)
	}
	base := urlRE.FindString(line)
	resp, err := http.Post(base+"/v1/completions", "application/json",
		strings.NewReader(`{"model":"e2e/model","prompt":"hi","max_tokens":4,"ignore_eos":true,"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(body), "data: "); resp.StatusCode != 200 || n != 5 {
		t.Errorf("status %d, %d events:\n%s", resp.StatusCode, n, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(lines)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v (stderr %q)", err, rest)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("llmsim did not exit after SIGTERM")
	}
	if len(rest) != 0 {
		t.Errorf("--quiet printed %q after the startup line", rest)
	}
}

func TestUsageErrors(t *testing.T) {
	bin := buildLLMSim(t)
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"--no-such-flag"}},
		{"bad duration", []string{"--ttft", "soon"}},
		{"invalid eos-prob", []string{"--eos-prob", "2", "--addr", "127.0.0.1:0"}},
		{"stray argument", []string{"serve"}},
		{"unknown fault", []string{"--fault", "http418=0.1"}},
		{"fault without rate", []string{"--fault", "reset"}},
		{"fault rate above 1", []string{"--fault", "reset=1.5", "--addr", "127.0.0.1:0"}},
		{"fault rates above 1 in all", []string{"--fault", "reset=0.6,stall=0.6", "--addr", "127.0.0.1:0"}},
		{"rates and a cycle", []string{"--fault", "reset=0.1", "--fault-cycle", "none,stall", "--addr", "127.0.0.1:0"}},
		{"unknown fault in the cycle", []string{"--fault-cycle", "none,bogus"}},
		{"slow-headers of 0", []string{"--fault-cycle", "slow-headers", "--slow-headers", "0", "--addr", "127.0.0.1:0"}},
		{"oversize of 0", []string{"--oversize-mib", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(bin, tt.args...).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Errorf("%v: %v, want exit status 2\n%s", tt.args, err, out)
			}
		})
	}
}

// TestRunInProcess: usage errors name the flag and exit 2; a cancelled
// context (the first SIGINT) ends serving with exit 0.
func TestRunInProcess(t *testing.T) {
	tests := []struct {
		args   []string
		code   cmdline.ExitCode
		stderr string
	}{
		{[]string{"--fault", "bogus=0.1"}, cmdline.ExitUsage, `llmsim: --fault: invalid configuration: unknown fault "bogus"`},
		{[]string{"--oversize-mib", "0"}, cmdline.ExitUsage, "--oversize-mib must be in 1.."},
		{[]string{"extra"}, cmdline.ExitUsage, "unexpected argument"},
		{[]string{"--nope"}, cmdline.ExitUsage, "see --help"},
		{[]string{"--reasoning-tokens-range", "9-3"}, cmdline.ExitUsage, `--reasoning-tokens-range: "9-3": want LO-HI`},
		{[]string{"--reasoning-tokens", "2", "--reasoning-tokens-range", "1-3"}, cmdline.ExitUsage, "exclude each other"},
		{[]string{"--reasoning-tokens", "-1"}, cmdline.ExitUsage, "reasoning-tokens must not be negative"},
		{[]string{"--reasoning-field", "thoughts"}, cmdline.ExitUsage, "reasoning-field must be reasoning, reasoning_content or both"},
		{[]string{"--tool-call-rate", "1.5"}, cmdline.ExitUsage, "tool-call-rate must be in [0, 1]"},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		if code := run(context.Background(), append([]string{"llmsim"}, tt.args...), nil, &out, &errOut); code != tt.code || !strings.Contains(errOut.String(), tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, errOut.String(), tt.code, tt.stderr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var errOut strings.Builder
	if code := run(ctx, []string{"llmsim", "--addr", "127.0.0.1:0"}, nil, io.Discard, &errOut); code != cmdline.ExitOK || !strings.Contains(errOut.String(), "llmsim: serving") {
		t.Errorf("serve then stop: exit %d, stderr %q", code, errOut.String())
	}
}

// FuzzParseRange: --reasoning-tokens-range never panics, and what it
// accepts is a range LO <= HI of non-negative counts that reads back.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"8-64", "0-0", "9-3", "-1-2", "1--2", "a-b", "", "-", "3", "99999999999999999999-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		lo, hi, err := parseRange(spec)
		if err != nil {
			return
		}
		if lo < 0 || hi < lo {
			t.Fatalf("%q: accepted %d-%d", spec, lo, hi)
		}
		if lo2, hi2, err := parseRange(strconv.Itoa(lo) + "-" + strconv.Itoa(hi)); err != nil || lo2 != lo || hi2 != hi {
			t.Fatalf("%q: %d-%d does not read back: %v", spec, lo, hi, err)
		}
	})
}
