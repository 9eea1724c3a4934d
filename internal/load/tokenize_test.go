package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"servebench/internal/dataset"
)

// tokenizeServer answers POST /tokenize with count(text), text being the
// prompt or the one message's content; fail makes it answer 500.
func tokenizeServer(t *testing.T, count func(text string, chat bool) int, fail *atomic.Bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tokenize" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if fail != nil && fail.Load() {
			http.Error(w, `{"error":{"message":"tokenizer down","type":"InternalServerError","code":500}}`, 500)
			return
		}
		var req struct {
			Prompt   *string `json:"prompt"`
			Messages []struct {
				Role, Content string
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("tokenize body: %v", err)
		}
		text, chat := "", req.Messages != nil
		if chat {
			if len(req.Messages) != 1 || req.Messages[0].Role != "user" {
				t.Errorf("messages %+v", req.Messages)
			}
			text = req.Messages[0].Content
		} else if req.Prompt != nil {
			text = *req.Prompt
		}
		n := count(text, chat)
		ids := make([]int, n)
		json.NewEncoder(w).Encode(map[string]any{"count": n, "max_model_len": 4096, "tokens": ids})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// pieces counts as llmsim's pieces tokenizer roughly does: a word of n
// letters is ceil(n/4) tokens, and chat adds a template of 7.
func pieces(text string, chat bool) int {
	n := 0
	for _, w := range strings.Fields(text) {
		n += (len(w) + 3) / 4
	}
	if chat {
		n += 7
	}
	return n
}

func synthetic(t *testing.T, n, prefix int) dataset.Source {
	src, err := dataset.New(dataset.Config{InputTokens: n, InputTokensRange: 0.5, SharedPrefixTokens: prefix, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestFitReachesTheRequestedTokens(t *testing.T) {
	for _, chat := range []bool{false, true} {
		srv := tokenizeServer(t, pieces, nil)
		tk := &tokenizer{hc: srv.Client(), url: srv.URL + "/tokenize", chat: chat}
		src := synthetic(t, 200, 0)
		per := 1.0
		for range 50 {
			it := src.Next()
			words := strings.Split(it.Prompt, " ")
			var got dataset.Item
			got, per = tk.fit(context.Background(), it, words, 1, per)
			if n := pieces(got.Prompt, chat); n != it.PromptWords {
				t.Fatalf("chat %v: fitted to %d tokens, want %d", chat, n, it.PromptWords)
			}
		}
		if tk.missed.Load() != 0 || tk.calls.Load() > 50*4 {
			t.Errorf("chat %v: %d missed, %d calls for 50 prompts", chat, tk.missed.Load(), tk.calls.Load())
		}
		t.Logf("chat %v: %.1f calls a prompt", chat, float64(tk.calls.Load())/50)
	}
}

// TestCalibrateKeepsTheSharedPrefix: every fitted prompt starts with the
// same prefix, itself fitted to its tokens, and the whole is exact.
func TestCalibrateKeepsTheSharedPrefix(t *testing.T) {
	srv := tokenizeServer(t, pieces, nil)
	// Unsalted, so that the prefix leads (the salt is fitted within the
	// requested tokens like any lead: TestCalibrateFitsTheSalt).
	cfg := &Config{URL: srv.URL, Model: "m", Requests: 1, SamePrompts: true, Dataset: dataset.Config{InputTokens: 50, SharedPrefixTokens: 40}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	src, report, err := calibrate(ctx, srv.Client(), cfg, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	var prefix string
	for i := range 20 {
		it := src.Next()
		if n := pieces(it.Prompt, false); n != 90 || it.PromptWords != 90 {
			t.Fatalf("prompt %d: %d tokens (%d asked), want 90", i, n, it.PromptWords)
		}
		words := strings.Fields(it.Prompt)
		var k, toks int
		for k = 0; toks < 40; k++ {
			toks += (len(words[k]) + 3) / 4
		}
		p := strings.Join(words[:k], " ")
		if toks != 40 || (prefix != "" && p != prefix) {
			t.Fatalf("prompt %d: prefix of %d tokens %q, first %q", i, toks, p, prefix)
		}
		prefix = p
	}
	report()
	if !strings.Contains(stderr.String(), "prompts fitted to their requested tokens") {
		t.Errorf("report: %q", stderr.String())
	}
}

func TestFitBounded(t *testing.T) {
	// A tokenizer that counts far more than anything fits: the kept words
	// alone are too many, so the prompt is sent as it came, a miss.
	srv := tokenizeServer(t, func(string, bool) int { return 1000 }, nil)
	tk := &tokenizer{hc: srv.Client(), url: srv.URL + "/tokenize"}
	it := dataset.Item{Prompt: "a b c d", PromptWords: 4}
	got, _ := tk.fit(context.Background(), it, strings.Split(it.Prompt, " "), 1, 1)
	if tk.missed.Load() != 1 || tk.calls.Load() > maxTokenizeCalls || got.PromptWords != 4 {
		t.Errorf("missed %d in %d calls: %+v", tk.missed.Load(), tk.calls.Load(), got)
	}
	// One that never counts what fillers add: at most maxTokenizeCalls.
	srv = tokenizeServer(t, func(text string, _ bool) int { return 2 }, nil)
	tk = &tokenizer{hc: srv.Client(), url: srv.URL + "/tokenize"}
	tk.fit(context.Background(), it, strings.Split(it.Prompt, " "), 1, 1)
	if tk.missed.Load() != 1 || tk.calls.Load() != maxTokenizeCalls {
		t.Errorf("stuck tokenizer: missed %d in %d calls, want 1 in %d", tk.missed.Load(), tk.calls.Load(), maxTokenizeCalls)
	}
	// A tokenizer that fails mid-run: the prompt goes as it came.
	var fail atomic.Bool
	fail.Store(true)
	srv = tokenizeServer(t, pieces, &fail)
	tk = &tokenizer{hc: srv.Client(), url: srv.URL + "/tokenize"}
	if got, _ := tk.fit(context.Background(), it, strings.Split(it.Prompt, " "), 1, 1); got.Prompt != it.Prompt || tk.failures.Load() != 1 || !strings.Contains(*tk.lastErr.Load(), "tokenizer down") {
		t.Errorf("failing tokenizer: %+v, %d failures", got, tk.failures.Load())
	}
}

func TestCalibrateModes(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	newCfg := func(url, mode string) *Config {
		cfg := &Config{URL: url, Model: "m", Requests: 1, Tokenize: mode, Dataset: dataset.Config{InputTokens: 10}}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	ctx := context.Background()
	var stderr bytes.Buffer
	_, _, err := calibrate(ctx, notFound.Client(), newCfg(notFound.URL, TokenizeOn), &stderr)
	if !errors.Is(err, ErrCannotTokenize) || !strings.Contains(err.Error(), "/tokenize: HTTP 404") {
		t.Errorf("on against a 404: %v", err)
	}
	cfg := newCfg(notFound.URL, TokenizeAuto)
	src, _, err := calibrate(ctx, notFound.Client(), cfg, &stderr)
	if err != nil || src != cfg.source || !strings.Contains(stderr.String(), "the server does not tokenize") {
		t.Errorf("auto against a 404: %v, %q", err, stderr.String())
	}
	srv := tokenizeServer(t, pieces, nil)
	cfg = newCfg(srv.URL, TokenizeOff)
	if src, _, err := calibrate(ctx, srv.Client(), cfg, &stderr); err != nil || src != cfg.source {
		t.Errorf("off: %v", err)
	}
	bad := &Config{URL: srv.URL, Requests: 1, Tokenize: "yes"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `Tokenize "yes": want auto, on or off`) {
		t.Errorf("Tokenize yes: %v", err)
	}
}

// TestTokenizeSendsTheTemplateFields: chat_template_kwargs from the
// run's extra body reach /tokenize, which renders the template with them.
func TestTokenizeSendsTheTemplateFields(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		got.Store(body)
		w.Write([]byte(`{"count":3,"max_model_len":9,"tokens":[1,2,3]}`))
	}))
	defer srv.Close()
	cfg := &Config{URL: srv.URL, Model: "m", Requests: 1, Endpoint: "chat", Dataset: dataset.Config{InputTokens: 3},
		ExtraBody: map[string]any{"chat_template_kwargs": map[string]any{"enable_thinking": false}, "temperature": 0.5}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, _, err := calibrate(ctx, srv.Client(), cfg, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	body, _ := got.Load().(map[string]any)
	if kw, ok := body["chat_template_kwargs"].(map[string]any); !ok || kw["enable_thinking"] != false || body["temperature"] != nil || body["model"] != "m" || body["messages"] == nil {
		t.Errorf("/tokenize got %v", body)
	}
}

// TestCalibrateFitsTheSalt: a salted run's prompts are fitted with their
// salt, which leads every one of them, to exactly the requested tokens
// plus the salt's words (what the record's input_tokens_requested says).
func TestCalibrateFitsTheSalt(t *testing.T) {
	srv := tokenizeServer(t, pieces, nil)
	cfg := &Config{URL: srv.URL, Model: "m", Requests: 1, Dataset: dataset.Config{InputTokens: 50}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, _, err := calibrate(ctx, srv.Client(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		it := src.Next()
		if !strings.HasPrefix(it.Prompt, cfg.salt+" ") {
			t.Fatalf("prompt %d does not lead with the run's salt %q: %.40q", i, cfg.salt, it.Prompt)
		}
		if n, want := pieces(it.Prompt, false), 50+dataset.SaltWords; n != want || it.PromptWords != want {
			t.Fatalf("prompt %d: %d tokens (%d asked), want %d", i, n, it.PromptWords, want)
		}
	}
}
