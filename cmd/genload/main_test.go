package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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
		{"bad endpoint", []string{"--url", url, "--endpoint", "images"}, cmdline.ExitUsage, 0, `--endpoint "images"`},
		{"batch size for chat", []string{"--url", url, "--endpoint", "chat", "--batch-size", "4"}, cmdline.ExitUsage, 0, "--batch-size is for --endpoint embeddings"},
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
		{"stop rule window alone", []string{"--url", url, "--error-window", "5"}, cmdline.ExitUsage, 0, "--error-window is the window of --max-error-rate"},
		{"stop rule rate of 1", []string{"--url", url, "--max-error-rate", "1"}, cmdline.ExitUsage, 0, "--max-error-rate 1: want a share"},
		{"search without slo", []string{"--url", url, "--search", "rate"}, cmdline.ExitUsage, 0, "--search needs --slo"},
		{"slo without search", []string{"--url", url, "--slo", "ttft=5"}, cmdline.ExitUsage, 0, "--slo is a setting of the capacity search"},
		{"search and a load", []string{"--url", url, "--search", "concurrency", "--slo", "ttft=5", "-c", "2"}, cmdline.ExitUsage, 0, "leave out --concurrency"},
		{"search bad dim", []string{"--url", url, "--search", "users", "--slo", "ttft=5"}, cmdline.ExitUsage, 0, `--search "users": want rate or concurrency`},
		{"search bad slo", []string{"--url", url, "--search", "rate", "--slo", "itl=5"}, cmdline.ExitUsage, 0, "--slo \"itl=5\": no ITL objective"},
		{"search ratio 1", []string{"--url", url, "--search", "rate", "--slo", "ttft=5", "--min-goodput-ratio", "1"}, cmdline.ExitUsage, 0, "--min-goodput-ratio 1: want a share above 0 and below 1"},
		{"search bounds", []string{"--url", url, "--search", "rate", "--slo", "ttft=5", "--search-min", "5", "--search-max", "2"}, cmdline.ExitUsage, 0, "--search-min 5 and --search-max 2"},
		{"search precision", []string{"--url", url, "--search", "rate", "--slo", "ttft=5", "--search-precision", "0%"}, cmdline.ExitUsage, 0, "--search-precision \"0%\""},
		{"closed and open loop", []string{"--url", url, "-c", "2", "-r", "5"}, cmdline.ExitUsage, 0, "--concurrency is for closed-loop load; with --request-rate cap requests in flight with --max-concurrency"},
		{"bad arrival", []string{"--url", url, "-r", "5", "--arrival", "bursty"}, cmdline.ExitUsage, 0, `--arrival "bursty": want poisson, constant or gamma`},
		{"chat prompts on completions", []string{"--url", url, "--prompt-file", chatPrompts(t)}, cmdline.ExitFailure, 0, "use --endpoint chat"},
		{"model not served: nothing sent", []string{"--url", url, "--model", "nope", "-n", "3"}, cmdline.ExitNoModel, 0, `genload: model "nope" is not served; the server has: ` + sim.DefaultModel + ": nothing sent"},
		{"model not served, sent anyway", []string{"--url", url, "--model", "nope", "-n", "2", "--no-model-check"}, cmdline.ExitOK, 2, "2 requests, 2 failed"},
		{"success gate passes", []string{"--url", url, "-n", "3", "--max-tokens", "2", "--min-success-ratio", "1"}, cmdline.ExitOK, 3, "3 requests, 0 failed"},
		{"bad success ratio", []string{"--url", url, "--min-success-ratio", "1.5"}, cmdline.ExitUsage, 0, "--min-success-ratio 1.5: want a share"},
		{"dead server", []string{"--url", "http://127.0.0.1:1", "-n", "1"}, cmdline.ExitFailure, 0, "cannot list the served models"},
		{"bad tokenize", []string{"--url", url, "--tokenize", "maybe"}, cmdline.ExitUsage, 0, `genload: --tokenize "maybe": want auto, on or off`},
		{"tokenize on, llmsim tokenizes", []string{"--url", url, "-n", "2", "--input-tokens", "20", "--tokenize", "on", "--max-tokens", "1"}, cmdline.ExitOK, 2, "2 requests, 0 failed"},
		{"reset prefix cache", []string{"--url", url, "-n", "2", "--max-tokens", "1", "--reset-prefix-cache"}, cmdline.ExitOK, 2, "2 requests, 0 failed"},
		{"conversation sessions", []string{"--url", url, "--endpoint", "chat", "--turns", "2", "--input-tokens", "4", "--max-tokens", "2", "-n", "2", "-c", "2"}, cmdline.ExitOK, 4, "4 requests, 0 failed"},
		{"conversation file", []string{"--url", url, "--endpoint", "chat", "--conversations", conversationFile(t, `{"turns":["a b","c",{"content":"d","max_tokens":1}]}`), "--max-tokens", "2", "-n", "1"}, cmdline.ExitOK, 3, "3 requests"},
		{"bad conversation line: nothing sent", []string{"--url", url, "--conversations", conversationFile(t, `{"turns":["a"]}`+"\n"+`{"turns":["b",""]}`)}, cmdline.ExitUsage, 0, ":2: turn 2 is empty"},
		{"missing conversation file", []string{"--url", url, "--conversations", "/nonexistent/c.jsonl"}, cmdline.ExitUsage, 0, "genload: --conversations: open /nonexistent/c.jsonl"},
		{"turns without lengths", []string{"--url", url, "--turns", "3"}, cmdline.ExitUsage, 0, "--turns makes synthetic conversations: give --input-tokens"},
		{"think time without sessions", []string{"--url", url, "--think-time", "2s"}, cmdline.ExitUsage, 0, "--think-time is for conversations: give --conversations or --turns"},
		{"bad think time", []string{"--url", url, "--turns", "2", "--input-tokens", "3", "--think-time", "normal:2s"}, cmdline.ExitUsage, 0, `--think-time "normal:2s": unknown distribution normal`},
		{"framing session header", []string{"--url", url, "--turns", "2", "--input-tokens", "3", "--session-header", "content-length"}, cmdline.ExitUsage, 0, "--session-header content-length: genload's HTTP client sets it itself"},
		{"bad session header", []string{"--url", url, "--turns", "2", "--input-tokens", "3", "--session-header", "a b"}, cmdline.ExitUsage, 0, `--session-header "a b" is not a header name`},
		{"trace replayed whole", []string{"--url", url, "--trace", conversationFile(t, `{"timestamp":1,"input_length":3,"output_length":2}`+"\n"+`{"timestamp":3,"input_length":4,"output_length":2}`)}, cmdline.ExitOK, 2, "2 requests, 0 failed"},
		{"trace with a rate", []string{"--url", url, "--trace", "x.jsonl", "-r", "3"}, cmdline.ExitUsage, 0, "--trace sends at the trace's times: not with --concurrency or --request-rate"},
		{"trace with lengths", []string{"--url", url, "--trace", conversationFile(t, `{"offset_ms":0,"input_tokens":3,"output_tokens":2}`), "--input-tokens", "5"}, cmdline.ExitUsage, 0, "--trace gives the prompts and their lengths"},
		{"bad trace line", []string{"--url", url, "--trace", conversationFile(t, `{"offset_ms":0,"input_tokens":3}`)}, cmdline.ExitUsage, 0, ":1: no output_tokens"},
		{"missing trace", []string{"--url", url, "--trace", "/nonexistent/t.jsonl"}, cmdline.ExitUsage, 0, "genload: --trace: open /nonexistent/t.jsonl"},
		{"time scale alone", []string{"--url", url, "--time-scale", "2"}, cmdline.ExitUsage, 0, "--trace-format and --time-scale are for --trace"},
		{"prefix groups", []string{"--url", url, "--input-tokens", "4", "--shared-prefix-tokens", "3", "--prefix-groups", "2", "--prefix-mix", "zipf:1.1", "-n", "3", "--max-tokens", "2"}, cmdline.ExitOK, 3, "3 requests, 0 failed"},
		{"prefix groups without a prefix", []string{"--url", url, "--prefix-groups", "2"}, cmdline.ExitUsage, 0, "--prefix-groups needs --shared-prefix-tokens"},
		{"bad prefix mix", []string{"--url", url, "--shared-prefix-tokens", "3", "--prefix-groups", "2", "--prefix-mix", "zipf"}, cmdline.ExitUsage, 0, `--prefix-mix "zipf": zipf takes an exponent`},
		{"conversations of embeddings", []string{"--url", url, "--endpoint", "embeddings", "--turns", "2", "--input-tokens", "3"}, cmdline.ExitUsage, 0, "conversations are for --endpoint chat or completions"},
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

// conversationFile writes a conversation file.
func conversationFile(t *testing.T, lines string) string {
	path := filepath.Join(t.TempDir(), "conv.jsonl")
	if err := os.WriteFile(path, []byte(lines+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
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

// bodies serves llmsim's engine and keeps every completion request's body.
func bodies(t *testing.T) (url string, got func() []map[string]any) {
	t.Helper()
	var mu sync.Mutex
	var seen []map[string]any
	h := sim.New(func() sim.Config {
		c := sim.DefaultConfig()
		c.TTFT, c.ITL, c.Quiet = time.Millisecond, time.Millisecond, true
		return c
	}())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			data, _ := io.ReadAll(r.Body)
			var b map[string]any
			if err := json.Unmarshal(data, &b); err != nil {
				t.Errorf("body %s: %v", data, err)
			}
			mu.Lock()
			seen = append(seen, b)
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []map[string]any { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }
}

// TestExtraBody: --extra-body, the sampling flags and a prompt line's own
// fields reach the body, merged in that order; genload's own fields stay
// its own.
func TestExtraBody(t *testing.T) {
	url, got := bodies(t)
	file := filepath.Join(t.TempDir(), "tools.jsonl")
	line := `{"messages":[{"role":"user","content":"weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}],"temperature":0.1}` + "\n"
	if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := genloadRun(context.Background(), "--url", url, "--endpoint", "chat", "-n", "2", "--max-tokens", "4", "--prompt-file", file,
		"--extra-body", `{"chat_template_kwargs":{"enable_thinking":false},"stream_options":{"continuous_usage_stats":true},"temperature":0.9}`,
		"--temperature", "0.5", "--top-k", "20", "--sampling-seed", "7")
	if code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	bs := got()
	if len(bs) != 2 {
		t.Fatalf("%d bodies", len(bs))
	}
	b := bs[0]
	kwargs, _ := b["chat_template_kwargs"].(map[string]any)
	opts, _ := b["stream_options"].(map[string]any)
	if kwargs["enable_thinking"] != false || opts["include_usage"] != true || opts["continuous_usage_stats"] != true ||
		b["temperature"] != 0.1 || b["top_k"] != 20.0 || b["seed"] != 7.0 || b["tools"] == nil || b["max_tokens"] != 4.0 || b["model"] != sim.DefaultModel {
		t.Errorf("body %v", b)
	}
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"--extra-body", "[1]"}, "--extra-body: not a JSON object"},
		{[]string{"--extra-body", `{"max_tokens":5}`}, `--extra-body sets "max_tokens", which genload sets and records itself`},
		{[]string{"--extra-body", "@/nonexistent.json"}, "--extra-body: open /nonexistent.json"},
	} {
		_, errOut, code := genloadRun(context.Background(), append([]string{"--url", url}, tt.args...)...)
		if code != cmdline.ExitUsage || !strings.Contains(errOut, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, errOut)
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
