package dataset

import (
	"strings"
	"testing"
)

// TestWordList guards the properties synthetic prompts rely on; whether each
// word is one token was checked against the tokenizers named on words.
func TestWordList(t *testing.T) {
	if len(words) < 300 || len(words) > 1<<16 {
		t.Fatalf("%d words: want a few hundred, indexable by uint16", len(words))
	}
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] {
			t.Errorf("%q twice: it would be drawn twice as often", w)
		}
		seen[w] = true
		if w == "" || strings.IndexFunc(w, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
			t.Errorf("%q: want lowercase ASCII letters only", w)
		}
	}
}

func TestCountWords(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"   \t\n", 0},
		{"one", 1},
		{" two  words ", 2},
		{"line\none\r\nline two", 4},
		{"don't stop-me now", 3},
		{"façade naïve", 2},
		{"a\u00a0b", 2},          // no-break space separates
		{"请解释这个", 5},             // Han: a token a character
		{"hello世界", 3},           // a word then two characters
		{"世界 hello", 3},          // and the other way round
		{"こんにちは カタカナ", 9},        // Hiragana and Katakana
		{"안녕하세요 세계", 7},          // Hangul syllables
		{"\xff\xfe bad utf8", 3}, // invalid bytes form a word
	}
	for _, tt := range tests {
		if got := countWords(tt.s); got != tt.want {
			t.Errorf("countWords(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestCountWordsMatchesFields(t *testing.T) {
	// Without CJK text, countWords is len(strings.Fields).
	for _, s := range []string{DefaultPrompt, "a  b\tc\u2003d", " x ", "\u0085y\u0085"} {
		if got, want := countWords(s), len(strings.Fields(s)); got != want {
			t.Errorf("countWords(%q) = %d, strings.Fields finds %d", s, got, want)
		}
	}
}
