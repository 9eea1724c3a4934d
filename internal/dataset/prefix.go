package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"servebench/internal/setting"
)

// maxPrefixGroups bounds --prefix-groups: each prefix is kept in memory.
const maxPrefixGroups = 100000

// Prefix mixes: how requests pick their group's prefix.
const (
	PrefixMixUniform = "uniform"
	prefixMixZipf    = "zipf"
)

// streamGroups draws the requests' groups (see the other streams).
const streamGroups uint64 = 0x7fb5d329728ea185

// prefixPicker picks a group for each request: uniformly, or by Zipf's
// law of exponent s (group k, from 0, with weight 1/(k+1)^s: a few
// popular system prompts and a long tail).
type prefixPicker struct {
	rng *rand.Rand
	n   int
	cdf []float64 // zipf: the cumulative weights, normalised; nil for uniform
}

// newPrefixPicker checks mix ("" or uniform, zipf:S with S > 0).
func newPrefixPicker(mix string, n int, seed int64) (*prefixPicker, error) {
	p := &prefixPicker{rng: newRand(seed, streamGroups), n: n}
	kind, arg, hasArg := strings.Cut(strings.TrimSpace(mix), ":")
	switch {
	case kind == "" || kind == PrefixMixUniform && !hasArg:
		return p, nil
	case kind == prefixMixZipf:
		s, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(s > 0 && s <= 100) {
			return nil, setting.Errorf("{PrefixMix} %q: zipf takes an exponent above 0 (and at most 100), such as zipf:1.1", mix)
		}
		p.cdf = make([]float64, n)
		sum := 0.0
		for k := range n {
			sum += math.Pow(float64(k+1), -s)
			p.cdf[k] = sum
		}
		for k := range p.cdf {
			p.cdf[k] /= sum
		}
		return p, nil
	}
	return nil, setting.Errorf("{PrefixMix} %q: want uniform or zipf:S (such as zipf:1.1)", mix)
}

func (p *prefixPicker) pick() int {
	if p.cdf == nil {
		return p.rng.IntN(p.n)
	}
	u := p.rng.Float64()
	k, _ := slices.BinarySearch(p.cdf, u)
	return min(k, p.n-1)
}

// groupPrefixes are the n prefixes of SharedPrefixTokens words: the first
// is the single shared prefix of a run without groups, the others each
// drawn from a stream of their own, so that adding groups keeps the ones
// before.
func groupPrefixes(cfg Config) []string {
	out := make([]string, cfg.PrefixGroups)
	for g := range out {
		stream := streamPrefix
		if g > 0 {
			stream = streamPrefix + uint64(g)*0x9e3779b97f4a7c15
		}
		out[g] = syntheticText(newRand(cfg.Seed, stream), cfg.SharedPrefixTokens)
	}
	return out
}

// validatePrefixGroups checks PrefixGroups and PrefixMix.
func (c Config) validatePrefixGroups() error {
	switch {
	case c.PrefixGroups < 0 || c.PrefixGroups > maxPrefixGroups:
		return setting.Errorf("{PrefixGroups} %d: want 1 to %d", c.PrefixGroups, maxPrefixGroups)
	case c.PrefixGroups > 1 && c.SharedPrefixTokens == 0:
		return setting.Errorf("{PrefixGroups} needs {SharedPrefixTokens}, each group's prefix length")
	case c.PrefixMix != "" && c.PrefixGroups < 2:
		return setting.Errorf("{PrefixMix} needs {PrefixGroups} of 2 or more")
	}
	if c.PrefixMix != "" {
		_, err := newPrefixPicker(c.PrefixMix, 1, 0)
		return err
	}
	return nil
}

// grouped puts one of its groups' prefixes before each item of src.
type grouped struct {
	src      Source
	prefixes []string
	picker   *prefixPicker
}

func (g *grouped) Next() Item {
	return withPrefix(g.src.Next(), g.prefixes[g.picker.pick()])
}

// newGrouped is New's source for PrefixGroups > 1: the items of the run
// without a prefix, each given a group's.
func newGrouped(cfg Config) (Source, error) {
	picker, err := newPrefixPicker(cfg.PrefixMix, cfg.PrefixGroups, cfg.Seed)
	if err != nil {
		return nil, err
	}
	prefixes := groupPrefixes(cfg)
	plain := cfg
	plain.SharedPrefixTokens, plain.PrefixGroups, plain.PrefixMix = 0, 0, ""
	src, err := New(plain)
	if err != nil {
		return nil, err
	}
	return &grouped{src: src, prefixes: prefixes, picker: picker}, nil
}
