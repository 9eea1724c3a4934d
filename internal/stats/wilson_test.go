package stats

import (
	"math"
	"testing"
)

// TestWilson against values computed independently (R's prop.test
// without continuity correction, binom::binom.wilson).
func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		k, n   int
		z      float64
		lo, hi float64
	}{
		{81, 263, 1.959963984540054, 0.2553, 0.3662}, // Wilson's interval, a textbook example
		{0, 10, 1.959963984540054, 0, 0.2775},
		{10, 10, 1.959963984540054, 0.7225, 1},
		{19, 20, 1.6448536269514722, 0.8040, 0.9888}, // one-sided 95%: computed with Python from the formula
	} {
		lo, hi := Wilson(tc.k, tc.n, tc.z)
		if math.Abs(lo-tc.lo) > 5e-4 || math.Abs(hi-tc.hi) > 5e-4 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
	if lo, hi := Wilson(0, 0, 2); lo != 0 || hi != 1 {
		t.Errorf("no trials: [%v, %v], want [0, 1]", lo, hi)
	}
}

func TestRatioVerdict(t *testing.T) {
	for _, tc := range []struct {
		k, n  int
		least float64
		want  Verdict
	}{
		{20, 20, 0.95, Unclear}, // all good, but 20 cannot show 95%
		{60, 60, 0.95, Pass},    // 60/(60+2.7) = 0.957
		{50, 60, 0.95, Fail},    // 83%: clearly below
		{57, 60, 0.95, Unclear}, // 95% exactly: never clear
		{16, 20, 0.8, Unclear},  // at the threshold
		{160, 200, 0.9, Fail},   // 80% of many
		{0, 0, 0.5, Unclear},    // nothing measured
		{100, 100, 0.5, Pass},
	} {
		if got := RatioVerdict(tc.k, tc.n, tc.least); got != tc.want {
			t.Errorf("RatioVerdict(%d, %d, %v) = %v, want %v", tc.k, tc.n, tc.least, got, tc.want)
		}
	}
	for _, least := range []float64{0.5, 0.8, 0.9, 0.95, 0.99} {
		n := MinPassing(least)
		if RatioVerdict(n, n, least) != Pass || RatioVerdict(n-1, n-1, least) == Pass {
			t.Errorf("MinPassing(%v) = %d is not the fewest", least, n)
		}
	}
}

func TestOutcomesVerdict(t *testing.T) {
	seq := func(pattern string, times int) []bool {
		var out []bool
		for range times {
			for _, c := range pattern {
				out = append(out, c == '+')
			}
		}
		return out
	}
	// Spread evenly: judged as independent trials.
	even := seq("+++-", 30) // 90 of 120, evenly
	if j := OutcomesVerdict(even, 0.6); j.DesignEffect != 1 || j.Verdict != RatioVerdict(90, 120, 0.6) {
		t.Errorf("even outcomes: %+v, want design effect 1 and RatioVerdict's %v", j, RatioVerdict(90, 120, 0.6))
	}
	// The same 90 of 120 in two blocks: the batches say far less.
	blocks := append(seq("+", 90), seq("-", 30)...)
	j := OutcomesVerdict(blocks, 0.6)
	if j.DesignEffect < 5 || j.Verdict != Unclear {
		t.Errorf("clustered outcomes: %+v, want a large design effect and no clear verdict", j)
	}
	if j := OutcomesVerdict(seq("+", 60), 0.95); j.DesignEffect != 1 || j.Verdict != Pass {
		t.Errorf("all good: %+v, want a pass at design effect 1", j)
	}
	if d := DesignEffect(seq("+-", 5)); d != 1 {
		t.Errorf("too few for four batches: %v, want 1", d)
	}
}
