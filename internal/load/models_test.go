package load

import (
	"strings"
	"testing"
)

func TestModelPicker(t *testing.T) {
	count := func(p *modelPicker, n int) map[string]int {
		c := map[string]int{}
		for range n {
			c[p.pick()]++
		}
		return c
	}
	rr, _, _ := newModelPicker([]string{"a", "b", "c"}, "", 1)
	if seq := []string{rr.pick(), rr.pick(), rr.pick(), rr.pick()}; strings.Join(seq, "") != "abca" {
		t.Errorf("round-robin %v", seq)
	}
	w, models, err := newModelPicker(nil, "a=3,b=1", 1)
	if err != nil || strings.Join(models, ",") != "a,b" {
		t.Fatalf("%v %v", models, err)
	}
	for i := 1; i <= 10; i++ { // exact at every multiple of the weights' sum
		if c := count(w, 4); c["a"] != 3 || c["b"] != 1 {
			t.Fatalf("round %d: %v", i, c)
		}
	}
	r1, _, _ := newModelPicker([]string{"a", "b"}, MixRandom, 7)
	r2, _, _ := newModelPicker([]string{"a", "b"}, MixRandom, 7)
	for range 50 {
		if r1.pick() != r2.pick() {
			t.Fatal("random mix not reproducible for a seed")
		}
	}
	if c := count(r1, 2000); c["a"] < 900 || c["b"] < 900 {
		t.Errorf("random mix %v", c)
	}
	for _, tt := range []struct {
		models    []string
		mix, want string
	}{
		{[]string{"a", "b"}, "a=3,x=1", `names "x", which {Model} does not`},
		{nil, "a=0", "add up to 0"},
		{nil, "a=3,a=1", "twice"},
		{nil, "a:3", "want round-robin, random or MODEL=WEIGHT"},
		{nil, "random", "names no model"},
	} {
		if _, _, err := newModelPicker(tt.models, tt.mix, 1); err == nil || !strings.Contains(err.Error(), strings.NewReplacer("{", "", "}", "").Replace(tt.want)) {
			t.Errorf("%v %q: %v, want %q", tt.models, tt.mix, err, tt.want)
		}
	}
}

// FuzzModelMix: any --model-mix text is refused or gives a picker whose
// picks are among its models, in exact shares over one cycle of weights.
func FuzzModelMix(f *testing.F) {
	for _, s := range []string{"a=3,b=1", "random", "round-robin", "a=0,b=2", "a=1,a=2", "=3", "a=-1", "a=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, mix string) {
		p, models, err := newModelPicker(nil, mix, 1)
		if err != nil {
			return
		}
		if p.weights == nil {
			return // random or round-robin over models the mix did not name: refused above
		}
		total := 0
		for _, w := range p.weights {
			total += w
		}
		if total > 1000 {
			return
		}
		count := map[string]int{}
		for range total {
			count[p.pick()]++
		}
		for i, m := range models {
			if count[m] != p.weights[i] {
				t.Fatalf("%q: %s picked %d times in a cycle, weight %d", mix, m, count[m], p.weights[i])
			}
		}
	})
}
