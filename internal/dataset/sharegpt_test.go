package dataset

import (
	"bytes"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestValidSequence(t *testing.T) {
	tests := []struct {
		prompt, output int
		skipMinOutput  bool
		want           bool
	}{
		{4, 4, false, true},
		{3, 100, false, false},  // prompt_len < 4
		{100, 3, false, false},  // output_len < 4
		{100, 3, true, true},    // ...unless the output length is overridden
		{100, 0, true, true},    // even to nothing
		{1024, 10, false, true}, // prompt_len > 1024 is the limit
		{1025, 10, false, false},
		{1024, 1024, false, true}, // prompt_len + output_len > 2048 is the limit
		{1000, 1049, false, false},
		{1000, 1049, true, false}, // the overridden length counts in the total
	}
	for _, tt := range tests {
		if got := validSequence(tt.prompt, tt.output, tt.skipMinOutput); got != tt.want {
			t.Errorf("validSequence(%d, %d, %v) = %v, want %v", tt.prompt, tt.output, tt.skipMinOutput, got, tt.want)
		}
	}
}

func TestShareGPTRequest(t *testing.T) {
	type turns = []shareGPTTurn
	tests := []struct {
		name          string
		entry         shareGPTEntry
		prompt, reply string // "" = no request
	}{
		{"plain", shareGPTEntry{Conversations: turns{{"human", "q"}, {"gpt", "a"}, {"human", "q2"}, {"gpt", "a2"}}}, "q", "a"},
		{"singular key", shareGPTEntry{Conversation: turns{{"human", "q"}, {"gpt", "a"}}}, "q", "a"},
		{"plural key wins", shareGPTEntry{Conversations: turns{{"human", "q"}, {"gpt", "a"}}, Conversation: turns{{"human", "x"}, {"gpt", "y"}}}, "q", "a"},
		{"one turn", shareGPTEntry{Conversations: turns{{"human", "q"}}}, "", ""},
		{"model first", shareGPTEntry{Conversations: turns{{"gpt", "hi"}, {"human", "q"}, {"bard", "a"}}}, "q", "a"},
		{"system in between", shareGPTEntry{Conversations: turns{{"human", "q"}, {"system", "s"}, {"gpt", "a"}}}, "q", "a"},
		{"case and dialect", shareGPTEntry{Conversations: turns{{"User", "q"}, {"ASSISTANT", "a"}}}, "q", "a"},
		{"Human", shareGPTEntry{Conversations: turns{{"Human", "q"}, {"chatgpt", "a"}}}, "q", "a"},
		{"no reply", shareGPTEntry{Conversations: turns{{"human", "q"}, {"human", "q2"}, {"system", "s"}}}, "", ""},
		{"no human", shareGPTEntry{Conversations: turns{{"gpt", "a"}, {"gpt", "b"}}}, "", ""},
		{"no roles", shareGPTEntry{Conversations: turns{{"", "a"}, {"", "b"}}}, "", ""},
	}
	for _, tt := range tests {
		prompt, reply, ok := tt.entry.request()
		if ok != (tt.prompt != "") || prompt != tt.prompt || reply != tt.reply {
			t.Errorf("%s: request() = %q, %q, %v; want %q, %q", tt.name, prompt, reply, ok, tt.prompt, tt.reply)
		}
	}
}

// TestShareGPTFilter reads testdata/sharegpt.json (see
// shareGPTFixtureEntries for what each case is) and checks which
// conversations are kept, with what output length.
func TestShareGPTFilter(t *testing.T) {
	tests := []struct {
		name         string
		outputTokens int
		want         map[string]int // case name: MaxTokens
	}{
		{"reply lengths", 0, map[string]int{
			"case-basic":          6,
			"case-min":            4,
			"case-max":            1024,
			"case-singular-key":   5,
			"case-model-first":    7,
			"case-system-first":   8,
			"case-two-humans":     10, // the reply after the second human turn
			"case-cjk":            6,
			"case-extra-fields":   5,
			"case-user-assistant": 12,
		}},
		// --output-tokens 100 stands in for every reply, as vLLM's
		// --sharegpt-output-len: short replies pass, the total moves.
		{"output tokens override", 100, map[string]int{
			"case-basic":          0,
			"case-short-reply":    0,
			"case-min":            0,
			"case-max":            0,
			"case-long-total":     0,
			"case-singular-key":   0,
			"case-model-first":    0,
			"case-system-first":   0,
			"case-two-humans":     0,
			"case-cjk":            0,
			"case-extra-fields":   0,
			"case-user-assistant": 0,
		}},
		{"an override too long for every prompt", 2045, map[string]int{}},
	}
	for _, tt := range tests {
		f, err := os.Open("testdata/sharegpt.json")
		if err != nil {
			t.Fatal(err)
		}
		items, err := readShareGPT(f, "sharegpt.json", tt.outputTokens)
		f.Close()
		if len(tt.want) == 0 {
			if err == nil || !strings.Contains(err.Error(), "none of its 21 conversations passes vLLM's filter") {
				t.Errorf("%s: error %v, want none passing", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := map[string]int{}
		for _, it := range items {
			got[strings.Fields(it.Prompt)[0]] = it.MaxTokens
		}
		if !maps.Equal(got, tt.want) || len(items) != len(tt.want) {
			t.Errorf("%s: kept %v\nwant %v", tt.name, got, tt.want)
		}
	}
}

func TestShareGPTShuffle(t *testing.T) {
	order := func(seed int64) []string {
		var firsts []string
		for _, it := range take(t, Config{Seed: seed, ShareGPTFile: "testdata/sharegpt.json"}, 20) {
			firsts = append(firsts, strings.Fields(it.Prompt)[0])
		}
		return firsts
	}
	a, b := order(1), order(2)
	if slices.Equal(a, b) {
		t.Errorf("seeds 1 and 2 gave the same order: %v", a)
	}
	if !slices.Equal(a[:10], a[10:]) {
		t.Errorf("the 10 kept conversations do not cycle: %v", a)
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("seeds 1 and 2 kept different conversations: %v, %v", a, b)
	}
}

func TestShareGPTErrors(t *testing.T) {
	ok := `{"conversations":[{"from":"human","value":"one two three four"},{"from":"gpt","value":"five six seven eight"}]}`
	tests := []struct {
		name, content string
		want          string // the whole error
	}{
		{"empty file", "", "sharegpt s.json: unexpected EOF"},
		{"an object, not an array", `{"conversations":[]}`, "sharegpt s.json: want a JSON array of conversations, found {"},
		{"a string", `"x"`, "sharegpt s.json: want a JSON array of conversations, found x"},
		{"empty array", "[]", "sharegpt s.json has no conversations"},
		{"truncated", "[" + ok + ",", "sharegpt s.json: conversation 2 (near byte 113): unexpected EOF"},
		{"unclosed", "[" + ok, "sharegpt s.json: after conversation 1: unexpected EOF"},
		{"trailing data", "[" + ok + "] []", "sharegpt s.json: data after the array (near byte 115)"},
		{"a number for a conversation", "[" + ok + ", 5]",
			"sharegpt s.json: conversation 2 (near byte 115): json: cannot unmarshal number into Go value of type dataset.shareGPTEntry"},
		{"a number for a value", `[{"conversations":[{"from":"human","value":1}]}]`,
			"sharegpt s.json: conversation 1 (near byte 47): json: cannot unmarshal number into Go struct field shareGPTTurn.conversations.value of type string"},
		{"bad syntax", "[" + ok + ",}]", "sharegpt s.json: conversation 2 (near byte 113): invalid character '}' looking for beginning of value"},
		{"nothing passes", `[{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"hello there you human"}]}]`,
			"sharegpt s.json: none of its 1 conversations passes vLLM's filter (a human turn of 4 to 1024 words, a reply of at least 4, together at most 2048)"},
	}
	for _, tt := range tests {
		_, err := readShareGPT(strings.NewReader(tt.content), "s.json", 0)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v\nwant %s", tt.name, err, tt.want)
		}
	}
}

func FuzzReadShareGPT(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input, and minimizing
	// testdata/sharegpt.json (29 kB) would take most of a short run.
	for _, s := range []string{
		`[{"id":"a","conversations":[{"from":"human","value":"a b c d"},{"from":"gpt","value":"e f g h"}]}]`,
		`[{"conversation":[{"from":"system","value":"s"},{"from":"user","value":"请解释这个"},{"from":"human","value":"x"},{"from":"assistant","value":"a b c"}]}, null, {}]`,
		`[{"conversations":[{"from":"gpt","value":"x"}],"markdown":{"a":[1,{"b":null}]}}] `,
		"[]", "[", "{", "[1]", `[{"conversations":[{"value":1}]}]`,
	} {
		f.Add([]byte(s), 0)
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, outputTokens int) {
		outputTokens = max(outputTokens, 0) % 3000
		items, err := readShareGPT(bytes.NewReader(data), "fuzz", outputTokens)
		if err != nil {
			if items != nil {
				t.Fatal("items with an error")
			}
			return
		}
		if len(items) == 0 {
			t.Fatal("no items and no error")
		}
		for _, it := range items {
			p, out := countWords(it.Prompt), it.MaxTokens
			if outputTokens > 0 {
				if out != 0 {
					t.Fatalf("item has max tokens %d under an override", out)
				}
				out = outputTokens
			}
			if !validSequence(p, out, outputTokens > 0) {
				t.Fatalf("kept a prompt of %d words with output %d", p, out)
			}
		}
	})
}
