package e2e

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// The tests here hold genload's cache controls and traffic shapes to
// llmsim's prefix cache (blocks of 16 tokens, one token a word, hashes
// chained, the last prompt token never served from the cache): what a
// run shares hits, what it does not share does not, and the server's own
// counters agree with the records.

// cacheRun runs genload against url and returns its records by seq.
func cacheRun(t *testing.T, url, flags string) []record.Record {
	t.Helper()
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" "+flags+" -q")
	if code != 0 {
		t.Fatalf("genload %s: exit %d: %s", flags, code, stderr)
	}
	recs := readRecords(t, strings.NewReader(out))
	slices.SortFunc(recs, func(a, b record.Record) int { return a.Seq - b.Seq })
	return recs
}

// wholeBlocks is what llmsim's cache can serve of a prompt of n tokens
// that it holds entirely: its full blocks, but never the last token.
func wholeBlocks(n int) int { return (n - 1) / 16 * 16 }

// TestCacheAcrossRuns: two runs of one --seed against one server. Salted
// (the default), the second finds nothing of the first in the cache;
// with --same-prompts it finds every prompt whole. --reset-prefix-cache
// before the second makes it cold again.
func TestCacheAcrossRuns(t *testing.T) {
	url := startSim(t, "--ttft", "2ms", "--itl", "1ms")
	const flags = "--input-tokens 60 --seed 9 -n 4 --max-tokens 2 --ignore-eos"
	cacheRun(t, url, flags)
	for _, r := range cacheRun(t, url, flags) {
		if r.CachedTokens != 0 || r.PromptSalt != record.SaltRun {
			t.Errorf("salted second run: seq %d: %d cached tokens (salt %q), want none", r.Seq, r.CachedTokens, r.PromptSalt)
		}
	}
	cacheRun(t, url, flags+" --same-prompts")
	for _, r := range cacheRun(t, url, flags+" --same-prompts") {
		if want := wholeBlocks(r.PromptTokens); r.CachedTokens != want {
			t.Errorf("--same-prompts repeat: seq %d: %d of %d prompt tokens cached, want %d", r.Seq, r.CachedTokens, r.PromptTokens, want)
		}
	}
	for _, r := range cacheRun(t, url, flags+" --same-prompts --reset-prefix-cache") {
		if r.CachedTokens != 0 {
			t.Errorf("after --reset-prefix-cache: seq %d: %d cached tokens, want none", r.Seq, r.CachedTokens)
		}
	}
}

// TestConversationCache: in a 3-turn conversation every turn resends the
// history; llmsim serves what it has seen of it from its cache (not the
// answers it generated: it does not cache those), so each turn's TTFT is
// --ttft plus its uncached tokens at --prefill-per-token, within 2 ms of
// that model, and later turns come well under what the whole history
// would cost.
func TestConversationCache(t *testing.T) {
	const ttft, perToken = 5.0, 0.2 // ms
	url := startSim(t, "--ttft", "5ms", "--itl", "1ms", "--prefill-per-token", "200us")
	recs := cacheRun(t, url, "--endpoint chat --turns 3 --input-tokens 100 --output-tokens 8 --ignore-eos -n 4 -c 2")
	var misses []string
	for _, r := range recs {
		if !r.OK || r.TTFTMs == nil {
			t.Fatalf("seq %d: %+v", r.Seq, r)
		}
		model := ttft + perToken*float64(r.PromptTokens-r.CachedTokens)
		if d := *r.TTFTMs - model; math.Abs(d) > 2 {
			misses = append(misses, "off the model")
			t.Logf("turn %d: TTFT %.2f ms, the model %.2f ms (%d of %d tokens cached)", r.Turn, *r.TTFTMs, model, r.CachedTokens, r.PromptTokens)
		}
		if r.Turn > 1 {
			if r.CachedTokens < wholeBlocks(100) {
				t.Errorf("turn %d: %d cached tokens: the first turn's message is in the cache", r.Turn, r.CachedTokens)
			}
			if whole := ttft + perToken*float64(r.PromptTokens); *r.TTFTMs > whole-perToken*float64(r.CachedTokens)/2 {
				t.Errorf("turn %d: TTFT %.2f ms, the whole history would cost %.2f ms", r.Turn, *r.TTFTMs, whole)
			}
		}
	}
	// A busy machine delays a few wake-ups by more than 2 ms: judge the
	// model on most requests, not every one.
	if len(misses) > len(recs)/4 {
		t.Errorf("%d of %d TTFTs off llmsim's model by more than 2 ms", len(misses), len(recs))
	}
}

// TestTraceCacheHits: a mooncake trace whose requests share hash blocks:
// the second request finds the first's shared block (the run's salt leads
// both) in llmsim's cache, one that shares none finds nothing; and the
// server's own prefix-cache counters, sampled by --server-metrics, give
// summarize the hit rate the records show.
func TestTraceCacheHits(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.jsonl")
	lines := `{"timestamp": 0, "input_length": 600, "output_length": 2, "hash_ids": [1, 2]}
{"timestamp": 30, "input_length": 600, "output_length": 2, "hash_ids": [1, 3]}
{"timestamp": 60, "input_length": 300, "output_length": 2, "hash_ids": [7]}
`
	if err := os.WriteFile(trace, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	url := startSim(t, "--ttft", "2ms", "--itl", "1ms")
	m, r := filepath.Join(dir, "m.jsonl"), filepath.Join(dir, "r.jsonl")
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --trace "+quote(trace)+" --ignore-eos -q --server-metrics "+quote(m)+
		" --server-metrics-interval 50ms > "+quote(r)+" && summarize --format json "+quote(r)+" "+quote(m))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(r)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, strings.NewReader(string(data)))
	slices.SortFunc(recs, func(a, b record.Record) int { return a.Seq - b.Seq })
	// 4 salt words, then block 1's 512 words: 516 shared tokens, 512 of
	// them in whole blocks of 16.
	if got := []int{recs[0].CachedTokens, recs[1].CachedTokens, recs[2].CachedTokens}; !slices.Equal(got, []int{0, 512, 0}) {
		t.Errorf("cached tokens %v, want [0 512 0]: only the second request shares a block with an earlier one", got)
	}
	var rep struct {
		Groups []map[string]any `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Groups) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	g := rep.Groups[0]
	hit, ok1 := g["server_prefix_cache_hit_rate"].(float64)
	share, ok2 := g["cached_share"].(float64)
	if !ok1 || !ok2 || math.Abs(hit-share) > 1e-9 {
		t.Errorf("server_prefix_cache_hit_rate %v, the records' cached_share %v: llmsim counts what it served", g["server_prefix_cache_hit_rate"], g["cached_share"])
	}
	if want := 512.0 / float64(recs[0].PromptTokens+recs[1].PromptTokens+recs[2].PromptTokens); math.Abs(share-want) > 1e-9 {
		t.Errorf("cached_share %v, want %v", share, want)
	}
}
