package dataset

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConversationLines(t *testing.T) {
	in := `{"turns":["hello there","and then?"],"system":"be brief"}

{"turns":[{"content":"one","max_tokens":5},"two"],"max_tokens":9}
`
	got, err := readConversations(strings.NewReader(in), "c.jsonl", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Conversation{
		{System: "be brief", Turns: []Turn{{Text: "hello there"}, {Text: "and then?"}}},
		{Turns: []Turn{{Text: "one", MaxTokens: 5}, {Text: "two", MaxTokens: 9}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestConversationBadLines(t *testing.T) {
	for in, want := range map[string]string{
		"{\"turns\":[\"a\"]}\n{\"turns\":[]}":              "c.jsonl:2: no \"turns\"",
		`{"turns":["a"],"turn":["b"]}`:                     `c.jsonl:1: want a JSON object {"turns":["first message", ...]}: json: unknown field "turn"`,
		`{"turns":["a",""]}`:                               "c.jsonl:1: turn 2 is empty",
		`{"turns":["a",{"content":"b","max_tokens":-1}]}`:  "c.jsonl:1: turn 2: max_tokens -1",
		`{"turns":["a",3]}`:                                "c.jsonl:1: turn 2: want a string or",
		"\n\n  \n":                                         "c.jsonl is empty",
		"not json":                                         "c.jsonl:1: want a JSON object",
		`{"turns":["a"]} {"turns":["b"]}`:                  "c.jsonl:1: more than one JSON value",
		`[{"conversations":[{"from":"gpt","value":"x"}]}]`: "none of its 1 conversations has a human turn",
		`[{"conversations":[{"from":"human"`:               "conversation 1",
	} {
		_, err := readConversations(strings.NewReader(in), "c.jsonl", false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestConversationShareGPT(t *testing.T) {
	in := ` [{"id":"a","conversations":[{"from":"system","value":"sys"},{"from":"human","value":"q one"},
	{"from":"gpt","value":"a b c"},{"from":"human","value":"q two"},{"from":"gpt","value":"d e"}]},
	{"conversations":[{"from":"gpt","value":"orphan"}]}]`
	got, err := readConversations(strings.NewReader(in), "s.json", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Conversation{{System: "sys", Turns: []Turn{{Text: "q one", MaxTokens: 3}, {Text: "q two", MaxTokens: 2}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	own, _ := readConversations(strings.NewReader(in), "s.json", true)
	if own[0].Turns[0].MaxTokens != 0 {
		t.Errorf("--output-tokens: the replies still gave max_tokens %+v", own)
	}
}

// TestSyntheticConversations: --turns N gives N synthetic messages per
// session, the shared prefix before the first only, reproducible by seed.
func TestSyntheticConversations(t *testing.T) {
	cfg := Config{Seed: 7, InputTokens: 20, OutputTokens: 8, SharedPrefixTokens: 5}
	src, err := NewConversations(cfg, ConversationConfig{Turns: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, b := src.Next(), src.Next()
	if len(a.Turns) != 3 || countWords(a.Turns[0].Text) != 25 || countWords(a.Turns[1].Text) != 20 || a.Turns[2].MaxTokens != 8 {
		t.Fatalf("%+v", a)
	}
	if a.Turns[0].Text[:20] != b.Turns[0].Text[:20] || a.Turns[1].Text == b.Turns[1].Text {
		t.Errorf("the prefix should be shared, the rest not: %q %q", a.Turns[0].Text, b.Turns[0].Text)
	}
	again, _ := NewConversations(cfg, ConversationConfig{Turns: 3})
	if !reflect.DeepEqual(again.Next(), a) {
		t.Error("the same seed gave other conversations")
	}
}

func TestConversationSettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.jsonl")
	os.WriteFile(file, []byte(`{"turns":["a b","c"]}`+"\n"), 0o644)
	for _, tc := range []struct {
		cfg  Config
		conv ConversationConfig
		want string
	}{
		{Config{}, ConversationConfig{Turns: 2}, "{Turns} makes synthetic conversations: give {InputTokens}"},
		{Config{InputTokens: 3}, ConversationConfig{Turns: -1}, "{Turns} -1"},
		{Config{InputTokens: 3}, ConversationConfig{File: file}, "{InputTokens} is for synthetic"},
		{Config{PromptFile: "x"}, ConversationConfig{File: file}, "not {Prompts}"},
		{Config{}, ConversationConfig{File: file, Turns: 2}, "cannot be used together"},
	} {
		_, err := NewConversations(tc.cfg, tc.conv)
		if err == nil || !strings.Contains(err.Error(), strings.NewReplacer("{", "", "}", "").Replace(tc.want)) {
			t.Errorf("%+v %+v: %v, want %q", tc.cfg, tc.conv, err, tc.want)
		}
	}
	src, err := NewConversations(Config{SharedPrefixTokens: 2, OutputTokens: 4}, ConversationConfig{File: file})
	if err != nil {
		t.Fatal(err)
	}
	c := src.Next()
	if countWords(c.Turns[0].Text) != 4 || c.Turns[1].Text != "c" || c.Turns[1].MaxTokens != 4 {
		t.Errorf("%+v", c)
	}
}

// FuzzReadConversations: any input gives conversations with turns of
// text, or an error naming the file; never a panic.
func FuzzReadConversations(f *testing.F) {
	f.Add([]byte(`{"turns":["a",{"content":"b","max_tokens":3}],"system":"s","max_tokens":2}`))
	f.Add([]byte(`[{"conversations":[{"from":"human","value":"x"},{"from":"gpt","value":"y z"}]}]`))
	f.Add([]byte("{\"turns\":[\"a\"]}\n\n{\"turns\":null}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		convs, err := readConversations(strings.NewReader(string(data)), "f", false)
		if err != nil {
			if !strings.Contains(err.Error(), "conversations f") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		if len(convs) == 0 {
			t.Fatal("no conversations and no error")
		}
		for _, c := range convs {
			if len(c.Turns) == 0 {
				t.Fatalf("a conversation without turns: %+v", c)
			}
			for _, tr := range c.Turns {
				if strings.TrimSpace(tr.Text) == "" || tr.MaxTokens < 0 || tr.MaxTokens > maxLength {
					t.Fatalf("bad turn %+v", tr)
				}
			}
		}
	})
}
