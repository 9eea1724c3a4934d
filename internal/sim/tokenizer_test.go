package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func pieceIDs(text string) []int64 {
	var ids []int64
	pieceTokens(text, func(id uint32) { ids = append(ids, int64(id)) })
	return ids
}

func pieceStrs(t *testing.T, text string) []string {
	var out []string
	for _, id := range pieceIDs(text) {
		b, ok := appendPieceText(nil, id)
		if !ok {
			t.Fatalf("%q: id %d has no text", text, id)
		}
		out = append(out, string(b))
	}
	return out
}

func TestPieceTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"the", []string{"the"}},
		{"tokenizer", []string{"toke", "nize", "r"}},
		{"the which", []string{"the", " whic", "h"}},
		{"Hi, you!", []string{"Hi", ",", " you", "!"}},
		{"a  b", []string{"a", " ", " b"}},
		{" x ", []string{" x", " "}},
		{"x\ny", []string{"x", "\n", "y"}},
		{"42.5", []string{"42", ".", "5"}},
		{"é", []string{"\xc3", "\xa9"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := pieceStrs(t, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("pieces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Not the word count: what the word approximation misses.
	if n, w := len(pieceIDs("the quick brown fox jumps")), countWords("the quick brown fox jumps"); n == w {
		t.Errorf("pieces = words = %d: the tokenizer should not be word-based", n)
	}
}

func TestWordTokensCountsAsCountWords(t *testing.T) {
	for _, s := range []string{"", "a", " a  b\tc\n", "héllo wörld\u00a0x", "\u2003lead"} {
		n := 0
		wordTokens(s, func(uint32) { n++ })
		if n != countWords(s) {
			t.Errorf("wordTokens(%q) = %d tokens, countWords %d", s, n, countWords(s))
		}
	}
}

func TestDecodePiecesRejects(t *testing.T) {
	for _, id := range []int64{-1, vocabEnd, pieceBase + 2*pieceRadix, pieceBase, 1 << 40} {
		if _, err := decodePieces([]int64{id}); err == nil {
			t.Errorf("id %d decoded", id)
		}
	}
	if got, err := decodePieces([]int64{int64(tokStart), int64(tokUser)}); err != nil || got != "<|start|><|user|>" {
		t.Errorf("specials: %q, %v", got, err)
	}
}

// FuzzPiecesRoundTrip: detokenize(tokenize(s)) is s for every string, and
// tokenizing the text again gives the same ids.
func FuzzPiecesRoundTrip(f *testing.F) {
	for _, s := range []string{"", "the tokenizer", "Hi, you!", "a  b ", "x\ny\t", "é ü 日本", "\xff\xfe", "ABCDEFGHIJ 0123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := pieceIDs(s)
		text, err := decodePieces(ids)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if text != s {
			t.Fatalf("round trip %q -> %v -> %q", s, ids, text)
		}
		if again := pieceIDs(text); !slices.Equal(again, ids) {
			t.Fatalf("%q: ids %v, again %v", s, ids, again)
		}
		for _, id := range ids {
			if id < 0 || id >= pieceEnd {
				t.Fatalf("%q: id %d outside the text vocabulary", s, id)
			}
		}
	})
}

func tokenize(t *testing.T, url, body string) (int, tokenizeResponse, string) {
	t.Helper()
	resp, b := post(t, url+"/tokenize", body)
	var tr tokenizeResponse
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, tr, string(b)
}

// TestTokenizeMatchesUsage: /tokenize's count is what a generation request
// with the same prompt or messages reports as prompt_tokens, on both
// tokenizers, chat template included.
func TestTokenizeMatchesUsage(t *testing.T) {
	prompt := "The tokenizer, deliberately: not word-based!  Really?\nyes"
	q, _ := json.Marshal(prompt)
	msgs := fmt.Sprintf(`[{"role":"system","content":"be brief"},{"role":"user","content":%s},{"role":"assistant","content":[{"type":"text","text":"a b"},{"type":"text","text":"c"}]}]`, q)
	for _, tok := range []string{TokenizerWords, TokenizerPieces} {
		_, ts := newTestServer(t, Config{Tokenizer: tok, MaxModelLen: 999})
		code, tr, b := tokenize(t, ts.URL, `{"model":"llmsim/tiny","prompt":`+string(q)+`}`)
		if code != 200 || tr.Count != len(tr.Tokens) || tr.MaxModelLen != 999 {
			t.Fatalf("%s: %d %s", tok, code, b)
		}
		_, body := post(t, ts.URL+"/v1/completions", `{"prompt":`+string(q)+`,"max_tokens":1}`)
		var u cachedUsage
		json.Unmarshal(body, &u)
		if u.Usage.PromptTokens != tr.Count {
			t.Errorf("%s completions: prompt_tokens %d, /tokenize %d", tok, u.Usage.PromptTokens, tr.Count)
		}
		_, ctr, b := tokenize(t, ts.URL, `{"messages":`+msgs+`}`)
		_, body = post(t, ts.URL+"/v1/chat/completions", `{"messages":`+msgs+`,"max_tokens":1}`)
		u = cachedUsage{}
		json.Unmarshal(body, &u)
		if u.Usage.PromptTokens != ctr.Count {
			t.Errorf("%s chat: prompt_tokens %d, /tokenize %d (%s)", tok, u.Usage.PromptTokens, ctr.Count, b)
		}
		_, noGen, _ := tokenize(t, ts.URL, `{"messages":`+msgs+`,"add_generation_prompt":false}`)
		switch tok {
		case TokenizerWords:
			if ctr.Count != countWords("be brief")+countWords(prompt)+countWords("a b")+countWords("c") || noGen.Count != ctr.Count || tr.Count != countWords(prompt) {
				t.Errorf("words: chat %d, no generation prompt %d, prompt %d", ctr.Count, noGen.Count, tr.Count)
			}
		case TokenizerPieces:
			content := len(pieceIDs("be brief")) + len(pieceIDs(prompt)) + len(pieceIDs("a b")) + 1 + len(pieceIDs("c"))
			if want := content + 3*MessageOverheadTokens + GenerationPromptTokens; ctr.Count != want || noGen.Count != want-GenerationPromptTokens {
				t.Errorf("pieces chat: %d (%d without the generation prompt), want %d", ctr.Count, noGen.Count, want)
			}
			ids, _ := json.Marshal(tr.Tokens)
			resp, b := post(t, ts.URL+"/detokenize", `{"model":"llmsim/tiny","tokens":`+string(ids)+`}`)
			var d struct{ Prompt string }
			json.Unmarshal(b, &d)
			if resp.StatusCode != 200 || d.Prompt != prompt {
				t.Errorf("detokenize: %d %s, want %q", resp.StatusCode, b, prompt)
			}
		}
	}
}

func TestTokenizeErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	for body, want := range map[string]int{
		`{}`:                            400,
		`{"prompt":[1,2]}`:              400,
		`not json`:                      400,
		`{"model":"nope","prompt":"a"}`: 404,
		`{"messages":[]}`:               400,
	} {
		if code, _, b := tokenize(t, ts.URL, body); code != want {
			t.Errorf("%s: %d %s, want %d", body, code, b, want)
		}
	}
	resp, b := post(t, ts.URL+"/detokenize", `{"tokens":[1]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "--tokenizer pieces") {
		t.Errorf("words detokenize: %d %s", resp.StatusCode, b)
	}
	_, ts = newTestServer(t, Config{Tokenizer: TokenizerPieces})
	if resp, b := post(t, ts.URL+"/detokenize", `{"tokens":[-5]}`); resp.StatusCode != 400 || !strings.Contains(string(b), "out of vocabulary") {
		t.Errorf("bad id: %d %s", resp.StatusCode, b)
	}
	if resp, _ := http.Get(ts.URL + "/tokenize"); resp.StatusCode != 405 {
		t.Errorf("GET /tokenize: %d", resp.StatusCode)
	}
}
