package main

import (
	"slices"
	"strings"
	"testing"
)

// The vocabulary has the size asked for, its merges produce tokens that are
// in it, and only printable ASCII text may be generated.
func TestVocab(t *testing.T) {
	v := newVocab(corpus, vocabSize)
	if len(v.tokens) != vocabSize || len(v.types) != vocabSize || len(v.allowed) != vocabSize {
		t.Fatalf("sizes: %d tokens, %d types, %d allowed; want %d", len(v.tokens), len(v.types), len(v.allowed), vocabSize)
	}
	if got, want := len(v.merges), vocabSize-256-len(specialTokens); got != want {
		t.Errorf("%d merges, want %d", got, want)
	}
	for _, m := range v.merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok || !slices.Contains(v.tokens, a) || !slices.Contains(v.tokens, b) || !slices.Contains(v.tokens, a+b) {
			t.Errorf("merge %q: its parts or its result are not tokens", m)
		}
	}
	if v.tokens[v.eos] != "<|end_of_text|>" || v.allowed[v.eos] || v.allowed[v.bos] {
		t.Errorf("eos %d (%q), allowed eos %v, bos %v", v.eos, v.tokens[v.eos], v.allowed[v.eos], v.allowed[v.bos])
	}
	table := byteToRune()
	if v.allowed[0x80] || v.allowed['\n'] || !v.allowed['a'] || string(table[' ']) != "Ġ" {
		t.Error("byte tokens: only printable ASCII may be generated; the space is Ġ")
	}
	t.Logf("first merges: %q", v.merges[:12])
}
