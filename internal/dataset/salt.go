package dataset

import (
	crand "crypto/rand"
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
)

// SaltWords is the length of a run's salt, in vocabulary words (about as
// many tokens; see words).
const SaltWords = 4

// NewSalt is a run's salt: SaltWords vocabulary words drawn from the
// operating system's randomness, never from the seed, so that two runs of
// one seed differ in it (463^4, about 4.6e10, salts). Put before every
// prompt of a run (Salted), it keeps a server's prefix cache from serving
// one run what an earlier run sent, while what the run itself shares
// (a shared prefix, a conversation's history, a trace's hash blocks) still
// shares: every request has the same salt.
func NewSalt() string {
	var b [8 * SaltWords]byte
	_, _ = crand.Read(b[:])
	w := make([]string, SaltWords)
	for i := range w {
		w[i] = words[binary.LittleEndian.Uint64(b[8*i:])%uint64(len(words))]
	}
	return strings.Join(w, " ")
}

// SaltFor is the salt of a run split across processes (genload --shard),
// drawn from its run id, which every shard shares: the shards of one run
// then salt alike, as one process would, and another run (another id)
// differently.
func SaltFor(runID string) string {
	h := fnv.New64a()
	h.Write([]byte(runID))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x5a17))
	w := make([]string, SaltWords)
	for i := range w {
		w[i] = words[rng.IntN(len(words))]
	}
	return strings.Join(w, " ")
}

// Salted puts salt and a space at the very start of the item's text: its
// prompt, or its first message (a system prompt, when there is one), so
// that it leads the tokens the server sees after its template's own.
// Messages are copied, never changed in place: items share them.
func Salted(it Item, salt string) Item {
	if salt == "" {
		return it
	}
	if len(it.Messages) > 0 {
		it.Messages = slices.Clone(it.Messages)
		it.Messages[0].Content = salt + " " + it.Messages[0].Content
	} else {
		it.Prompt = salt + " " + it.Prompt
	}
	it.PromptWords += SaltWords
	return it
}
