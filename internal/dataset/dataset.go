// Package dataset produces the prompts a benchmark sends: synthetic prompts
// of a chosen length, literal prompts, prompt files and ShareGPT
// conversations. Everything random is drawn from one seed, so that a run can
// be repeated with byte-identical requests and two servers compared on the
// same work. It knows nothing about HTTP or flags, though its errors name
// genload's flags, since that is where a user meets them.
package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"servebench/internal/openai"
	"servebench/internal/setting"
)

// DefaultPrompt is sent when no source is chosen, so that the quickest run
// still sends something a person can read in the logs.
const DefaultPrompt = "Write a short story about a lighthouse keeper who finds a message in a bottle."

// maxLength bounds every length in a Config. A synthetic prompt is built in
// memory at about 5.7 bytes a word, so a slip such as --input-tokens 1e9 is
// refused rather than allocating gigabytes per request.
const maxLength = 1 << 24

// Item is one request's input. Items from a Source may share memory (a
// cycled chat prompt returns the same Messages each time round): treat them
// as read-only.
type Item struct {
	// Prompt is the completions prompt, and the chat user message when
	// Messages is empty. It is empty when Messages is set: a chat item has
	// no single text to send to /v1/completions.
	Prompt string
	// Messages is set by prompt-file lines with "messages".
	Messages []openai.Message
	// MaxTokens is this request's max_tokens; 0 = the run's --max-tokens.
	MaxTokens int
	// Extra are the body fields of a prompt-file line that genload does not
	// interpret (tools, response_format, ...), sent as they are; nil when
	// none.
	Extra map[string]any `json:",omitempty"`
	// PromptWords is how many words were generated, or counted in the
	// prompt or all message contents, shared prefix included. It stands in
	// for the prompt's tokens until the server's usage gives the true count.
	PromptWords int
}

// Config chooses the prompts of a run. At most one of Prompts, PromptFile,
// ShareGPTFile and InputTokens is set; with none, every request sends
// DefaultPrompt.
type Config struct {
	// Seed makes a run reproducible: the same Config gives byte-identical
	// items in the same order. Prompt words, output lengths, the shared
	// prefix and the ShareGPT order each draw from their own stream of it,
	// so that changing --output-tokens does not change the prompts.
	Seed int64

	// InputTokens selects synthetic prompts of that many words (about as
	// many tokens, see words), each length drawn uniformly from
	// [floor(N(1-R)), ceil(N(1+R))] with R = InputTokensRange, as vllm
	// bench's --random-input-len and --random-range-ratio do.
	InputTokens      int
	InputTokensRange float64

	// OutputTokens sets each request's max_tokens, drawn by the same rule
	// with OutputTokensRange; 0 leaves it to the run. A prompt-file line's
	// own max_tokens wins over it; it wins over ShareGPT's reply lengths.
	OutputTokens      int
	OutputTokensRange float64

	// SharedPrefixTokens prepends the same N synthetic words, and a space,
	// to every prompt of the run (to the first user message of a chat
	// item), so that a prefix cache can serve them: the knob of
	// prefix-cache studies. Like vLLM's --random-prefix-len it comes on top
	// of InputTokens.
	SharedPrefixTokens int
	// PrefixGroups > 1 makes that many distinct shared prefixes, of
	// SharedPrefixTokens words each; every item takes one, picked by
	// PrefixMix ("" or uniform; zipf:S), seeded (see prefix.go).
	PrefixGroups int
	PrefixMix    string

	// PromptFile has a prompt a line, sent in turn: plain text, or a JSON
	// object with "prompt" (a string) or "messages" (an array of {"role",
	// "content"} with a "user" message) and optionally "max_tokens".
	PromptFile string
	// ShareGPTFile is a JSON array of {"conversations": [{"from", "value"},
	// ...]}: each conversation's first human turn is a prompt, and its reply's
	// length the max_tokens. Conversations are filtered as vllm bench does
	// and shuffled by Seed.
	ShareGPTFile string
	// Prompts are literal prompts, sent in turn.
	Prompts []string
}

// Source yields the items of a run in a deterministic order. Next never
// fails and never ends: finite sources cycle, as a run may want more
// requests than a file has lines. It is called from one goroutine (genload's
// dispatcher) and is not safe for concurrent use.
type Source interface {
	Next() Item
}

// New checks cfg, reads the file it names and returns its Source. All
// reading and checking happens here, so that a bad file fails the run before
// the first request and Next has nothing left that can fail.
func New(cfg Config) (Source, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.PrefixGroups > 1 {
		return newGrouped(cfg)
	}
	prefix := syntheticText(newRand(cfg.Seed, streamPrefix), cfg.SharedPrefixTokens)
	out := outputs{rng: newRand(cfg.Seed, streamOutputs)}
	if cfg.OutputTokens > 0 {
		out.length, out.set = newLengthRange(cfg.OutputTokens, cfg.OutputTokensRange), true
	}
	if cfg.InputTokens > 0 {
		return newSynthetic(cfg, prefix, out), nil
	}
	items, err := cfg.fixedItems()
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i] = withPrefix(items[i], prefix)
	}
	return &cycle{items: items, out: out}, nil
}

// validate checks what can be checked without reading a file.
func (c Config) validate() error {
	var chosen []string
	if len(c.Prompts) > 0 {
		chosen = append(chosen, "{Prompts}")
	}
	if c.PromptFile != "" {
		chosen = append(chosen, "{PromptFile}")
	}
	if c.ShareGPTFile != "" {
		chosen = append(chosen, "{ShareGPTFile}")
	}
	if c.InputTokens > 0 {
		chosen = append(chosen, "{InputTokens}")
	}
	if err := c.validatePrefixGroups(); err != nil {
		return err
	}
	if len(chosen) > 1 {
		return setting.Errorf("%s cannot be used together: choose one of {Prompts}, {PromptFile}, {ShareGPTFile} and {InputTokens}",
			strings.Join(chosen, " and "))
	}
	for _, l := range []struct {
		field string
		n     int
	}{{"InputTokens", c.InputTokens}, {"OutputTokens", c.OutputTokens}, {"SharedPrefixTokens", c.SharedPrefixTokens}} {
		if l.n < 0 || l.n > maxLength {
			return setting.Errorf("{%s} %d: want 0 to %d", l.field, l.n, maxLength)
		}
	}
	for _, r := range []struct {
		field, base string
		ratio       float64
		n           int
	}{{"InputTokensRange", "InputTokens", c.InputTokensRange, c.InputTokens},
		{"OutputTokensRange", "OutputTokens", c.OutputTokensRange, c.OutputTokens}} {
		if !(r.ratio >= 0 && r.ratio < 1) { // also refuses NaN
			return setting.Errorf("{%s} %v: want a ratio in [0, 1)", r.field, r.ratio)
		}
		if r.ratio > 0 && r.n == 0 {
			return setting.Errorf("{%s} needs {%s}", r.field, r.base)
		}
	}
	return nil
}

// fixedItems are the items of every source but the synthetic one.
func (c Config) fixedItems() ([]Item, error) {
	switch {
	case len(c.Prompts) > 0:
		items := make([]Item, len(c.Prompts))
		for i, p := range c.Prompts {
			if strings.TrimSpace(p) == "" {
				return nil, setting.Errorf("{Prompts} number %d is empty", i+1)
			}
			items[i] = Item{Prompt: p}
		}
		return items, nil
	case c.PromptFile != "":
		return readPromptFile(c.PromptFile)
	case c.ShareGPTFile != "":
		items, err := readShareGPTFile(c.ShareGPTFile, c.OutputTokens)
		if err != nil {
			return nil, err
		}
		// vLLM shuffles ShareGPT with random.seed(seed) too; Python's
		// order cannot be reproduced here, only the idea that the seed,
		// not the file's order, decides which conversations come first.
		rng := newRand(c.Seed, streamShuffle)
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		return items, nil
	default:
		return []Item{{Prompt: DefaultPrompt}}, nil
	}
}

// withPrefix prepends the shared prefix, if any, and counts the item's words.
func withPrefix(it Item, prefix string) Item {
	if prefix != "" {
		if len(it.Messages) > 0 {
			msgs := slices.Clone(it.Messages)
			i := slices.IndexFunc(msgs, func(m openai.Message) bool { return m.Role == "user" })
			msgs[i].Content = prefix + " " + msgs[i].Content // parseLine demands a user message
			it.Messages = msgs
		} else {
			it.Prompt = prefix + " " + it.Prompt
		}
	}
	it.PromptWords = countWords(it.Prompt)
	for _, m := range it.Messages {
		it.PromptWords += countWords(m.Content)
	}
	return it
}

// Streams of the seed. Each purpose draws from its own PCG stream, so that
// changing one setting (say --output-tokens-range) leaves the other draws,
// and so the prompts, as they were. The constants are arbitrary odd numbers
// far apart; changing one changes every run's items for a given seed.
const (
	streamPrompts uint64 = 0x9e3779b97f4a7c15
	streamOutputs uint64 = 0xbf58476d1ce4e5b9
	streamPrefix  uint64 = 0x94d049bb133111eb
	streamShuffle uint64 = 0x2545f4914f6cdd1d
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// lengthRange draws lengths uniformly from [low, high], both included.
type lengthRange struct{ low, high int }

// newLengthRange is vLLM's rule for --random-range-ratio (RandomDataset.
// get_sampling_params in vllm/benchmarks/datasets.py):
//
//	low = floor(N(1-R)), high = ceil(N(1+R))
//
// and neither below 1, so that no request has an empty prompt or zero
// output tokens. Unlike vLLM it forgives float rounding: N=100, R=0.1 gives
// [90, 110], where 100*1.1 = 110.00000000000001 would give vLLM [90, 111].
func newLengthRange(n int, ratio float64) lengthRange {
	eps := 1e-12 * float64(n)
	low := int(math.Floor(float64(n)*(1-ratio) + eps))
	high := int(math.Ceil(float64(n)*(1+ratio) - eps))
	return lengthRange{max(low, 1), max(high, 1)}
}

// draw takes nothing from rng when the range is one length, so a fixed
// length costs no random numbers.
func (r lengthRange) draw(rng *rand.Rand) int {
	if r.high <= r.low {
		return r.low
	}
	return r.low + rng.IntN(r.high-r.low+1)
}

// outputs gives max_tokens to the items that carry none.
type outputs struct {
	rng    *rand.Rand
	length lengthRange
	set    bool // --output-tokens was given
}

func (o *outputs) apply(it *Item) {
	if o.set && it.MaxTokens == 0 {
		it.MaxTokens = o.length.draw(o.rng)
	}
}

// cycle sends a fixed list of items in turn. A short list is repeated in
// order rather than resampled (vLLM oversamples with random.choice), so that
// every item is sent equally often in a long run.
type cycle struct {
	items []Item
	next  int
	out   outputs
}

func (c *cycle) Next() Item {
	it := c.items[c.next]
	c.next = (c.next + 1) % len(c.items)
	c.out.apply(&it)
	return it
}
