package dataset

import (
	"strings"
	"testing"
)

// TestPrefixGroups: N distinct prefixes of T words, each item starting
// with one and then its own words; the first group is the prefix of a run
// without groups; a seed gives the same picks; uniform picks come about
// equally often, Zipf's favour the first groups.
func TestPrefixGroups(t *testing.T) {
	cfg := Config{Seed: 3, InputTokens: 10, SharedPrefixTokens: 8, PrefixGroups: 4}
	single, _ := New(Config{Seed: 3, InputTokens: 10, SharedPrefixTokens: 8})
	first := strings.Join(strings.Fields(single.Next().Prompt)[:8], " ")
	counts := func(cfg Config, n int) (map[string]int, []string) {
		src, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := map[string]int{}
		var order []string
		for range n {
			it := src.Next()
			w := strings.Fields(it.Prompt)
			if len(w) != 18 || it.PromptWords != 18 {
				t.Fatalf("%d words (%d counted), want 18", len(w), it.PromptWords)
			}
			p := strings.Join(w[:8], " ")
			c[p]++
			order = append(order, p)
		}
		return c, order
	}
	uni, order := counts(cfg, 4000)
	if len(uni) != 4 || uni[first] == 0 {
		t.Fatalf("%d prefixes, the single run's among them: %v", len(uni), uni[first] > 0)
	}
	for p, n := range uni {
		if n < 850 || n > 1150 {
			t.Errorf("uniform: prefix %q came %d times of 4000", p[:10], n)
		}
	}
	if _, again := counts(cfg, 4000); strings.Join(again, "|") != strings.Join(order, "|") {
		t.Error("the same seed picked other groups")
	}
	cfg.PrefixMix = "zipf:1.1"
	zipf, _ := counts(cfg, 4000)
	// weights 1, 2^-1.1, 3^-1.1, 4^-1.1 = 1, .467, .299, .218: group 0 has 50%.
	if n := zipf[first]; n < 1850 || n > 2150 {
		t.Errorf("zipf:1.1: the first group came %d times of 4000, want about 2000", n)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{PrefixGroups: 3}, "PrefixGroups needs SharedPrefixTokens"},
		{Config{PrefixGroups: -1}, "PrefixGroups -1"},
		{Config{SharedPrefixTokens: 2, PrefixMix: "zipf:1"}, "PrefixMix needs PrefixGroups"},
		{Config{SharedPrefixTokens: 2, PrefixGroups: 2, PrefixMix: "zipf:0"}, "zipf takes an exponent above 0"},
		{Config{SharedPrefixTokens: 2, PrefixGroups: 2, PrefixMix: "pareto"}, "want uniform or zipf:S"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// FuzzPrefixMix: any mix is refused or picks groups in range.
func FuzzPrefixMix(f *testing.F) {
	for _, s := range []string{"uniform", "zipf:1.1", "zipf:1e-300", "zipf:NaN", "uniform:2"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, mix string, n int) {
		n = 1 + int(uint(n)%1000)
		p, err := newPrefixPicker(mix, n, 1)
		if err != nil {
			return
		}
		for range 50 {
			if k := p.pick(); k < 0 || k >= n {
				t.Fatalf("%q picked %d of %d", mix, k, n)
			}
		}
	})
}
