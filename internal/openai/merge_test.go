package openai

import (
	"encoding/json"
	"testing"
)

func TestMerge(t *testing.T) {
	dst := map[string]any{"model": "m", "stream_options": map[string]any{"include_usage": true}, "n": 1}
	Merge(dst, map[string]any{
		"stream_options":       map[string]any{"continuous_usage_stats": true}, // merged, not replaced
		"chat_template_kwargs": map[string]any{"enable_thinking": false},
		"n":                    2, // replaced
	})
	got, _ := json.Marshal(dst)
	want := `{"chat_template_kwargs":{"enable_thinking":false},"model":"m","n":2,"stream_options":{"continuous_usage_stats":true,"include_usage":true}}`
	if string(got) != want {
		t.Errorf("Merge:\n%s\nwant\n%s", got, want)
	}
}

// TestBodyExtra: extras merge after genload's fields, later ones win,
// numbers are sent as written.
func TestBodyExtra(t *testing.T) {
	seed, _ := ParseObject([]byte(`{"seed": 12345678901234567, "temperature": 0}`))
	line := map[string]any{"temperature": 0.7, "tools": []any{map[string]any{"type": "function"}}}
	b, err := Request{Endpoint: EndpointChat, Model: "m", Prompt: "hi", MaxTokens: 8, Stream: true, Extra: []map[string]any{seed, line}}.Body()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"max_tokens":8,"messages":[{"content":"hi","role":"user"}],"model":"m","seed":12345678901234567,"stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"tools":[{"type":"function"}]}`
	if string(b) != want {
		t.Errorf("body:\n%s\nwant\n%s", b, want)
	}
	plain, _ := Request{Endpoint: EndpointCompletions, Model: "m", Prompt: "hi"}.Body()
	if string(plain) != `{"model":"m","prompt":"hi","stream":false}` {
		t.Errorf("without extras the body is genload's own: %s", plain)
	}
}

func TestParseObject(t *testing.T) {
	for _, bad := range []string{`[1]`, `null`, `{"a":1} {"b":2}`, `{"a":`, `"x"`, ``} {
		if _, err := ParseObject([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzParseObject: whatever ParseObject accepts is valid JSON to
// encoding/json, and re-encoding it is stable (numbers kept as written).
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{}`, `[]`, `{"n":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := ParseObject(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("ParseObject accepted %q, which is not valid JSON", data)
		}
		once, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseObject(once)
		if err != nil {
			t.Fatal(err)
		}
		twice, _ := json.Marshal(again)
		if string(once) != string(twice) {
			t.Fatalf("not stable: %s vs %s", once, twice)
		}
	})
}
