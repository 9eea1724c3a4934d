package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/openai"
)

// The values of Config.Tokenize.
const (
	TokenizeAuto = "auto" // calibrate when the server answers POST /tokenize
	TokenizeOn   = "on"   // calibrate, or fail when the server cannot tokenize
	TokenizeOff  = "off"  // send synthetic prompts of N words, as they come
)

// ErrCannotTokenize is Run's error when Config.Tokenize is on and the
// server does not answer POST /tokenize: nothing was sent.
var ErrCannotTokenize = errors.New("the server cannot tokenize")

// Calibration bounds: at most maxTokenizeCalls /tokenize calls a prompt
// (it usually takes 1 to 3), prompts calibrated up to calibrateAhead ahead
// of the sends.
const (
	maxTokenizeCalls = 8
	calibrateAhead   = 64
)

// fillers are the words a calibrated prompt is topped up with, one token
// each after a space on every tokenizer servebench knows (and on llmsim's
// pieces tokenizer); the count is checked anyway.
var fillers = [...]string{"the", "of", "and", "to", "in", "is", "it", "on", "was", "for"}

// tokenizer asks the server's POST /tokenize how many tokens a prompt is,
// rendered as the run sends it: a completions prompt, or chat messages
// (the chat template and generation prompt included).
type tokenizer struct {
	hc     *http.Client
	url    string
	model  string
	apiKey string
	header http.Header
	chat   bool
	// template holds the run's --extra-body fields that shape a chat
	// template (chat_template, chat_template_kwargs), sent to /tokenize
	// too, as vLLM's TokenizeChatRequest takes them.
	template map[string]any

	calls    atomic.Int64
	spent    atomic.Int64 // nanoseconds in calls
	prompts  atomic.Int64 // calibrated prompts
	missed   atomic.Int64 // prompts left off their length
	failures atomic.Int64 // calls that failed mid-run
	lastErr  atomic.Pointer[string]
}

// count is the server's token count of text.
func (t *tokenizer) count(ctx context.Context, text string) (int, error) {
	req := map[string]any{}
	if t.model != "" {
		req["model"] = t.model
	}
	if t.chat {
		req["messages"] = []openai.Message{{Role: "user", Content: text}}
		for k, v := range t.template {
			req[k] = v
		}
	} else {
		req["prompt"] = text
	}
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	defer func() {
		t.calls.Add(1)
		t.spent.Add(int64(time.Since(start)))
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for name, values := range t.header {
		hr.Header[name] = values
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Del("Accept")
	openai.SetAuth(hr, t.apiKey)
	resp, err := t.hc.Do(hr)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, fmt.Errorf("%s: reading body: %w", t.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, &openai.HTTPError{URL: t.url, Status: resp.StatusCode, Message: openai.ErrorMessage(data)}
	}
	var out struct {
		Count  *int  `json:"count"`
		Tokens []int `json:"tokens"`
	}
	if err := json.Unmarshal(data, &out); err != nil || (out.Count == nil && out.Tokens == nil) {
		return 0, fmt.Errorf("%s: not a tokenize answer (want {\"count\":N,\"tokens\":[...]}): %.200q", t.url, data)
	}
	if out.Count != nil {
		return *out.Count, nil
	}
	return len(out.Tokens), nil
}

// calibrated is a Source whose synthetic prompts are fitted to their
// requested token counts by the server's tokenizer, in a goroutine that
// runs up to calibrateAhead prompts ahead of the sends.
type calibrated struct {
	items chan dataset.Item
}

func (c *calibrated) Next() dataset.Item { return <-c.items }

// calibrate returns the run's prompt source: cfg.source itself, or (for
// synthetic prompts, unless Tokenize is off) one that calibrates them
// with the server's POST /tokenize until ctx ends. With Tokenize auto, a
// server that cannot tokenize gets the prompts as they are, and a note
// says so. report, called at the end of the run, says what calibration
// did and cost.
func calibrate(ctx context.Context, hc *http.Client, cfg *Config, stderr io.Writer) (src dataset.Source, report func(), err error) {
	src, report = cfg.source, func() {}
	if cfg.Tokenize == TokenizeOff || cfg.Dataset.InputTokens == 0 || cfg.Endpoint == openai.EndpointEmbeddings || cfg.source == nil {
		// (No source of single prompts: conversations and traces, whose
		// texts are not fitted.)
		return src, report, nil
	}
	t := &tokenizer{hc: hc, url: cfg.Target.Root + "/tokenize", model: cfg.Model, apiKey: cfg.APIKey,
		header: cfg.Headers, chat: cfg.Endpoint == openai.EndpointChat}
	for _, k := range []string{"chat_template", "chat_template_kwargs"} {
		if v, ok := cfg.ExtraBody[k]; ok {
			if t.template == nil {
				t.template = map[string]any{}
			}
			t.template[k] = v
		}
	}
	if _, err := t.count(ctx, "hello"); err != nil {
		if cfg.Tokenize == TokenizeOn {
			return nil, nil, fmt.Errorf("%w: POST %v", ErrCannotTokenize, err)
		}
		if !cfg.Quiet {
			fmt.Fprintf(stderr, "genload: note: synthetic prompts are %d words, not exactly %d tokens: the server does not tokenize (POST %v); --tokenize off says this is meant\n",
				cfg.Dataset.InputTokens, cfg.Dataset.InputTokens, err)
		}
		return src, report, nil
	}
	c := &calibrated{items: make(chan dataset.Item, calibrateAhead)}
	prefix, base := cfg.Dataset.SharedPrefixTokens, cfg.source
	go func() {
		perWord := 1.0      // tokens a word, as the last prompt came out
		var shared []string // the shared prefix, fitted to its tokens once
		for {
			// Salted first, so that the salt is fitted within the
			// requested tokens (Salted counts its words in PromptWords):
			// the prompter does not salt calibrated items again.
			it := dataset.Salted(base.Next(), cfg.salt)
			if it.Prompt != "" && len(it.Messages) == 0 && it.PromptWords > 0 {
				words := strings.Split(it.Prompt, " ")
				lead := max(len(words)-it.PromptWords, 0) // words before the prefix (a salt)
				if prefix > 0 && lead+prefix <= len(words) {
					if shared == nil {
						shared = t.fitPrefix(ctx, words[lead:lead+prefix], prefix)
					}
					words = slices.Concat(words[:lead], shared, words[lead+prefix:])
					it.Prompt = strings.Join(words, " ")
				}
				it, perWord = t.fit(ctx, it, words, min(len(words), lead+len(shared)+1), perWord)
			}
			select {
			case c.items <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	report = func() {
		calls, prompts := t.calls.Load(), t.prompts.Load()
		if cfg.Quiet || prompts == 0 {
			return
		}
		fmt.Fprintf(stderr, "genload: --tokenize: %d prompts fitted to their requested tokens in %d POST /tokenize calls (%.1f a prompt, %.2f ms each)",
			prompts, calls, float64(calls)/float64(prompts), float64(t.spent.Load())/float64(max(calls, 1))/1e6)
		if m := t.missed.Load(); m > 0 {
			fmt.Fprintf(stderr, "; %d missed their length (in %d calls each at most)", m, maxTokenizeCalls)
		}
		if f := t.failures.Load(); f > 0 {
			fmt.Fprintf(stderr, "; %d calls failed (%s): those prompts went as they were", f, *t.lastErr.Load())
		}
		fmt.Fprintln(stderr)
	}
	return c, report, nil
}

// fitPrefix cuts or tops up the shared prefix's words until the server
// counts exactly tokens of them alone (as a completions prompt), once a
// run: every prompt then starts with the same fitted prefix, which its
// own fit leaves whole. Calls that fail leave the words as they are.
func (t *tokenizer) fitPrefix(ctx context.Context, words []string, tokens int) []string {
	plain := &tokenizer{hc: t.hc, url: t.url, model: t.model, apiKey: t.apiKey, header: t.header}
	it, _ := plain.fit(ctx, dataset.Item{Prompt: strings.Join(words, " "), PromptWords: tokens}, words, 1, 1)
	t.calls.Add(plain.calls.Load())
	t.spent.Add(plain.spent.Load())
	t.failures.Add(plain.failures.Load())
	t.missed.Add(plain.missed.Load())
	return strings.Split(it.Prompt, " ")
}

// fit cuts or tops up a synthetic prompt (it.Prompt, split into words)
// until the server counts exactly its requested tokens (it.PromptWords:
// the shared prefix and the drawn length), in at most maxTokenizeCalls
// calls. The first keep words (a lead, the shared prefix, a word) are
// kept whole, so that what requests share they still share; words are
// taken off the end, or filler words added there. perWord, the tokens a
// word of the last prompt, makes the first guess; fit returns this
// prompt's.
func (t *tokenizer) fit(ctx context.Context, it dataset.Item, words []string, keep int, perWord float64) (dataset.Item, float64) {
	target := it.PromptWords
	k := min(len(words), max(keep, int(float64(target)/perWord+0.5)))
	fill, over := 0, len(words)+1 // over: the fewest words known to be too many
	text := it.Prompt
	t.prompts.Add(1)
	for range maxTokenizeCalls {
		var b strings.Builder
		b.WriteString(strings.Join(words[:k], " "))
		for i := range fill {
			b.WriteByte(' ')
			b.WriteString(fillers[(k+i)%len(fillers)])
		}
		text = b.String()
		n, err := t.count(ctx, text)
		if err != nil {
			t.failures.Add(1)
			msg := err.Error()
			t.lastErr.Store(&msg)
			return it, perWord
		}
		if n == target {
			it.Prompt = text
			return it, float64(n) / float64(k+fill)
		}
		per := float64(n) / float64(k+fill)
		switch {
		case n > target && fill > 0:
			fill -= min(fill, n-target)
		case n > target:
			if k == keep {
				t.missed.Add(1) // the kept words alone are too many
				it.Prompt = text
				return it, per
			}
			over = min(over, k)
			k = max(keep, k-max(1, int(float64(n-target)/per)))
		case k+max(1, int(float64(target-n)/per)) < over && k < len(words):
			k = min(len(words), k+max(1, int(float64(target-n)/per)))
		default:
			fill += target - n // each filler a token
		}
	}
	t.missed.Add(1)
	it.Prompt = text
	return it, perWord
}
