package sim

// rng is splitmix64: tiny, allocation-free and good enough to draw lengths
// and words; one per request, seeded from --seed and the arrival number so
// that concurrent requests do not share state.
type rng struct{ s uint64 }

func newRNG(seed int64, seq uint64) rng {
	r := rng{uint64(seed) ^ seq*0xd1b54a32d192ed03}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float is uniform in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// length draws an output length of at most maxTokens: each token after the
// first is the end of the sequence with probability p, so the length is
// 1 + a geometric variable, capped. stopped says whether it was the EOS
// (finish_reason "stop") rather than the cap ("length").
func (r *rng) length(maxTokens int, p float64) (n int, stopped bool) {
	for n = 1; n < maxTokens; {
		n++
		if r.float() < p {
			return n, true
		}
	}
	return n, false
}

// word draws the next output token's index into vocab.
func (r *rng) word() int { return int(r.next() % uint64(len(vocab))) }
