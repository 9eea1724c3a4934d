package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// cachedUsage is a whole answer's usage with the prefix cache's details.
type cachedUsage struct {
	Usage struct {
		PromptTokens        int `json:"prompt_tokens"`
		PromptTokensDetails *struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
}

func (u cachedUsage) cached() int {
	if u.Usage.PromptTokensDetails == nil {
		return 0
	}
	return u.Usage.PromptTokensDetails.CachedTokens
}

func words(n int, tag string) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("%s%d", tag, i)
	}
	return strings.Join(w, " ")
}

// completionUsage posts a completions request for prompt and returns its
// usage.
func completionUsage(t *testing.T, url, prompt string, stream bool) cachedUsage {
	t.Helper()
	q, _ := json.Marshal(prompt)
	body := fmt.Sprintf(`{"prompt":%s,"max_tokens":2}`, q)
	if stream {
		body = fmt.Sprintf(`{"prompt":%s,"max_tokens":2,"stream":true,"stream_options":{"include_usage":true}}`, q)
		_, events := streamEvents(t, http.DefaultClient, url+"/v1/completions", body)
		var u cachedUsage
		if err := json.Unmarshal([]byte(events[len(events)-2].data), &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	resp, b := post(t, url+"/v1/completions", body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var u cachedUsage
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPrefixCacheHits(t *testing.T) {
	s, ts := newTestServer(t, Config{CacheBlocks: 100, BlockTokens: 16})
	shared := words(40, "s")
	for _, stream := range []bool{false, true} {
		s.cache.reset()
		if u := completionUsage(t, ts.URL, shared+" "+words(10, "a"), stream); u.cached() != 0 || u.Usage.PromptTokens != 50 {
			t.Fatalf("cold: %+v cached %d, want 50 tokens, none cached", u.Usage, u.cached())
		}
		// 40 shared tokens: 2 full blocks in common.
		if u := completionUsage(t, ts.URL, shared+" "+words(10, "b"), stream); u.cached() != 32 {
			t.Errorf("stream=%v shared prefix: cached %d, want 32", stream, u.cached())
		}
		// The same 48-token prompt: 3 full blocks, but the last token is never
		// cached, so at most 2 blocks hit.
		p48 := words(48, "x")
		completionUsage(t, ts.URL, p48, stream)
		if u := completionUsage(t, ts.URL, p48, stream); u.cached() != 32 {
			t.Errorf("stream=%v same 48 tokens: cached %d, want 32 (never the last token)", stream, u.cached())
		}
		// A different first token changes every block's hash.
		if u := completionUsage(t, ts.URL, "z "+shared, stream); u.cached() != 0 {
			t.Errorf("stream=%v other first token: cached %d, want 0", stream, u.cached())
		}
	}
	// Chat: the same messages twice.
	body := `{"messages":[{"role":"user","content":"` + words(33, "c") + `"}],"max_tokens":1}`
	post(t, ts.URL+"/v1/chat/completions", body)
	_, b := post(t, ts.URL+"/v1/chat/completions", body)
	var u cachedUsage
	json.Unmarshal(b, &u)
	if u.cached() != 32 {
		t.Errorf("chat: cached %d, want 32: %s", u.cached(), b)
	}
	// Reset empties it.
	resp, b := post(t, ts.URL+"/reset_prefix_cache", "")
	if resp.StatusCode != 200 || len(b) != 0 || s.cache.len() != 0 {
		t.Fatalf("reset: %d %q, %d blocks left", resp.StatusCode, b, s.cache.len())
	}
	_, b = post(t, ts.URL+"/v1/chat/completions", body)
	u = cachedUsage{}
	json.Unmarshal(b, &u)
	if u.cached() != 0 || strings.Contains(string(b), "prompt_tokens_details") {
		t.Errorf("after reset: %s", b)
	}
}

func TestPrefixCacheMetrics(t *testing.T) {
	_, ts := newTestServer(t, Config{CacheBlocks: 100})
	p := words(40, "m")
	completionUsage(t, ts.URL, p, false)
	completionUsage(t, ts.URL, p, false)
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	for _, want := range []string{
		`vllm:prefix_cache_queries_total{model_name="llmsim/tiny"} 80`,
		`vllm:prefix_cache_hits_total{model_name="llmsim/tiny"} 32`,
	} {
		if !strings.Contains(sb.String(), want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, sb.String())
		}
	}
}

func TestPrefixCacheLRU(t *testing.T) {
	c := newPrefixCache(3)
	if h := c.admit([]uint64{1, 2}, 2); h != 0 {
		t.Fatalf("cold hits %d", h)
	}
	if h := c.admit([]uint64{1, 2, 3}, 3); h != 2 {
		t.Fatalf("hits %d, want 2", h)
	}
	// A fourth block evicts the least recently used: the tail of the
	// last prompt (3), not its head.
	c.admit([]uint64{9}, 1)
	if h := c.admit([]uint64{1, 2, 3}, 3); h != 2 {
		t.Errorf("after eviction: hits %d, want 2 (block 3 evicted first)", h)
	}
	if h := c.admit([]uint64{5, 1}, 2); h != 0 {
		t.Errorf("a miss first: hits %d, want 0", h)
	}
	if c.len() != 3 {
		t.Errorf("len %d, want 3", c.len())
	}
	c.reset()
	if c.len() != 0 || c.admit([]uint64{1}, 1) != 0 {
		t.Error("reset left blocks")
	}
}

// TestPrefillPerToken: TTFT is --ttft plus PrefillPerToken for each prompt
// token the cache did not serve.
func TestPrefillPerToken(t *testing.T) {
	const per = 200 * time.Microsecond
	s, ts := newTestServer(t, Config{CacheBlocks: 100, TTFT: 5 * time.Millisecond, PrefillPerToken: per})
	prompt := words(161, "p") // 10 full blocks before the last token
	ttft := func() time.Duration {
		q, _ := json.Marshal(prompt)
		_, events := streamEvents(t, http.DefaultClient, ts.URL+"/v1/completions",
			fmt.Sprintf(`{"prompt":%s,"max_tokens":1,"stream":true}`, q))
		return contentTimes(t, events)[0]
	}
	// Five cold-warm pairs, judged at the median: a busy machine delays
	// single requests by milliseconds.
	var colds, falls []time.Duration
	for range 5 {
		s.cache.reset()
		cold := ttft()
		warm := ttft()
		colds, falls = append(colds, cold), append(falls, cold-warm)
	}
	want := 160 * per // 161 tokens cold, 1 warm
	if got := median(falls); abs(got-want) > 2*time.Millisecond {
		t.Errorf("cold - warm TTFT = %v at the median (%v), want %v within 2ms", got, falls, want)
	}
	if c := median(colds); c < 5*time.Millisecond+161*per {
		t.Errorf("cold TTFT %v below the model's %v", c, 5*time.Millisecond+161*per)
	}
}

// BenchmarkPromptCache: what the prefix cache costs a request with a
// 1000-word prompt (tokenizing and hashing it, one cache admission), with
// each tokenizer, against no cache.
func BenchmarkPromptCache(b *testing.B) {
	q, _ := json.Marshal(words(1000, "w"))
	body := `{"prompt":` + string(q) + `,"max_tokens":1}`
	for _, bm := range []struct {
		name string
		cfg  Config
	}{
		{"no-cache", Config{}},
		{"words", Config{CacheBlocks: DefaultCacheBlocks}},
		{"pieces", Config{CacheBlocks: DefaultCacheBlocks, Tokenizer: TokenizerPieces}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			s := New(bm.cfg)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					r := httptest.NewRequest("POST", "/v1/completions", strings.NewReader(body))
					clear(w.h)
					s.ServeHTTP(w, r)
				}
			})
		})
	}
}
