package main

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Special tokens, after the byte tokens and the merges. <|im_end|> is one of
// the names llama.cpp recognises as an end of generation, like the EOS.
var specialTokens = []string{"<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"}

// GGUF token types (llama.cpp's llama_token_type).
const (
	tokenNormal  int32 = 1
	tokenControl int32 = 3
)

// vocab is a GPT-2 style byte-level BPE vocabulary: the 256 byte tokens, the
// merges learnt from a small corpus, then the special tokens.
type vocab struct {
	tokens []string
	types  []int32
	merges []string
	bos    uint32
	eos    uint32
	// allowed marks the tokens the model may generate: printable ASCII
	// text. Control tokens are never generated (so no output ends early),
	// nor are bytes that are not whole UTF-8 characters on their own (so
	// every token is one streamed chunk).
	allowed []bool
}

// byteToRune is GPT-2's reversible byte-to-unicode table: printable bytes
// stand for themselves, the others are shifted past U+00FF so that every
// token is a printable string ("Ġ" is the space).
func byteToRune() [256]rune {
	var table [256]rune
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	next := rune(256)
	for b := range 256 {
		if printable(b) {
			table[b] = rune(b)
		} else {
			table[b] = next
			next++
		}
	}
	return table
}

// words splits text as a GPT-2 pre-tokenizer roughly does: a word keeps its
// leading space, punctuation and digits stand apart.
var words = regexp.MustCompile(` ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\s+`)

// newVocab learns merges until the vocabulary has size tokens, specials
// included. Training is deterministic: ties go to the pair that sorts first.
func newVocab(corpus string, size int) vocab {
	table := byteToRune()
	var v vocab
	for b := range 256 {
		v.tokens = append(v.tokens, string(table[b]))
		v.types = append(v.types, tokenNormal)
		v.allowed = append(v.allowed, b >= 0x20 && b <= 0x7E)
	}

	// Each distinct word, as a sequence of symbols, and how often it occurs.
	freq := map[string]int{}
	for _, w := range words.FindAllString(corpus, -1) {
		var sb strings.Builder
		for _, b := range []byte(w) {
			sb.WriteRune(table[b])
		}
		freq[sb.String()]++
	}
	type word struct {
		syms []string
		n    int
	}
	var ws []word
	for _, k := range slices.Sorted(maps.Keys(freq)) {
		var syms []string
		for _, r := range k {
			syms = append(syms, string(r))
		}
		ws = append(ws, word{syms, freq[k]})
	}

	for len(v.tokens)+len(specialTokens) < size {
		pairs := map[[2]string]int{}
		for _, w := range ws {
			for i := 0; i+1 < len(w.syms); i++ {
				pairs[[2]string{w.syms[i], w.syms[i+1]}] += w.n
			}
		}
		if len(pairs) == 0 {
			break // the corpus is fully merged
		}
		best := slices.MaxFunc(slices.Collect(maps.Keys(pairs)), func(a, b [2]string) int {
			return cmp.Or(cmp.Compare(pairs[a], pairs[b]), -cmp.Compare(a[0]+" "+a[1], b[0]+" "+b[1]))
		})
		merged := best[0] + best[1]
		v.merges = append(v.merges, best[0]+" "+best[1])
		v.tokens = append(v.tokens, merged)
		v.types = append(v.types, tokenNormal)
		v.allowed = append(v.allowed, true) // merges of ASCII text are ASCII text
		for i := range ws {
			ws[i].syms = mergePair(ws[i].syms, best[0], best[1])
		}
	}

	for i, s := range specialTokens {
		id := uint32(len(v.tokens))
		switch i {
		case 0:
			v.bos = id
		case 1:
			v.eos = id
		}
		v.tokens = append(v.tokens, s)
		v.types = append(v.types, tokenControl)
		v.allowed = append(v.allowed, false)
	}
	return v
}

// mergePair replaces every adjacent a, b in syms by ab.
func mergePair(syms []string, a, b string) []string {
	out := syms[:0:0]
	for i := 0; i < len(syms); i++ {
		if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
			out = append(out, a+b)
			i++
			continue
		}
		out = append(out, syms[i])
	}
	return out
}
