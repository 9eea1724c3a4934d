package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"servebench/e2e/e2etest"
	"servebench/internal/cmdline"
	"servebench/internal/load"
	"servebench/internal/sim"
)

// newSim serves llmsim's engine in-process.
func newSim(t *testing.T, mutate func(*sim.Config)) string {
	t.Helper()
	cfg := sim.DefaultConfig()
	cfg.TTFT, cfg.ITL, cfg.Quiet = 2*time.Millisecond, time.Millisecond, true
	if mutate != nil {
		mutate(&cfg)
	}
	srv := httptest.NewServer(sim.New(cfg))
	t.Cleanup(srv.Close)
	return srv.URL
}

// genloadRun runs the program in-process.
func genloadRun(ctx context.Context, args ...string) (stdout, stderr string, code cmdline.ExitCode) {
	var out, errOut bytes.Buffer
	code = run(ctx, append([]string{"genload"}, args...), nil, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestRun: the whole program through its run function: records on stdout,
// the final line on stderr, usage errors with the flag named and nothing on
// stdout, the exit code of the one table.
func TestRun(t *testing.T) {
	url := newSim(t, nil)
	tests := []struct {
		name    string
		args    []string
		code    cmdline.ExitCode
		records int    // lines on stdout
		stderr  string // a substring
	}{
		{"serial run", []string{"--url", url, "-n", "3", "--max-tokens", "4"}, cmdline.ExitOK, 3, "3 requests, 0 failed"},
		{"sweep with warmup", []string{"--url", url, "-n", "2", "-c", "1,2", "--warmup", "1", "--max-tokens", "2"}, cmdline.ExitOK, 6, "6 requests"},
		{"quiet", []string{"--url", url, "-n", "1", "-q", "--max-tokens", "2"}, cmdline.ExitOK, 1, ""},
		{"bad endpoint", []string{"--url", url, "--endpoint", "embeddings"}, cmdline.ExitUsage, 0, `--endpoint "embeddings"`},
		{"bad list", []string{"--url", url, "-c", "1,x"}, cmdline.ExitUsage, 0, "--concurrency"},
		{"stray argument", []string{"--url", url, "extra"}, cmdline.ExitUsage, 0, "unexpected arguments"},
		{"unknown flag", []string{"--nope"}, cmdline.ExitUsage, 0, "see --help"},
		{"two keys", []string{"--url", url, "--api-key", "a", "--api-key-file", "/nonexistent"}, cmdline.ExitUsage, 0, "give --api-key or --api-key-file, not both"},
		{"key with a line break", []string{"--url", url, "--api-key", "sk-a\r\nX-Injected: 1"}, cmdline.ExitUsage, 0, "--api-key (or OPENAI_API_KEY): the API key has a control character"},
		{"port out of range", []string{"--url", "http://127.0.0.1:99999"}, cmdline.ExitUsage, 0, "port 99999 is not 1-65535"},
		{"two prompt sources", []string{"--url", url, "--prompt", "hi", "--input-tokens", "5"}, cmdline.ExitUsage, 0, "--prompt and --input-tokens cannot be used together: choose one of --prompt, --prompt-file, --sharegpt and --input-tokens"},
		{"range without length", []string{"--url", url, "--output-tokens-range", "0.5"}, cmdline.ExitUsage, 0, "--output-tokens-range needs --output-tokens"},
		{"missing prompt file", []string{"--url", url, "--prompt-file", "/nonexistent/p.txt"}, cmdline.ExitUsage, 0, "genload: --prompt-file: open /nonexistent/p.txt: no such file"},
		{"negative max-tokens names only it", []string{"--url", url, "--max-tokens", "-5"}, cmdline.ExitUsage, 0, "genload: --max-tokens -5: cannot be negative"},
		{"closed and open loop", []string{"--url", url, "-c", "2", "-r", "5"}, cmdline.ExitUsage, 0, "--concurrency is for closed-loop load; with --request-rate cap requests in flight with --max-concurrency"},
		{"bad arrival", []string{"--url", url, "-r", "5", "--arrival", "bursty"}, cmdline.ExitUsage, 0, `--arrival "bursty": want poisson, constant or gamma`},
		{"chat prompts on completions", []string{"--url", url, "--prompt-file", chatPrompts(t)}, cmdline.ExitFailure, 0, "use --endpoint chat"},
		{"model not served: nothing sent", []string{"--url", url, "--model", "nope", "-n", "3"}, cmdline.ExitNoModel, 0, `genload: model "nope" is not served; the server has: ` + sim.DefaultModel + ": nothing sent"},
		{"model not served, sent anyway", []string{"--url", url, "--model", "nope", "-n", "2", "--no-model-check"}, cmdline.ExitOK, 2, "2 requests, 2 failed"},
		{"success gate passes", []string{"--url", url, "-n", "3", "--max-tokens", "2", "--min-success-ratio", "1"}, cmdline.ExitOK, 3, "3 requests, 0 failed"},
		{"bad success ratio", []string{"--url", url, "--min-success-ratio", "1.5"}, cmdline.ExitUsage, 0, "--min-success-ratio 1.5: want a share"},
		{"dead server", []string{"--url", "http://127.0.0.1:1", "-n", "1"}, cmdline.ExitFailure, 0, "cannot list the served models"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := genloadRun(context.Background(), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			if n := strings.Count(out, "\n"); n != tt.records {
				t.Errorf("%d records, want %d", n, tt.records)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q, want %q", errOut, tt.stderr)
			}
			for _, rec := range e2etest.ReadRecords(t, strings.NewReader(out), "stdout") {
				if wantOK := !strings.Contains(tt.name, "sent anyway"); rec.OK != wantOK {
					t.Errorf("seq %d: ok %v (%s)", rec.Seq, rec.OK, rec.Error)
				}
			}
		})
	}
}

// chatPrompts writes a prompt file of chat messages.
func chatPrompts(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "chat.jsonl")
	if err := os.WriteFile(path, []byte(`{"messages":[{"role":"user","content":"hi"}]}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInterrupt: a first signal stops sending and lets requests in flight
// finish; the run exits 128+signal with a whole record per attempt.
func TestInterrupt(t *testing.T) {
	url := newSim(t, func(c *sim.Config) { c.TTFT = 100 * time.Millisecond })
	ctx, interrupt := cmdline.WithInterrupts(context.Background())
	var wg sync.WaitGroup
	var out, errOut string
	var code cmdline.ExitCode
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, errOut, code = genloadRun(ctx, "--url", url, "-n", "1000", "-c", "2", "--max-tokens", "2", "--grace", "5s")
	}()
	time.Sleep(500 * time.Millisecond)
	interrupt(syscall.SIGTERM)
	wg.Wait()
	if code != cmdline.ExitSIGTERM {
		t.Fatalf("exit %d, want %d; stderr %q", code, cmdline.ExitSIGTERM, errOut)
	}
	recs := e2etest.ReadRecords(t, strings.NewReader(out), "stdout")
	if len(recs) == 0 || len(recs) >= 1000 {
		t.Fatalf("%d records", len(recs))
	}
	for _, rec := range recs {
		if !rec.OK {
			t.Errorf("seq %d: %s (in flight must finish within --grace)", rec.Seq, rec.Error)
		}
	}
	if !strings.Contains(errOut, "no new requests; waiting up to 5s") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestFailuresCannotBeMissed: a load point where most requests failed is
// named on stderr with the kinds and the first message; with
// --min-success-ratio the run exits 13 after writing every record.
func TestFailuresCannotBeMissed(t *testing.T) {
	url := newSim(t, nil)
	out, errOut, code := genloadRun(context.Background(), "--url", url, "--model", "nope", "--no-model-check", "-n", "3", "-c", "1,2", "--min-success-ratio", "0.5")
	if code != cmdline.ExitFailedReqs {
		t.Fatalf("exit %d, want %d; stderr %s", code, cmdline.ExitFailedReqs, errOut)
	}
	if n := strings.Count(out, "\n"); n != 6 {
		t.Errorf("%d records, want 6", n)
	}
	for _, want := range []string{
		"genload: FAILURES concurrency 1: 3 of 3 requests failed (http 3); first errors: \"HTTP 404: The model `nope` does not exist.\"\n",
		"genload: FAILURES concurrency 2: 3 of 3 requests failed (http 3)",
		"genload: concurrency 2: 0 of 3 measured requests succeeded (0.000), below --min-success-ratio 0.5\n",
		"genload: 2 of 2 load points below --min-success-ratio 0.5\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestOpenFilesAdvice(t *testing.T) {
	cfg := &load.Config{Concurrencies: []int{8, 200}}
	if n := inFlight(cfg); n != 200 {
		t.Errorf("in flight %d", n)
	}
	got := openFilesAdvice(232, 64, 64)
	if !strings.Contains(got, "200 requests in flight need about 232 open files, and the limit is 64") || !strings.Contains(got, "ulimit -n 232") {
		t.Errorf("got %q", got)
	}
}
