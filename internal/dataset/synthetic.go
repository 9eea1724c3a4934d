package dataset

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// synthetic makes a new prompt for every request from random words, so that
// no two requests share more than the shared prefix and a prefix cache
// cannot hide the cost of prefill. Next runs in genload's dispatcher at up to
// thousands of requests a second, so it builds each prompt in one
// allocation: the words are picked first, their lengths summed, and the
// string written once into a builder of exactly that size.
type synthetic struct {
	rng         *rand.Rand
	length      lengthRange
	prefix      string   // the shared prefix and a space, or ""
	prefixWords int      // words in prefix
	picks       []uint16 // indexes into words of the prompt being built, reused
	out         outputs
}

func newSynthetic(cfg Config, prefix string, out outputs) *synthetic {
	s := &synthetic{
		rng:    newRand(cfg.Seed, streamPrompts),
		length: newLengthRange(cfg.InputTokens, cfg.InputTokensRange),
		out:    out,
	}
	if prefix != "" {
		s.prefix, s.prefixWords = prefix+" ", cfg.SharedPrefixTokens
	}
	return s
}

func (s *synthetic) Next() Item {
	n := s.length.draw(s.rng)
	s.picks = slices.Grow(s.picks[:0], n)[:n]
	size := len(s.prefix) + n - 1 // the spaces between words
	for i := range s.picks {
		w := s.rng.IntN(len(words))
		s.picks[i] = uint16(w)
		size += len(words[w])
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(s.prefix)
	for i, w := range s.picks {
		if i == 0 {
			b.WriteString(words[w])
		} else {
			b.WriteString(spacedWords[w]) // one copy, where a space and a word would be two
		}
	}
	it := Item{Prompt: b.String(), PromptWords: s.prefixWords + n}
	s.out.apply(&it)
	return it
}

// spacedWords are the words each with a space before it.
var spacedWords = func() (sw [len(words)]string) {
	for i, w := range words {
		sw[i] = " " + w
	}
	return sw
}()

// syntheticText is n random words joined by spaces: the shared prefix.
func syntheticText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}
