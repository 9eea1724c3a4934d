package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"servebench/internal/dataset"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
	"servebench/internal/stats"
)

// httpClients are genload's two HTTP paths: its own HTTP/1.1 client, and
// net/http (forced by the hidden --http-client flag, as a proxy would).
var httpClients = []string{"", " --http-client net/http"}

// clientName names a subtest by the client it uses.
func clientName(client string) string {
	if client == "" {
		return "h1"
	}
	return "net_http"
}

// TestResponsesAgainstLLMSim: genload --endpoint responses against llmsim's
// /v1/responses, streamed, over both HTTP clients: the medians of TTFT,
// ITL, TPOT and latency match llmsim's truth to the millisecond (three
// tries, as TestAccuracyAgainstLLMSim), tokens come from usage, and a
// capped answer (vLLM's response.completed with status incomplete) is ok
// with finish_reason length. Not streamed: latency and usage.
func TestResponsesAgainstLLMSim(t *testing.T) {
	url := startSim(t, "--ttft", "50ms", "--itl", "10ms")
	for _, client := range httpClients {
		t.Run(clientName(client), func(t *testing.T) {
			var misses []string
			for try := 1; try <= 3; try++ {
				out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --endpoint responses --requests 12 --warmup 1 --max-tokens 20 --ignore-eos -q"+client)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				for _, r := range readRecords(t, strings.NewReader(out)) {
					if !r.OK || r.Endpoint != "responses" || r.OutputTokens != 20 || r.TokensFrom != record.TokensFromUsage || r.PromptTokens == 0 ||
						r.FinishReason != "length" || len(r.ITLMs) != 19 || *r.TTFOMs != *r.TTFTMs || !strings.HasSuffix(r.URL, "/v1/responses") {
						t.Fatalf("record %+v", r)
					}
				}
				sum, stderr, code := sh(t, time.Minute, "summarize --format json <<'EOF'\n"+out+"EOF")
				if code != 0 {
					t.Fatalf("summarize exit %d: %s", code, stderr)
				}
				g := parseSummary(t, sum).Groups[0]
				if g.OK != 12 || g.OutputTokens != 12*20 || g.TokensFromChunks != 0 {
					t.Fatalf("group %+v", g)
				}
				t.Logf("try %d: TTFT median %.3f ms (truth 50), ITL %.3f (10), TPOT %.3f (10), latency %.3f (240)", try, *g.TTFTMedian, *g.ITLMedian, *g.TPOTMedian, *g.LatencyMedian)
				misses = misses[:0]
				for _, m := range []struct {
					name      string
					got, want float64
					tol       float64
				}{{"TTFT", *g.TTFTMedian, 50, 2}, {"ITL", *g.ITLMedian, 10, 1}, {"TPOT", *g.TPOTMedian, 10, 1}, {"latency", *g.LatencyMedian, 50 + 19*10, 3}} {
					if math.Abs(m.got-m.want) > m.tol {
						misses = append(misses, fmt.Sprintf("%s median %.3f ms, want %.0f ± %.0f", m.name, m.got, m.want, m.tol))
					}
				}
				if len(misses) == 0 {
					break
				}
			}
			if len(misses) > 0 {
				t.Errorf("three tries missed the truth; the last: %v", misses)
			}
			for try := 1; ; try++ {
				out, stderr, code := sh(t, time.Minute, "genload --url "+url+"/v1/responses --stream=false --requests 5 --max-tokens 10 --ignore-eos -q"+client+" | summarize --format json")
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				g := parseSummary(t, out).Groups[0]
				if g.OK != 5 || g.TTFTMedian != nil || g.ITLMedian != nil || g.OutputTokens != 50 || g.TokensFromChunks != 0 || g.LatencyMedian == nil {
					t.Fatalf("group %+v", g)
				}
				t.Logf("not streamed, try %d: latency median %.3f ms (truth 140)", try, *g.LatencyMedian)
				if math.Abs(*g.LatencyMedian-(50+9*10)) <= 3 {
					break
				}
				if try == 3 {
					t.Errorf("not streamed: latency median %.3f ms, want 140 ± 3, three tries in a row", *g.LatencyMedian)
					break
				}
			}
		})
	}
}

// TestResponsesReasoningAndTools: llmsim reasoning for 4 tokens, and
// calling the tool a prompt file's requests offer (Responses API tools,
// name at the top level): every answer is a function call after the
// reasoning, ok with tool_calls 1 and finish_reason tool_calls, the
// reasoning tokens from usage; TTFO - TTFT is 4 x ITL (median within 2
// ms, three tries). The request log shows what genload sent: input,
// max_output_tokens, stream, the tools passed through, no max_tokens.
func TestResponsesReasoningAndTools(t *testing.T) {
	const n, itlMs = 4, 5.0
	log := filepath.Join(t.TempDir(), "requests.jsonl")
	url := startSim(t, "--ttft", "20ms", "--itl", "5ms", "--reasoning-tokens", "4", "--tool-call-rate", "1", "--log-requests", log)
	prompts := filepath.Join(t.TempDir(), "tools.jsonl")
	line := `{"prompt":"what is the weather in Paris","max_tokens":10,"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]}` + "\n"
	if err := os.WriteFile(prompts, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	for try := 1; ; try++ {
		out, stderr, code := sh(t, time.Minute, "genload --url "+url+"/v1/responses --prompt-file "+prompts+" -n 6 --ignore-eos -q")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var diffs []float64
		for _, r := range readRecords(t, strings.NewReader(out)) {
			if !r.OK || r.ToolCalls != 1 || r.FinishReason != "tool_calls" || r.OutputTokens != 10 || r.ReasoningTokens != n ||
				r.ReasoningFrom != record.TokensFromUsage || r.TTFTMs == nil || r.TTFOMs == nil || len(r.ITLMs) != 9 || r.PromptTokens != 6+dataset.SaltWords {
				t.Fatalf("record %+v", r)
			}
			diffs = append(diffs, *r.TTFOMs-*r.TTFTMs)
		}
		slices.Sort(diffs)
		median := stats.Median(diffs)
		t.Logf("try %d: median ttfo - ttft %.3f ms (truth %.0f)", try, median, n*itlMs)
		if math.Abs(median-n*itlMs) <= 2 {
			break
		}
		if try == 3 {
			t.Fatalf("median ttfo - ttft is %.3f ms, not %.0f ± 2 ms, three runs in a row", median, n*itlMs)
		}
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(string(data), "\n", 2)[0]
	for _, want := range []string{`"path":"/v1/responses"`, ` what is the weather in Paris"` /* after the run's salt */, `"max_output_tokens":10`, `"stream":true`, `"name":"get_weather"`} {
		if !strings.Contains(first, want) {
			t.Errorf("logged request lacks %s: %s", want, first)
		}
	}
	if strings.Contains(first, `"max_tokens"`) || strings.Contains(first, "stream_options") {
		t.Errorf("logged request has chat fields: %s", first)
	}
}

// TestResponsesIndependent: against the independent test server, which
// ends a capped answer with OpenAI's response.incomplete event and
// streams tool calls as function_call items: ok, its usage, its calls;
// streamed and whole, over both clients; probe's smoke passes.
func TestResponsesIndependent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server *openaitest.Server
		check  func(r record.Record) bool
	}{
		{"text", &openaitest.Server{Model: "m", TTFT: 5 * time.Millisecond, ITL: 2 * time.Millisecond, Tokens: 5, Reasoning: 2, CachedTokens: 3},
			func(r record.Record) bool {
				return r.FinishReason == "length" && r.OutputTokens == 5 && r.PromptTokens == 4 && r.ReasoningTokens == 2 && r.CachedTokens == 3
			}},
		{"tool calls", &openaitest.Server{Model: "m", TTFT: 5 * time.Millisecond, ITL: 2 * time.Millisecond, ToolCalls: 2},
			func(r record.Record) bool {
				return r.FinishReason == "tool_calls" && r.ToolCalls == 2 && r.OutputTokens == 4
			}},
	} {
		srv := httptest.NewServer(tc.server)
		for _, client := range httpClients {
			for _, stream := range []string{"", " --stream=false"} {
				out, stderr, code := sh(t, time.Minute, "genload --url "+srv.URL+"/v1/responses -n 3 -q"+stream+client)
				if code != 0 {
					t.Fatalf("%s%s%s: exit %d: %s", tc.name, stream, client, code, stderr)
				}
				for _, r := range readRecords(t, strings.NewReader(out)) {
					if !r.OK || r.TokensFrom != record.TokensFromUsage || !tc.check(r) || (stream == "") != (r.TTFTMs != nil) {
						t.Errorf("%s%s%s: record %+v", tc.name, stream, client, r)
					}
				}
			}
		}
		if _, stderr, code := sh(t, time.Minute, "probe --url "+srv.URL+"/v1/responses --smoke"); code != 0 || !strings.Contains(stderr, "1-token response") {
			t.Errorf("%s: probe: exit %d: %s", tc.name, code, stderr)
		}
		srv.Close()
	}
}

// TestResponsesWrongShape: a /v1/responses request answered with chat
// chunks (or a chat body), and a chat request answered with Responses API
// events (a gateway routing every path to /v1/responses), are protocol
// failures that say what came instead.
func TestResponsesWrongShape(t *testing.T) {
	fake := httptest.NewServer(&openaitest.Server{Model: "m", Tokens: 3, Fault: openaitest.FaultJSON200})
	defer fake.Close()
	for stream, want := range map[string]string{"": "with chat or completions chunks", " --stream=false": "with a chat or completions body"} {
		out, stderr, code := sh(t, time.Minute, "genload --url "+fake.URL+" --endpoint responses -n 2 -q"+stream)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, r := range readRecords(t, strings.NewReader(out)) {
			if r.OK || r.ErrorKind != record.ErrProtocol || !strings.Contains(r.Error, want) {
				t.Errorf("%q: record %+v", stream, r)
			}
		}
	}
	if _, stderr, code := sh(t, time.Minute, "probe --url "+fake.URL+" --endpoint responses --smoke"); code != 7 || !strings.Contains(stderr, "use --endpoint chat") {
		t.Errorf("probe: exit %d: %s", code, stderr)
	}

	sim := startSim(t)
	misrouted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			resp, err := http.Get(sim + "/v1/models")
			if err == nil {
				defer resp.Body.Close()
				io.Copy(w, resp.Body)
			}
			return
		}
		body, _ := io.ReadAll(r.Body)
		body = bytes.Replace(body, []byte(`"messages":[{"role":"user","content":`), []byte(`"input":[{"role":"user","content":`), 1)
		resp, err := http.Post(sim+"/v1/responses", "application/json", bytes.NewReader(body))
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer misrouted.Close()
	for stream, want := range map[string]string{"": "Responses API events, not chat chunks", " --stream=false": "Responses API body, not a chat completion"} {
		out, stderr, code := sh(t, time.Minute, "genload --url "+misrouted.URL+"/v1/chat/completions -n 2 --max-tokens 4 -q"+stream)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, r := range readRecords(t, strings.NewReader(out)) {
			if r.OK || r.ErrorKind != record.ErrProtocol || !strings.Contains(r.Error, want) {
				t.Errorf("chat%s: record %+v", stream, r)
			}
		}
	}
}

// TestProbeResponses: probe --smoke with the responses endpoint against
// llmsim, by flag or by URL; and against a reasoning model, whose 1-token
// smoke answer is reasoning only, on chat and responses (without usage
// such an answer passes too: internal/probe's TestSmokeAnswers).
func TestProbeResponses(t *testing.T) {
	url := startSim(t, "--ttft", "2ms")
	for _, args := range []string{"--url " + url + " --endpoint responses", "--url " + url + "/v1/responses"} {
		if _, stderr, code := sh(t, time.Minute, "probe --smoke "+args); code != 0 || !strings.Contains(stderr, "a 1-token response took") {
			t.Errorf("%s: exit %d: %s", args, code, stderr)
		}
	}
	reasoning := startSim(t, "--reasoning-tokens", "4")
	for _, endpoint := range []string{"chat", "responses"} {
		if _, stderr, code := sh(t, time.Minute, "probe --smoke --url "+reasoning+" --endpoint "+endpoint); code != 0 {
			t.Errorf("reasoning model, %s: exit %d: %s", endpoint, code, stderr)
		}
	}
}
