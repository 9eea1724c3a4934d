package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"servebench/internal/dataset"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// TestTokenizeExactLengths: against llmsim's pieces tokenizer, on which a
// synthetic word is not a token, --tokenize auto makes every request's
// prompt_tokens (llmsim's count) exactly the requested input length, for
// completions and chat (template included), with and without a shared
// prefix; --tokenize off misses, and summarize says so.
func TestTokenizeExactLengths(t *testing.T) {
	url := startSim(t, "--tokenizer", "pieces", "--ttft", "1ms", "--itl", "1ms")
	for _, args := range []string{
		"--endpoint completions --input-tokens 120 --input-tokens-range 0.3",
		"--endpoint chat --input-tokens 120 --input-tokens-range 0.3 --stream=false",
		"--endpoint chat --input-tokens 40 --shared-prefix-tokens 100",
	} {
		out, stderr, code := sh(t, time.Minute, "genload --url "+url+" "+args+" -n 30 -c 3 --max-tokens 2 --seed 7")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", args, code, stderr)
		}
		recs := readRecords(t, strings.NewReader(out))
		if len(recs) != 30 {
			t.Fatalf("%s: %d records", args, len(recs))
		}
		lengths := map[int]bool{}
		for _, r := range recs {
			if !r.OK || r.TokensFrom != record.TokensFromUsage || r.InputTokensRequested == 0 || r.PromptTokens != r.InputTokensRequested {
				t.Errorf("%s: seq %d: ok=%v prompt_tokens %d (%s), requested %d", args, r.Seq, r.OK, r.PromptTokens, r.TokensFrom, r.InputTokensRequested)
			}
			lengths[r.InputTokensRequested] = true
		}
		if strings.Contains(args, "range") && len(lengths) < 5 {
			t.Errorf("%s: only %d distinct lengths", args, len(lengths))
		}
		if !strings.Contains(stderr, "prompts fitted to their requested tokens") || strings.Contains(stderr, "missed") {
			t.Errorf("%s: stderr %s", args, stderr)
		}
		if sum, serr, _ := sh(t, time.Minute, "summarize --brief <<'EOF'\n"+out+"EOF"); strings.Contains(sum+serr, "input lengths miss") {
			t.Errorf("%s: summarize warns about exact lengths:\n%s%s", args, sum, serr)
		}
	}
	// Off: the words as they are, which this tokenizer counts as more
	// tokens; the record still says what was asked, and summarize warns.
	raw := filepath.Join(t.TempDir(), "off.jsonl")
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --input-tokens 120 -n 10 --max-tokens 2 --tokenize off -q > "+quote(raw)+" && summarize --brief "+quote(raw))
	if code != 0 {
		t.Fatalf("off: exit %d: %s", code, stderr)
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs := readRecords(t, f)
	for _, r := range recs {
		if r.InputTokensRequested != 120+dataset.SaltWords || r.PromptTokens <= r.InputTokensRequested*102/100 {
			t.Errorf("off: seq %d: prompt_tokens %d, requested %d: want a miss of more than 2%%", r.Seq, r.PromptTokens, r.InputTokensRequested)
		}
	}
	if !strings.Contains(out+stderr, "input lengths miss the requested ones by +") || !strings.Contains(out+stderr, "10 of 10 requests off by more than 2%") {
		t.Errorf("off: no length warning:\n%s", out)
	}
}

// TestTokenizeOnAndResetWithout: --tokenize on and --reset-prefix-cache
// against a server that serves neither end the run before anything is
// sent, with exit 2 and the server's answer.
func TestTokenizeOnAndResetWithout(t *testing.T) {
	var mu strings.Builder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.WriteString(r.Method + " " + r.URL.Path + "\n")
		http.NotFound(w, r)
	}))
	defer srv.Close()
	_, stderr, code := sh(t, time.Minute, "genload --url "+srv.URL+" --model m --no-model-check --input-tokens 10 -n 2 --tokenize on")
	if code != 2 || !strings.Contains(stderr, "--tokenize on: the server cannot tokenize") || !strings.Contains(stderr, "/tokenize: HTTP 404") {
		t.Errorf("--tokenize on: exit %d: %s", code, stderr)
	}
	_, stderr, code = sh(t, time.Minute, "genload --url "+srv.URL+" --model m --no-model-check --prompt hi -n 2 --reset-prefix-cache")
	if code != 2 || !strings.Contains(stderr, "VLLM_SERVER_DEV_MODE=1") || !strings.Contains(stderr, "nothing sent") {
		t.Errorf("--reset-prefix-cache: exit %d: %s", code, stderr)
	}
	if strings.Contains(mu.String(), "/v1/") {
		t.Errorf("requests were sent:\n%s", mu.String())
	}
}

// TestResetPrefixCache: two runs of the same literal prompt: the second
// finds the first's blocks in llmsim's cache; --reset-prefix-cache empties
// it, so its first request finds none.
func TestResetPrefixCache(t *testing.T) {
	url := startSim(t, "--ttft", "1ms", "--itl", "1ms")
	prompt := quote(strings.TrimSpace(strings.Repeat("cache me if you can ", 16))) // 80 words: 4 blocks of 16 may hit
	cached := func(flags string) []int {
		t.Helper()
		out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --prompt "+prompt+" -n 3 --max-tokens 2 -q --same-prompts "+flags)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var c []int
		for _, r := range readRecords(t, strings.NewReader(out)) {
			c = append(c, r.CachedTokens)
		}
		return c
	}
	if got := cached(""); !slices.Equal(got, []int{0, 64, 64}) {
		t.Errorf("first run: cached %v, want [0 64 64]", got)
	}
	if got := cached(""); !slices.Equal(got, []int{64, 64, 64}) {
		t.Errorf("second run, no reset: cached %v, want [64 64 64]", got)
	}
	if got := cached("--reset-prefix-cache"); !slices.Equal(got, []int{0, 64, 64}) {
		t.Errorf("with --reset-prefix-cache: cached %v, want [0 64 64]", got)
	}
	// With two load points the cache is emptied before each.
	if got := cached("--reset-prefix-cache -c 1,1"); !slices.Equal(got, []int{0, 64, 64, 0, 64, 64}) {
		t.Errorf("two points: cached %v, want [0 64 64 0 64 64]", got)
	}
	out, _, _ := sh(t, time.Minute, "curl -s "+url+"/metrics | grep '^vllm:prefix_cache_hits_total'")
	if !strings.HasSuffix(strings.TrimSpace(out), " "+strconv.Itoa(64*(2+3+2+4))) {
		t.Errorf("llmsim's hits: %s, want %d", out, 64*11)
	}
}

// TestPrefillTTFTFallsWithTheCache: with --prefill-per-token, a run whose
// prompts share a 400-token prefix has a TTFT lower than one of the same
// lengths without by exactly the cached tokens x prefill-per-token, within
// 2 ms at the median.
func TestPrefillTTFTFallsWithTheCache(t *testing.T) {
	const per = 0.1 // ms
	url := startSim(t, "--ttft", "20ms", "--itl", "1ms", "--prefill-per-token", "100us")
	run := func(args string) []record.Record {
		out, stderr, code := sh(t, time.Minute, "genload --url "+url+" "+args+" -n 12 --warmup 1 --max-tokens 2 -q")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", args, code, stderr)
		}
		var recs []record.Record
		for _, r := range readRecords(t, strings.NewReader(out)) {
			if r.Phase == record.PhaseMeasure {
				recs = append(recs, r)
			}
		}
		return recs
	}
	shared := run("--input-tokens 50 --shared-prefix-tokens 400")
	cold := run("--input-tokens 450")
	median := func(recs []record.Record, f func(r record.Record) float64) float64 {
		var v []float64
		for _, r := range recs {
			v = append(v, f(r))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	ttft := func(r record.Record) float64 { return *r.TTFTMs }
	uncached := func(r record.Record) float64 { return float64(r.PromptTokens - r.CachedTokens) }
	for _, r := range shared {
		if r.PromptTokens != 450+dataset.SaltWords || r.CachedTokens < 384 || r.CachedTokens > 416 {
			t.Errorf("shared: seq %d: %d prompt tokens, %d cached; want 450 and the salt, the 400-token prefix's blocks", r.Seq, r.PromptTokens, r.CachedTokens)
		}
	}
	for _, r := range cold {
		if r.PromptTokens != 450+dataset.SaltWords || r.CachedTokens > 16 {
			t.Errorf("cold: seq %d: %d prompt tokens, %d cached; want 450 and the salt, none (but a run's lead)", r.Seq, r.PromptTokens, r.CachedTokens)
		}
	}
	fall := median(cold, ttft) - median(shared, ttft)
	want := (median(cold, uncached) - median(shared, uncached)) * per
	if d := fall - want; d < -2 || d > 2 {
		t.Errorf("TTFT fell by %.2f ms (medians %.2f -> %.2f), want %.2f (uncached x prefill-per-token) within 2 ms",
			fall, median(cold, ttft), median(shared, ttft), want)
	}
	if m := median(shared, ttft); m < 20+50*per {
		t.Errorf("shared TTFT %.2f ms below the model's %.2f", m, 20+50*per)
	}
}
