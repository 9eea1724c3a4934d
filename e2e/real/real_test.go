// Package real runs the built binaries in pipes against a real inference
// engine, to catch what tests against our own simulator cannot: usage
// counted differently, roles repeated in chat deltas, errors sent as plain
// JSON on a streaming request.
//
// The tests run only when SERVEBENCH_REAL_URL names a server. make test-real
// starts one (scripts/real_engine.sh: Ollama built from source, serving a
// tiny generated model) and sets it; to test another server:
//
//	SERVEBENCH_REAL_URL=http://127.0.0.1:11434 SERVEBENCH_MODEL=llama3.2:1b go test -count=1 -v ./e2e/real
//
// SERVEBENCH_REAL_EOS_FREE=1 says the model never stops before max_tokens
// (the generated model does not), so output counts are checked exactly;
// otherwise they are checked against max_tokens as an upper bound.
// The binaries are taken from SERVEBENCH_BIN (default: the repository's
// bin/, which make build fills).
package real

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/e2e/e2etest"
	"servebench/internal/record"
)

// server is the engine under test.
type server struct {
	url     string
	model   string
	eosFree bool
	bin     string
}

// target returns the server, or skips the test when none is set.
func target(t *testing.T) server {
	t.Helper()
	url := os.Getenv("SERVEBENCH_REAL_URL")
	if url == "" {
		t.Skip("SERVEBENCH_REAL_URL is not set: make test-real starts a real engine and sets it")
	}
	s := server{url: url, model: os.Getenv("SERVEBENCH_MODEL"), eosFree: os.Getenv("SERVEBENCH_REAL_EOS_FREE") == "1"}
	if s.model == "" {
		s.model = "tiny:latest"
	}
	s.bin = os.Getenv("SERVEBENCH_BIN")
	if s.bin == "" {
		s.bin = filepath.Join("..", "..", "bin")
	}
	abs, err := filepath.Abs(s.bin)
	if err != nil {
		t.Fatal(err)
	}
	s.bin = abs
	for _, tool := range []string{"probe", "genload", "summarize"} {
		if _, err := os.Stat(filepath.Join(s.bin, tool)); err != nil {
			t.Fatalf("%s: %v (run make build, or set SERVEBENCH_BIN)", tool, err)
		}
	}
	return s
}

// sh runs a bash pipeline with the binaries first on PATH, the server in
// $URL and the model in $MODEL, and returns stdout, stderr and the exit code.
func (s server) sh(t *testing.T, timeout time.Duration, script string) (string, string, int) {
	t.Helper()
	return e2etest.Sh(t, s.bin, []string{"URL=" + s.url, "MODEL=" + s.model}, timeout, script)
}

// readRecords parses a file of JSON lines, failing on a bad line.
func readRecords(t *testing.T, path string) []record.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return e2etest.ReadRecords(t, f, path)
}

type probeReport struct {
	Status   string   `json:"status"`
	ExitCode int      `json:"exit_code"`
	Message  string   `json:"message"`
	Model    string   `json:"model"`
	Models   []string `json:"models"`
	SmokeMs  *float64 `json:"smoke_ms"`
}

func TestProbe(t *testing.T) {
	s := target(t)
	cases := []struct {
		name     string
		flags    string
		exit     int
		status   string
		hasSmoke bool
	}{
		// Ready, the model served, a 1-token completion answered.
		{"smoke completions", `--model "$MODEL" --smoke`, 0, "ready", true},
		{"smoke chat", `--model "$MODEL" --smoke --endpoint chat`, 0, "ready", true},
		// No --model: any model will do, the first is reported.
		{"any model", ``, 0, "ready", false},
		// A model the server does not have: exit 5 at once, with the list.
		{"unknown model", `--model no-such-model:latest --wait 30s`, 5, "model_not_served", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := s.sh(t, time.Minute, `probe --url "$URL" --json `+c.flags)
			if code != c.exit {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.exit, stderr)
			}
			var rep probeReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("probe --json: %v: %s", err, out)
			}
			if rep.Status != c.status || rep.ExitCode != c.exit {
				t.Errorf("status %q (exit_code %d), want %q (%d)", rep.Status, rep.ExitCode, c.status, c.exit)
			}
			if !slices.Contains(rep.Models, s.model) {
				t.Errorf("models %q: %q missing", rep.Models, s.model)
			}
			if c.hasSmoke != (rep.SmokeMs != nil && *rep.SmokeMs > 0) {
				t.Errorf("smoke_ms %v, want one: %v", rep.SmokeMs, c.hasSmoke)
			}
			if c.exit == 5 && !strings.Contains(rep.Message, s.model) {
				t.Errorf("message %q does not list the served %q", rep.Message, s.model)
			}
		})
	}
}

// summaryGroup holds the summarize --format json keys the tests check.
type summaryGroup struct {
	Label            string   `json:"label"`
	Requests         int      `json:"requests"`
	OK               int      `json:"ok"`
	Failed           int      `json:"failed"`
	ErrorsHTTP       int      `json:"errors_http"`
	OutputTokens     int      `json:"output_tokens"`
	TokensFromChunks int      `json:"tokens_from_chunks"`
	ReqPerS          float64  `json:"req_per_s"`
	OutputTokPerS    float64  `json:"output_tok_per_s"`
	TTFTMedianMs     *float64 `json:"ttft_median_ms"`
	ITLMedianMs      *float64 `json:"itl_median_ms"`
	TPOTMedianMs     *float64 `json:"tpot_median_ms"`
	LatencyMedianMs  *float64 `json:"latency_median_ms"`
}

type summary struct {
	Groups   []summaryGroup `json:"groups"`
	Records  int            `json:"records"`
	BadLines int            `json:"bad_lines"`
}

// maxITLMedianMs bounds the median gap between tokens of the generated
// model, which decodes a token in about half a millisecond on one core; 50 ms
// leaves room for a busy machine and 4 requests decoded together. (Ollama
// relays tokens in bursts: many gaps are a few microseconds, so the median
// is far below the mean.)
const maxITLMedianMs = 50

// TestLoad sends load of every shape through genload | tee | summarize and
// checks every record: token counts from the server's usage, timings present
// and plausible, and the summary agreeing with the records.
func TestLoad(t *testing.T) {
	s := target(t)
	cases := []struct {
		name        string
		endpoint    string
		stream      bool
		concurrency int
		requests    int
		maxTokens   int
	}{
		{"completions stream serial", "completions", true, 1, 6, 16},
		{"chat stream serial", "chat", true, 1, 6, 16},
		{"completions whole serial", "completions", false, 1, 4, 16},
		{"chat whole concurrent", "chat", false, 4, 8, 16},
		{"completions stream concurrent", "completions", true, 4, 8, 32},
		{"chat stream concurrent", "chat", true, 4, 8, 32},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := filepath.Join(t.TempDir(), "runs.jsonl")
			script := fmt.Sprintf(`genload --url "$URL" --model "$MODEL" --endpoint %s --stream=%v -c %d -n %d --warmup 1 `+
				`--max-tokens %d --ignore-eos --timeout 60s --label %q --prompt 'Tell me about the benchmark results today' `+
				`| tee %q | summarize --format json`,
				c.endpoint, c.stream, c.concurrency, c.requests, c.maxTokens, c.name, raw)
			out, stderr, code := s.sh(t, 3*time.Minute, script)
			if code != 0 {
				t.Fatalf("exit %d; stderr: %s", code, stderr)
			}
			recs := readRecords(t, raw)
			if len(recs) != c.requests+1 {
				t.Fatalf("%d records, want %d (with the warmup)", len(recs), c.requests+1)
			}
			for _, r := range recs {
				checkRecord(t, s, r, c.stream, c.maxTokens)
			}
			var sum summary
			if err := json.Unmarshal([]byte(out), &sum); err != nil {
				t.Fatalf("summarize --format json: %v: %s", err, out)
			}
			if len(sum.Groups) != 1 || sum.BadLines != 0 {
				t.Fatalf("%d groups, %d bad lines; want 1, 0", len(sum.Groups), sum.BadLines)
			}
			g := sum.Groups[0]
			if g.Requests != c.requests || g.OK != c.requests || g.Failed != 0 || g.TokensFromChunks != 0 {
				t.Errorf("summary: %d requests, %d ok, %d failed, %d counted from chunks; want %d ok, all from usage",
					g.Requests, g.OK, g.Failed, g.TokensFromChunks, c.requests)
			}
			if s.eosFree && g.OutputTokens != c.requests*c.maxTokens {
				t.Errorf("summary: %d output tokens, want %d", g.OutputTokens, c.requests*c.maxTokens)
			}
			if g.ReqPerS <= 0 || g.OutputTokPerS <= 0 || g.LatencyMedianMs == nil {
				t.Errorf("summary: %v req/s, %v tok/s, latency median %v", g.ReqPerS, g.OutputTokPerS, g.LatencyMedianMs)
			}
			if c.stream {
				// The generated model's tokens come 0.1 ms apart: segments
				// that wait for genload's next read are merged by TCP and
				// stamped with the newest one's time, so such gaps read 0
				// (record.md, chunk times). A 0 median must be explained so.
				gaps, coalesced := 0, 0
				for _, r := range recs {
					gaps, coalesced = gaps+len(r.ITLMs), coalesced+r.CoalescedEvents
				}
				if g.TTFTMedianMs == nil || g.ITLMedianMs == nil || *g.ITLMedianMs < 0 || *g.ITLMedianMs == 0 && 2*coalesced < gaps {
					t.Errorf("summary: TTFT median %v, ITL median %v (%d of %d gaps coalesced); want both, ITL > 0 unless most gaps came in one read", g.TTFTMedianMs, g.ITLMedianMs, coalesced, gaps)
				} else if s.eosFree && *g.ITLMedianMs > maxITLMedianMs {
					t.Errorf("summary: ITL median %.1f ms, want at most %d for the generated model", *g.ITLMedianMs, maxITLMedianMs)
				}
			} else if g.TTFTMedianMs != nil || g.ITLMedianMs != nil {
				t.Errorf("summary of whole responses: TTFT %v, ITL %v; want none", g.TTFTMedianMs, g.ITLMedianMs)
			}
			t.Logf("%d requests: %.1f req/s, %.0f output tok/s, latency median %.1f ms, TTFT median %s, ITL median %s",
				g.Requests, g.ReqPerS, g.OutputTokPerS, *g.LatencyMedianMs, msOf(g.TTFTMedianMs), msOf(g.ITLMedianMs))
		})
	}
}

// checkRecord checks one successful request's record.
func checkRecord(t *testing.T, s server, r record.Record, stream bool, maxTokens int) {
	t.Helper()
	if !r.OK || r.Status != http.StatusOK || r.ErrorKind != "" {
		t.Fatalf("seq %d failed: status %d, %s: %s", r.Seq, r.Status, r.ErrorKind, r.Error)
	}
	if r.TokensFrom != record.TokensFromUsage || r.PromptTokens <= 0 {
		t.Errorf("seq %d: tokens_from %q, prompt_tokens %d; want usage, > 0", r.Seq, r.TokensFrom, r.PromptTokens)
	}
	if s.eosFree && (r.OutputTokens != maxTokens || r.FinishReason != "length") {
		t.Errorf("seq %d: output_tokens %d, finish_reason %q; want %d, length", r.Seq, r.OutputTokens, r.FinishReason, maxTokens)
	}
	if r.OutputTokens < 1 || r.OutputTokens > maxTokens {
		t.Errorf("seq %d: output_tokens %d, want 1..%d", r.Seq, r.OutputTokens, maxTokens)
	}
	if r.LatencyMs <= 0 {
		t.Errorf("seq %d: latency_ms %v", r.Seq, r.LatencyMs)
	}
	if !stream {
		if r.TTFTMs != nil || len(r.ITLMs) != 0 {
			t.Errorf("seq %d: a whole response with ttft_ms %v, %d itl_ms", r.Seq, r.TTFTMs, len(r.ITLMs))
		}
		return
	}
	if r.TTFTMs == nil || *r.TTFTMs <= 0 || *r.TTFTMs > r.LatencyMs {
		t.Errorf("seq %d: ttft_ms %v, latency_ms %v", r.Seq, r.TTFTMs, r.LatencyMs)
	}
	// One chunk per token: the model only generates whole ASCII tokens, so
	// no chunk waits for the rest of a UTF-8 character.
	if s.eosFree && len(r.ITLMs) != r.OutputTokens-1 {
		t.Errorf("seq %d: %d itl_ms samples for %d tokens, want one per token after the first", r.Seq, len(r.ITLMs), r.OutputTokens)
	}
	for _, gap := range r.ITLMs {
		if gap < 0 || gap > r.LatencyMs {
			t.Errorf("seq %d: itl_ms sample %v out of range", r.Seq, gap)
			break
		}
	}
	// TPOT is 0 only when every chunk after the first came out of one read
	// with it: the kernel stamps a read with its newest segment's time, and
	// a server this fast (ITL 0.1 ms) under concurrency can send a whole
	// answer before genload reads once (record.md, chunk times).
	if r.OutputTokens > 1 && (r.TPOTMs == nil || *r.TPOTMs < 0 || *r.TPOTMs == 0 && r.CoalescedEvents < len(r.ITLMs)) {
		t.Errorf("seq %d: tpot_ms %v (%d of %d gaps coalesced)", r.Seq, r.TPOTMs, r.CoalescedEvents, len(r.ITLMs))
	}
}

func msOf(v *float64) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprintf("%.1f ms", *v)
}

// TestErrors checks that failures are classified, with the server's own
// message, on every endpoint and streaming or not: Ollama answers a
// streaming request's errors as plain JSON, not as an SSE event.
func TestErrors(t *testing.T) {
	s := target(t)
	for _, endpoint := range []string{"completions", "chat"} {
		for _, stream := range []bool{true, false} {
			name := fmt.Sprintf("unknown model %s stream=%v", endpoint, stream)
			t.Run(name, func(t *testing.T) {
				raw := filepath.Join(t.TempDir(), "runs.jsonl")
				// genload checks the model first: exit 5, nothing sent.
				_, stderr, code := s.sh(t, time.Minute, fmt.Sprintf(`genload --url "$URL" --model no-such-model --endpoint %s -n 2 --quiet`, endpoint))
				if code != 5 || !strings.Contains(stderr, `model "no-such-model" is not served`) {
					t.Fatalf("without --no-model-check: exit %d (want 5), stderr: %s", code, stderr)
				}
				// Sent anyway, the server's own answer is recorded.
				script := fmt.Sprintf(`genload --url "$URL" --model no-such-model --no-model-check --endpoint %s --stream=%v -n 2 --max-tokens 8 --quiet > %q && summarize --format json %q`,
					endpoint, stream, raw, raw)
				out, stderr, code := s.sh(t, time.Minute, script)
				if code != 0 {
					t.Fatalf("exit %d (failed requests are data, not an error); stderr: %s", code, stderr)
				}
				for _, r := range readRecords(t, raw) {
					// Ollama: "HTTP 404: model 'no-such-model' not found"
					if r.OK || r.ErrorKind != record.ErrHTTP || r.Status != http.StatusNotFound ||
						!strings.Contains(r.Error, "no-such-model") {
						t.Errorf("seq %d: ok %v, status %d, %s: %q; want http 404 with the server's message",
							r.Seq, r.OK, r.Status, r.ErrorKind, r.Error)
					}
				}
				var sum summary
				if err := json.Unmarshal([]byte(out), &sum); err != nil || len(sum.Groups) != 1 {
					t.Fatalf("summarize --format json: %v: %s", err, out)
				}
				if g := sum.Groups[0]; g.Failed != 2 || g.ErrorsHTTP != 2 || g.OK != 0 {
					t.Errorf("summary: %d failed, %d http errors, %d ok; want 2, 2, 0", g.Failed, g.ErrorsHTTP, g.OK)
				}
			})
		}
	}
}

// TestMalformedRequest checks how a 400 from the server is recorded. genload
// only sends well-formed requests, so a proxy in front of the server cuts
// each request body in half; the answer is the server's own, passed on
// unchanged (Ollama: plain JSON even for a streaming request).
func TestMalformedRequest(t *testing.T) {
	s := target(t)
	proxy := truncatingProxy(t, s.url)
	for _, endpoint := range []string{"completions", "chat"} {
		for _, stream := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s stream=%v", endpoint, stream), func(t *testing.T) {
				raw := filepath.Join(t.TempDir(), "runs.jsonl")
				script := fmt.Sprintf(`genload --url %q --model "$MODEL" --endpoint %s --stream=%v -n 2 --max-tokens 8 --quiet > %q`,
					proxy, endpoint, stream, raw)
				if _, stderr, code := s.sh(t, time.Minute, script); code != 0 {
					t.Fatalf("exit %d; stderr: %s", code, stderr)
				}
				recs := readRecords(t, raw)
				if len(recs) != 2 {
					t.Fatalf("%d records, want 2", len(recs))
				}
				for _, r := range recs {
					if r.OK || r.ErrorKind != record.ErrHTTP || r.Status != http.StatusBadRequest ||
						!strings.HasPrefix(r.Error, "HTTP 400: ") || len(r.Error) <= len("HTTP 400: ") {
						t.Errorf("seq %d: ok %v, status %d, %s: %q; want http 400 with the server's message",
							r.Seq, r.OK, r.Status, r.ErrorKind, r.Error)
					}
					if strings.Contains(r.Error, "{") {
						t.Errorf("seq %d: error %q is raw JSON, not the server's message", r.Seq, r.Error)
					}
				}
				t.Logf("recorded: %s", recs[0].Error)
			})
		}
	}
}

// truncatingProxy forwards requests to target, POST bodies cut in half.
func truncatingProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		if pr.Out.Method != http.MethodPost || pr.Out.Body == nil {
			return
		}
		body, _ := io.ReadAll(pr.Out.Body)
		body = body[:len(body)/2]
		pr.Out.Body = io.NopCloser(bytes.NewReader(body))
		pr.Out.ContentLength = int64(len(body))
	}}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSuite runs scripts/run_benchmarks.sh against the server as a user
// would, with small tests: probe, latency, throughput, reports and files.
func TestSuite(t *testing.T) {
	s := target(t)
	results := t.TempDir()
	script := fmt.Sprintf(`SERVEBENCH_BIN=%q ../../scripts/run_benchmarks.sh --url "$URL" --model "$MODEL" --results %q `+
		`--latency-requests 6 --throughput-requests 12 --concurrency 4 --max-tokens 32 --wait 1m`, s.bin, results)
	out, stderr, code := s.sh(t, 5*time.Minute, script)
	if code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	// stdout: a row per test; the log keeps a block per test.
	if !strings.Contains(out, "\nlatency c=1 ") || !strings.Contains(out, "\nthroughput c=4 ") {
		t.Errorf("report on stdout lacks a row per test (latency, throughput):\n%s", out)
	}
	if log, _ := os.ReadFile(filepath.Join(results, "benchmark_results.log")); strings.Count(string(log), "Serving Benchmark Result") != 2 {
		t.Errorf("benchmark_results.log should hold a block per test:\n%s", log)
	}
	if !strings.Contains(stderr, "verdict: OK: 2 tests passed") {
		t.Errorf("no verdict line:\n%s", stderr)
	}
	csv, err := os.ReadFile(filepath.Join(results, "benchmarks.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(csv), "\n"); lines != 3 {
		t.Errorf("benchmarks.csv has %d lines, want a header and 2 rows", lines)
	}
	raws, _ := filepath.Glob(filepath.Join(results, "raw", "*.jsonl"))
	if len(raws) != 2 {
		t.Fatalf("raw files %q, want 2", raws)
	}
	for _, raw := range raws {
		for _, r := range readRecords(t, raw) {
			checkRecord(t, s, r, true, 32)
		}
	}
	t.Logf("run_benchmarks.sh report:\n%s", out)
}

// TestToolsAndReasoning sends what agents and reasoning models send:
// tools, and a reasoning effort. The generated tiny model's template has
// neither, and Ollama says so with a 400 that genload records as an http
// failure carrying Ollama's words; Ollama's `think` field is ignored by its
// OpenAI-compatible endpoint (the answer is plain content).
func TestToolsAndReasoning(t *testing.T) {
	s := target(t)
	tools := `{"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`
	cases := []struct {
		name, extra string
		ok          bool
		message     string
	}{
		{"tools", tools, false, "does not support tools"},
		{"reasoning effort", `{"reasoning_effort":"high"}`, false, "does not support thinking"},
		{"think", `{"think":true}`, true, ""},
	}
	for _, tt := range cases {
		for _, stream := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s stream=%v", tt.name, stream), func(t *testing.T) {
				raw := filepath.Join(t.TempDir(), "runs.jsonl")
				script := fmt.Sprintf(`genload --url "$URL" --model "$MODEL" --endpoint chat --stream=%v -n 2 --max-tokens 8 --quiet --extra-body %s > %q`,
					stream, shellQuote(tt.extra), raw)
				if _, stderr, code := s.sh(t, time.Minute, script); code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				for _, r := range readRecords(t, raw) {
					if r.OK != tt.ok || (!tt.ok && (r.ErrorKind != record.ErrHTTP || r.Status != http.StatusBadRequest || !strings.Contains(r.Error, tt.message))) {
						t.Errorf("seq %d: ok %v, %s %d %q; want ok %v, or http 400 %q", r.Seq, r.OK, r.ErrorKind, r.Status, r.Error, tt.ok, tt.message)
					}
					if tt.ok && (r.ToolCalls != 0 || r.ReasoningTokens != 0 || r.OutputTokens == 0) {
						t.Errorf("seq %d: tool_calls %d, reasoning %d, output %d: want plain content", r.Seq, r.ToolCalls, r.ReasoningTokens, r.OutputTokens)
					}
				}
			})
		}
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
