package e2e

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

// embedPrompts writes a prompt file of texts with known word counts
// (llmsim's tokens): 1, 2, 3, ... words.
func embedPrompts(t *testing.T, n int) (string, []string) {
	t.Helper()
	var texts []string
	for i := 1; i <= n; i++ {
		texts = append(texts, strings.TrimSpace(strings.Repeat("word ", i)))
	}
	file := filepath.Join(t.TempDir(), "texts.txt")
	if err := os.WriteFile(file, []byte(strings.Join(texts, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, texts
}

// TestEmbeddings: genload --endpoint embeddings against llmsim, with
// --stream given (ignored): every request sends --batch-size consecutive
// prompts as input, each record is ok, not streamed, with the server's
// usage as prompt_tokens (equal to the words of what the request log says
// was sent), no output tokens, no TTFT/ITL, and latency from --ttft.
// summarize reports req/s and input tokens/s.
func TestEmbeddings(t *testing.T) {
	log := filepath.Join(t.TempDir(), "requests.jsonl")
	url := startSim(t, "--ttft", "15ms", "--embedding-dim", "5", "--log-requests", log)
	file, texts := embedPrompts(t, 6)
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --endpoint embeddings --stream --batch-size 3 --prompt-file "+file+" -n 4 -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := readRecords(t, strings.NewReader(out))
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{} // request id -> words sent
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var req struct {
			Path    string              `json:"path"`
			Headers map[string][]string `json:"headers"`
			Body    map[string]any      `json:"body"`
		}
		if err := json.Unmarshal([]byte(l), &req); err != nil {
			t.Fatal(err)
		}
		inputs, _ := req.Body["input"].([]any)
		if req.Path != "/v1/embeddings" || len(inputs) != 3 || req.Body["stream"] != nil || req.Body["max_tokens"] != nil {
			t.Errorf("logged %s", l)
		}
		for _, in := range inputs {
			sent[req.Headers["x-request-id"][0]] += len(strings.Fields(in.(string)))
		}
	}
	if len(recs) != 4 || len(sent) != 4 {
		t.Fatalf("%d records, %d requests logged", len(recs), len(sent))
	}
	for i, r := range recs {
		// prompts cycle: request i embeds texts 3i..3i+2 (mod 6)
		words := 0
		for j := 3 * i; j < 3*i+3; j++ {
			words += len(strings.Fields(texts[j%len(texts)]))
		}
		switch {
		case !r.OK || r.Endpoint != "embeddings" || r.Stream || r.MaxTokens != 0 || r.OutputTokens != 0:
			t.Errorf("record %+v", r)
		case r.PromptTokens != words || r.PromptTokens != sent[r.RequestID] || r.TokensFrom != record.TokensFromUsage:
			t.Errorf("request %d: prompt_tokens %d (%s), want %d (logged %d)", i, r.PromptTokens, r.TokensFrom, words, sent[r.RequestID])
		case r.TTFTMs != nil || r.TTFOMs != nil || r.TPOTMs != nil || len(r.ITLMs) != 0:
			t.Errorf("request %d: timings of a stream: %+v", i, r)
		case r.LatencyMs < 15 || r.LatencyMs > 15+50:
			t.Errorf("request %d: latency %.3f ms, want about 15", i, r.LatencyMs)
		}
	}

	out, stderr, code = sh(t, time.Minute, "genload --url "+url+"/v1/embeddings --input-tokens 10 -n 6 -c 2 -q | summarize --format json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Groups []struct {
			Endpoint     string   `json:"endpoint"`
			OK           int      `json:"ok"`
			PromptTokens int      `json:"prompt_tokens"`
			ReqPerS      float64  `json:"req_per_s"`
			InputTokPerS float64  `json:"input_tok_per_s"`
			TTFT         *float64 `json:"ttft_median_ms"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Groups) != 1 {
		t.Fatalf("summary %v: %s", err, out)
	}
	g := rep.Groups[0]
	if g.Endpoint != "embeddings" || g.OK != 6 || g.PromptTokens != 60 || g.ReqPerS <= 0 || g.TTFT != nil {
		t.Errorf("group %+v", g)
	}
	if ratio := g.InputTokPerS / g.ReqPerS; ratio < 9.99 || ratio > 10.01 {
		t.Errorf("input_tok_per_s %.3f / req_per_s %.3f = %.3f, want 10 tokens a request", g.InputTokPerS, g.ReqPerS, ratio)
	}

	out, _, code = sh(t, time.Minute, "genload --url "+url+"/v1/embeddings --input-tokens 10 -n 2 -q | summarize")
	if code != 0 || !strings.Contains(out, "embeddings: tok/s counts input tokens") || !strings.Contains(out, "Input token throughput (tok/s):") {
		t.Errorf("exit %d, text report:\n%s", code, out)
	}
}

// TestEmbeddingsIndependent: against the independent test server, whose
// tokens are not llmsim's words: prompt_tokens is the server's usage.
func TestEmbeddingsIndependent(t *testing.T) {
	fake := &openaitest.Server{Model: "m", TTFT: 5 * time.Millisecond}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	file, texts := embedPrompts(t, 4)
	out, stderr, code := sh(t, time.Minute, "genload --url "+srv.URL+"/v1/embeddings --batch-size 2 --prompt-file "+file+" -n 2 -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for i, r := range readRecords(t, strings.NewReader(out)) {
		want := openaitest.EmbedTokens(texts[2*i]) + openaitest.EmbedTokens(texts[2*i+1])
		if !r.OK || r.PromptTokens != want || r.OutputTokens != 0 || r.Stream {
			t.Errorf("record %d: %+v, want prompt_tokens %d", i, r, want)
		}
	}
	if n := fake.Embeds.Load(); n != 2 {
		t.Errorf("%d embeddings requests, want 2", n)
	}
	if _, stderr, code := sh(t, time.Minute, "probe --url "+srv.URL+" --endpoint embeddings --smoke"); code != 0 || !strings.Contains(stderr, "an embedding took") {
		t.Errorf("probe: exit %d: %s", code, stderr)
	}
}

// TestEmbeddingsWrongShape: a server answering an embeddings request with
// a completion is a protocol failure naming what came; an --endpoint that
// contradicts the URL is a usage error; probe's smoke test fails alike.
func TestEmbeddingsWrongShape(t *testing.T) {
	fake := &openaitest.Server{Model: "m", Fault: openaitest.FaultJSON200}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	out, stderr, code := sh(t, time.Minute, "genload --url "+srv.URL+" --endpoint embeddings -n 2 -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, r := range readRecords(t, strings.NewReader(out)) {
		if r.OK || r.ErrorKind != record.ErrProtocol || !strings.Contains(r.Error, "choices, not data") {
			t.Errorf("record %+v", r)
		}
	}
	if _, stderr, code := sh(t, time.Minute, "genload --url "+srv.URL+"/v1/embeddings --endpoint chat -n 1 -q"); code != 2 || !strings.Contains(stderr, "embeddings endpoint") {
		t.Errorf("contradicting --endpoint: exit %d: %s", code, stderr)
	}
	if _, stderr, code := sh(t, time.Minute, "probe --url "+srv.URL+"/v1/embeddings --smoke"); code != 7 || !strings.Contains(stderr, "choices, not data") {
		t.Errorf("probe: exit %d: %s", code, stderr)
	}
}

// TestProbeEmbeddings: probe --smoke with the embeddings endpoint against
// llmsim, given by flag or by URL.
func TestProbeEmbeddings(t *testing.T) {
	url := startSim(t, "--ttft", "2ms")
	for _, args := range []string{"--url " + url + " --endpoint embeddings", "--url " + url + "/v1/embeddings"} {
		if _, stderr, code := sh(t, time.Minute, "probe --smoke "+args); code != 0 || !strings.Contains(stderr, "an embedding took") {
			t.Errorf("%s: exit %d: %s", args, code, stderr)
		}
	}
}
