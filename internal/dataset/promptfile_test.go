package dataset

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"servebench/internal/openai"
)

func TestParseLine(t *testing.T) {
	user := []openai.Message{{Role: "user", Content: "hi"}}
	tests := []struct {
		line    string
		want    Item
		ok      bool
		wantErr string // in the error; "" = no error
	}{
		{"", Item{}, false, ""},
		{" \t\r", Item{}, false, ""},
		{"plain prompt", Item{Prompt: "plain prompt"}, true, ""},
		{"  padded\r", Item{Prompt: "padded"}, true, ""},
		{`"quoted" is plain`, Item{Prompt: `"quoted" is plain`}, true, ""},
		{`[1, 2] is plain too`, Item{Prompt: `[1, 2] is plain too`}, true, ""},
		{`{"prompt":"  keep my spaces "}`, Item{Prompt: "  keep my spaces "}, true, ""},
		{`{"prompt":"x","max_tokens":12}`, Item{Prompt: "x", MaxTokens: 12}, true, ""},
		{`{"prompt":"x","max_tokens":null}`, Item{Prompt: "x"}, true, ""},
		{`{"prompt":"x","id":7,"tags":["a"]}`, Item{Prompt: "x"}, true, ""}, // other fields ignored
		{`{"messages":[{"role":"user","content":"hi"}]}`, Item{Messages: user}, true, ""},
		{`{"messages":[{"role":"system","content":""},{"role":"user","content":"hi"}],"max_tokens":3}`,
			Item{Messages: []openai.Message{{Role: "system"}, {Role: "user", Content: "hi"}}, MaxTokens: 3}, true, ""},
		// Errors: { starts a JSON line, and a JSON line must make a request.
		{`{not json}`, Item{}, false, "not a JSON object"},
		{`{"prompt":"x"} trailing`, Item{}, false, "not a JSON object"},
		{`{"prompt":"unterminated`, Item{}, false, "not a JSON object"},
		{`{}`, Item{}, false, `neither "prompt" nor "messages"`},
		{`{"text":"x"}`, Item{}, false, `neither "prompt" nor "messages"`},
		{`{"prompt":null}`, Item{}, false, `neither "prompt" nor "messages"`},
		{`{"prompt":""}`, Item{}, false, `"prompt" is empty`},
		{`{"prompt":5}`, Item{}, false, "cannot unmarshal number"},
		{`{"prompt":"x","messages":[]}`, Item{}, false, `both "prompt" and "messages"`},
		{`{"messages":[]}`, Item{}, false, `no message with role "user"`},
		{`{"messages":[{"role":"system","content":"x"}]}`, Item{}, false, `no message with role "user"`},
		{`{"messages":[{"content":"x"},{"role":"user","content":"y"}]}`, Item{}, false, `message 1 has no "role"`},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`, Item{}, false, "cannot unmarshal array"},
		{`{"prompt":"x","max_tokens":0}`, Item{}, false, `"max_tokens" 0: want 1 to`},
		{`{"prompt":"x","max_tokens":-3}`, Item{}, false, `"max_tokens" -3`},
		{`{"prompt":"x","max_tokens":2.5}`, Item{}, false, "cannot unmarshal number 2.5"},
		{`{"prompt":"x","max_tokens":99999999999}`, Item{}, false, `"max_tokens" 99999999999`},
	}
	for _, tt := range tests {
		got, ok, err := parseLine(tt.line)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseLine(%q) error = %v, want %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil || ok != tt.ok || got.Prompt != tt.want.Prompt || got.MaxTokens != tt.want.MaxTokens ||
			!slices.Equal(got.Messages, tt.want.Messages) {
			t.Errorf("parseLine(%q) = %+v, %v, %v; want %+v, %v", tt.line, got, ok, err, tt.want, tt.ok)
		}
	}
}

func TestReadPromptsErrors(t *testing.T) {
	tests := []struct {
		name, content string
		want          string // the whole error
	}{
		{"empty", "", "prompt file p.txt has no prompts"},
		{"only blank lines", "\n  \n\r\n", "prompt file p.txt has no prompts"},
		{"bad JSON on line 3", "a\n\n{\"prompt\": oops}\nb\n",
			"prompt file p.txt:3: line starts with { but is not a JSON object: invalid character 'o' looking for beginning of value"},
		{"neither field on line 2", "a\n{\"max_tokens\": 5}\n", `prompt file p.txt:2: has neither "prompt" nor "messages"`},
		{"error on the last line without newline", "a\nb\n{", "prompt file p.txt:3: line starts with { but is not a JSON object: unexpected end of JSON input"},
		{"too long", "a\n" + strings.Repeat("x", maxLineBytes+1) + "\n", "prompt file p.txt:2: line longer than 16 MiB"},
	}
	for _, tt := range tests {
		_, err := readPrompts(strings.NewReader(tt.content), "p.txt")
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v\nwant %s", tt.name, err, tt.want)
		}
	}
}

func TestReadPromptsByteOrderMark(t *testing.T) {
	// Files joined with cat keep each one's byte order mark: it is
	// stripped at any line's start (issue 13: a mid-file one sent the JSON
	// line as a plain prompt).
	items, err := readPrompts(strings.NewReader("\uFEFF{\"prompt\":\"x\"}\r\n\uFEFFy\r\n\uFEFF{\"prompt\":\"z\"}\n"), "bom.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].Prompt != "x" || items[1].Prompt != "y" || items[2].Prompt != "z" {
		t.Errorf("items = %+v", items)
	}
}

// TestReadPromptsUTF16: a UTF-16 file (with its byte order mark, or
// without: NUL bytes) is refused with what to do, not sent as NUL-laden
// text.
func TestReadPromptsUTF16(t *testing.T) {
	for _, in := range []string{"\xff\xfeh\x00i\x00\n\x00", "\xfe\xff\x00h\x00i", "h\x00i\x00\n\x00"} {
		_, err := readPrompts(strings.NewReader(in), "u16.txt")
		if err == nil || !strings.Contains(err.Error(), "iconv -f UTF-16 -t UTF-8") {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"", "plain", `{"prompt":"x","max_tokens":3}`, `{"messages":[{"role":"user","content":"c"}]}`,
		`{"prompt":"x","messages":null}`, `{`, `{"max_tokens":1e99}`, " {\"prompt\":\"\\u0000\"} "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		it, ok, err := parseLine(line)
		trimmed := strings.TrimSpace(line)
		switch {
		case err != nil:
			if ok || !strings.HasPrefix(trimmed, "{") {
				t.Fatalf("parseLine(%q): error %v with ok %v; only JSON lines fail", line, err, ok)
			}
		case !ok:
			if trimmed != "" {
				t.Fatalf("parseLine(%q) skipped a non-blank line", line)
			}
		case trimmed[0] != '{':
			if it.Prompt != trimmed || it.Messages != nil || it.MaxTokens != 0 {
				t.Fatalf("parseLine(%q) = %+v, want the trimmed line as a prompt", line, it)
			}
		default:
			if (it.Prompt == "") == (it.Messages == nil) {
				t.Fatalf("parseLine(%q) = %+v: want exactly one of prompt and messages", line, it)
			}
			if it.MaxTokens < 0 || it.MaxTokens > maxLength {
				t.Fatalf("parseLine(%q) max tokens %d", line, it.MaxTokens)
			}
			if it.Messages != nil && checkMessages(it.Messages) != nil {
				t.Fatalf("parseLine(%q) accepted messages without a user", line)
			}
		}
		if ok && !utf8.ValidString(line) && trimmed[0] == '{' {
			// encoding/json replaces invalid UTF-8 with U+FFFD: what is sent is valid.
			if !utf8.ValidString(it.Prompt) {
				t.Fatalf("parseLine(%q) kept invalid UTF-8 from a JSON line", line)
			}
		}
	})
}

// TestPassThrough: a line's fields beyond prompt, messages and max_tokens
// go to its request as they are; the run's own fields are refused.
func TestPassThrough(t *testing.T) {
	it, ok, err := parseLine(`{"messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}],"tool_choice":"auto","seed":12345678901234567}`)
	if err != nil || !ok {
		t.Fatal(err)
	}
	if len(it.Extra) != 3 || it.Extra["tool_choice"] != "auto" || it.Extra["seed"].(json.Number).String() != "12345678901234567" {
		t.Errorf("extra %v", it.Extra)
	}
	if it, _, _ := parseLine(`{"prompt":"p","max_tokens":3}`); it.Extra != nil {
		t.Errorf("a line without extra fields has Extra %v", it.Extra)
	}
	for _, bad := range []string{`{"prompt":"p","model":"m"}`, `{"prompt":"p","stream":false}`} {
		if _, _, err := parseLine(bad); err == nil || !strings.Contains(err.Error(), "the run's to set") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
