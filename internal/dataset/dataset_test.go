package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"servebench/internal/openai"
)

// TestNewValidation: errors name the Config fields (setting.Error), which
// cmd/genload words as its flags.
func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // in the error; "" = no error
	}{
		{"default", Config{}, ""},
		{"synthetic", Config{InputTokens: 10, InputTokensRange: 0.5, OutputTokens: 5, OutputTokensRange: 0.99}, ""},
		{"two sources name both fields", Config{Prompts: []string{"a"}, ShareGPTFile: "x"}, "Prompts and ShareGPTFile cannot be used together"},
		{"all four", Config{Prompts: []string{"a"}, PromptFile: "p", ShareGPTFile: "s", InputTokens: 1},
			"Prompts and PromptFile and ShareGPTFile and InputTokens"},
		{"file and synthetic", Config{PromptFile: "p", InputTokens: 3}, "choose one of Prompts, PromptFile, ShareGPTFile and InputTokens"},
		{"range of 1", Config{InputTokens: 10, InputTokensRange: 1}, "InputTokensRange 1: want a ratio in [0, 1)"},
		{"negative range", Config{OutputTokens: 10, OutputTokensRange: -0.1}, "OutputTokensRange -0.1"},
		{"NaN range", Config{InputTokens: 10, InputTokensRange: math.NaN()}, "InputTokensRange NaN"},
		{"range without length", Config{InputTokensRange: 0.2}, "InputTokensRange needs InputTokens"},
		{"output range without length", Config{OutputTokensRange: 0.2}, "OutputTokensRange needs OutputTokens"},
		{"negative input", Config{InputTokens: -1}, "InputTokens -1"},
		{"negative output", Config{OutputTokens: -5}, "OutputTokens -5"},
		{"negative prefix", Config{SharedPrefixTokens: -5}, "SharedPrefixTokens -5"},
		{"huge input", Config{InputTokens: 1e9}, "InputTokens 1000000000: want 0 to"},
		{"empty literal prompt", Config{Prompts: []string{"a", " "}}, "Prompts number 2 is empty"},
		{"missing prompt file", Config{PromptFile: "testdata/nope.txt"}, "open testdata/nope.txt"},
		{"missing sharegpt", Config{ShareGPTFile: "testdata/nope.json"}, "open testdata/nope.json"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// take returns the first n items of cfg's source.
func take(t testing.TB, cfg Config, n int) []Item {
	t.Helper()
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]Item, n)
	for i := range items {
		items[i] = src.Next()
	}
	return items
}

func prompts(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Prompt
	}
	return out
}

func TestFixedSources(t *testing.T) {
	file := writeFile(t, "p.txt", "first prompt\n\n  second prompt  \r\n"+`{"prompt":"third","max_tokens":7}`+"\n")
	tests := []struct {
		name      string
		cfg       Config
		want      []string // prompts of the first items
		maxTokens []int    // their MaxTokens
		words     []int    // their PromptWords
	}{
		{"default prompt", Config{}, []string{DefaultPrompt, DefaultPrompt},
			[]int{0, 0}, []int{15, 15}},
		{"literal prompts cycle", Config{Prompts: []string{"a b", "c"}}, []string{"a b", "c", "a b", "c", "a b"},
			[]int{0, 0, 0, 0, 0}, []int{2, 1, 2, 1, 2}},
		{"output tokens apply to literal prompts", Config{Prompts: []string{"a"}, OutputTokens: 9}, []string{"a", "a"},
			[]int{9, 9}, []int{1, 1}},
		{"prompt file cycles, blank lines skipped", Config{PromptFile: file}, []string{"first prompt", "second prompt", "third", "first prompt"},
			[]int{0, 0, 7, 0}, []int{2, 2, 1, 2}},
		{"a line's own max_tokens wins", Config{PromptFile: file, OutputTokens: 3}, []string{"first prompt", "second prompt", "third"},
			[]int{3, 3, 7}, []int{2, 2, 1}},
	}
	for _, tt := range tests {
		items := take(t, tt.cfg, len(tt.want))
		for i, it := range items {
			if it.Prompt != tt.want[i] || it.MaxTokens != tt.maxTokens[i] || it.PromptWords != tt.words[i] {
				t.Errorf("%s: item %d = %+v, want prompt %q, max tokens %d, words %d",
					tt.name, i, it, tt.want[i], tt.maxTokens[i], tt.words[i])
			}
		}
	}
}

func TestLengthRange(t *testing.T) {
	tests := []struct {
		n         int
		ratio     float64
		low, high int
	}{
		{10, 0, 10, 10},
		{100, 0.1, 90, 110}, // 100*1.1 = 110.00000000000001 in floats: still 110
		{1000, 0.3, 700, 1300},
		{3, 0.9, 1, 6}, // floor(0.3) = 0 is raised to 1
		{1, 0.5, 1, 2}, // ceil(1.5)
		{7, 0.25, 5, 9},
		{maxLength, 0.1, 15099494, 18454938},
	}
	for _, tt := range tests {
		got := newLengthRange(tt.n, tt.ratio)
		if got.low != tt.low || got.high != tt.high {
			t.Errorf("newLengthRange(%d, %v) = [%d, %d], want [%d, %d]", tt.n, tt.ratio, got.low, got.high, tt.low, tt.high)
		}
	}
}

func TestSyntheticLengths(t *testing.T) {
	vocab := make(map[string]bool, len(words))
	for _, w := range words {
		vocab[w] = true
	}
	tests := []struct {
		name                 string
		cfg                  Config
		inLow, inHigh        int // PromptWords, prefix included
		outLow, outHigh      int // MaxTokens
		wantAllInputLengths  bool
		wantAllOutputLengths bool
	}{
		{"fixed", Config{InputTokens: 50}, 50, 50, 0, 0, true, true},
		{"input range", Config{InputTokens: 20, InputTokensRange: 0.5}, 10, 30, 0, 0, true, true},
		{"output range", Config{InputTokens: 5, OutputTokens: 10, OutputTokensRange: 0.2}, 5, 5, 8, 12, true, true},
		{"prefix on top", Config{InputTokens: 10, InputTokensRange: 0.1, SharedPrefixTokens: 7}, 16, 18, 0, 0, true, true},
		{"one token", Config{InputTokens: 1}, 1, 1, 0, 0, true, true},
	}
	for _, tt := range tests {
		inSeen, outSeen := map[int]bool{}, map[int]bool{}
		distinct := map[string]bool{}
		for i, it := range take(t, tt.cfg, 1000) {
			fields := strings.Split(it.Prompt, " ")
			if it.PromptWords < tt.inLow || it.PromptWords > tt.inHigh || len(fields) != it.PromptWords {
				t.Fatalf("%s: item %d has %d words (%d fields), want %d to %d", tt.name, i, it.PromptWords, len(fields), tt.inLow, tt.inHigh)
			}
			for _, f := range fields {
				if !vocab[f] {
					t.Fatalf("%s: item %d has %q, not a listed word", tt.name, i, f)
				}
			}
			if it.MaxTokens < tt.outLow || it.MaxTokens > tt.outHigh {
				t.Fatalf("%s: item %d max tokens %d, want %d to %d", tt.name, i, it.MaxTokens, tt.outLow, tt.outHigh)
			}
			inSeen[it.PromptWords], outSeen[it.MaxTokens] = true, true
			distinct[it.Prompt] = true
		}
		// Uniform over small ranges: in 1,000 draws every length turns up.
		if len(inSeen) != tt.inHigh-tt.inLow+1 || len(outSeen) != tt.outHigh-tt.outLow+1 {
			t.Errorf("%s: saw %d input and %d output lengths, want every one of [%d, %d] and [%d, %d]",
				tt.name, len(inSeen), len(outSeen), tt.inLow, tt.inHigh, tt.outLow, tt.outHigh)
		}
		if tt.cfg.InputTokens >= 5 && len(distinct) != 1000 {
			t.Errorf("%s: %d distinct prompts in 1000: prefix caching would hide prefill", tt.name, len(distinct))
		}
	}
}

// encode is an item as bytes, for comparing items exactly.
func encode(t testing.TB, items []Item) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestSeedReproduces(t *testing.T) {
	file := writeFile(t, "p.jsonl", "one\n"+`{"messages":[{"role":"user","content":"two"}]}`+"\nthree\n")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"synthetic", Config{InputTokens: 100, InputTokensRange: 0.5, OutputTokens: 50, OutputTokensRange: 0.5, SharedPrefixTokens: 20}},
		{"sharegpt", Config{ShareGPTFile: "testdata/sharegpt.json", SharedPrefixTokens: 3}},
		{"prompt file", Config{PromptFile: file, OutputTokens: 50, OutputTokensRange: 0.9, SharedPrefixTokens: 5}},
	}
	for _, tt := range tests {
		a, b := tt.cfg, tt.cfg
		a.Seed, b.Seed = 42, 42
		first, again := encode(t, take(t, a, 1000)), encode(t, take(t, b, 1000))
		if !bytes.Equal(first, again) {
			t.Errorf("%s: the same seed gave different items", tt.name)
		}
		b.Seed = 43
		if other := encode(t, take(t, b, 1000)); bytes.Equal(first, other) {
			t.Errorf("%s: seeds 42 and 43 gave the same items", tt.name)
		}
	}
}

// TestGolden pins what seed 1 produces, so that a change to the word list,
// the streams or Go's math/rand/v2 algorithms, any of which would quietly
// change every benchmark's prompts, is seen and made on purpose.
func TestGolden(t *testing.T) {
	items := take(t, Config{Seed: 1, InputTokens: 8, SharedPrefixTokens: 3, OutputTokens: 100, OutputTokensRange: 0.5}, 2)
	want := []Item{
		{Prompt: "through door body hair held film sea am general mother taken", MaxTokens: 115, PromptWords: 11},
		{Prompt: "through door body food away three market south by few real", MaxTokens: 70, PromptWords: 11},
	}
	if !bytes.Equal(encode(t, items), encode(t, want)) {
		t.Errorf("seed 1 gave\n%+v\nwant\n%+v", items, want)
	}
	sum := sha256.Sum256(encode(t, take(t, Config{Seed: 1, InputTokens: 1000, InputTokensRange: 0.5}, 100)))
	if got, want := hex.EncodeToString(sum[:]), "e143752fde9e3e1b59646c02a12a6094117f8b011ac42e52dd2d8623e46c4c5d"; got != want {
		t.Errorf("sha256 of seed 1's first 100 synthetic items = %s, want %s", got, want)
	}
}

// TestStreamsIndependent: output lengths draw from their own stream, so
// that asking for them leaves the prompts of a seed as they were.
func TestStreamsIndependent(t *testing.T) {
	plain := prompts(take(t, Config{Seed: 7, InputTokens: 30, InputTokensRange: 0.5}, 200))
	withOut := prompts(take(t, Config{Seed: 7, InputTokens: 30, InputTokensRange: 0.5, OutputTokens: 100, OutputTokensRange: 0.5}, 200))
	if !slices.Equal(plain, withOut) {
		t.Error("--output-tokens changed the prompts of the same seed")
	}
}

func TestSharedPrefix(t *testing.T) {
	const n = 12
	chat := writeFile(t, "chat.jsonl",
		`{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi there"},{"role":"user","content":"again"}]}`+"\nplain line\n")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"synthetic", Config{InputTokens: 20}},
		{"literal", Config{Prompts: []string{"alpha", "beta gamma"}}},
		{"default", Config{}},
		{"prompt file with chat", Config{PromptFile: chat}},
		{"sharegpt", Config{ShareGPTFile: "testdata/sharegpt.json"}},
	}
	var prefix string
	for _, tt := range tests {
		tt.cfg.Seed, tt.cfg.SharedPrefixTokens = 3, n
		for i, it := range take(t, tt.cfg, 50) {
			text := it.Prompt
			if len(it.Messages) > 0 {
				if it.Messages[0].Content != "be brief" || it.Messages[2].Content != "again" {
					t.Fatalf("%s: the prefix went into the wrong message: %+v", tt.name, it.Messages)
				}
				text = it.Messages[1].Content
			}
			fields := strings.SplitN(text, " ", n+1)
			if len(fields) != n+1 {
				t.Fatalf("%s: item %d too short for the prefix: %q", tt.name, i, text)
			}
			got := strings.Join(fields[:n], " ")
			if prefix == "" {
				prefix = got
			}
			if got != prefix {
				t.Fatalf("%s: item %d starts %q, want the shared prefix %q", tt.name, i, got, prefix)
			}
			if want := n + countWords(fields[n]); len(it.Messages) == 0 && it.PromptWords != want {
				t.Errorf("%s: item %d PromptWords %d, want %d", tt.name, i, it.PromptWords, want)
			}
		}
	}
	// The prefix is the seed's, not the source's: the same in every run of
	// a seed, and another for another seed.
	other := take(t, Config{Seed: 4, SharedPrefixTokens: n}, 1)[0].Prompt
	if strings.HasPrefix(other, prefix) {
		t.Error("seeds 3 and 4 gave the same prefix")
	}
	// Items of a cycled chat source share memory; the prefix must not be
	// prepended to the parsed messages again each time round.
	items := take(t, Config{PromptFile: chat, SharedPrefixTokens: 2}, 5)
	if items[0].Messages[1].Content != items[4].Messages[1].Content {
		t.Errorf("chat content changed from round to round: %q then %q", items[0].Messages[1].Content, items[4].Messages[1].Content)
	}
}

func TestChatItems(t *testing.T) {
	file := writeFile(t, "chat.jsonl", `{"messages":[{"role":"user","content":"a b c"},{"role":"assistant","content":"d"},{"role":"user","content":"e f"}],"max_tokens":4}`)
	it := take(t, Config{PromptFile: file}, 1)[0]
	want := []openai.Message{{Role: "user", Content: "a b c"}, {Role: "assistant", Content: "d"}, {Role: "user", Content: "e f"}}
	if it.Prompt != "" || !slices.Equal(it.Messages, want) || it.MaxTokens != 4 || it.PromptWords != 6 {
		t.Errorf("chat item = %+v", it)
	}
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// BenchmarkSyntheticNext is the dispatcher's cost of one 1,000-token prompt:
// it should stay at one allocation (the prompt itself) and a few
// microseconds, far below the requests a second anyone sends.
func BenchmarkSyntheticNext(b *testing.B) {
	src, err := New(Config{Seed: 1, InputTokens: 1000, OutputTokens: 100, OutputTokensRange: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += len(src.Next().Prompt)
	}
	b.SetBytes(int64(n / max(b.N, 1)))
}
