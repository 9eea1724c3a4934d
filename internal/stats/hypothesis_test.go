package stats

import (
	"math"
	"strings"
	"testing"
)

func seq(from, to float64) []float64 {
	var xs []float64
	for v := from; v <= to; v++ {
		xs = append(xs, v)
	}
	return xs
}

func TestMinP(t *testing.T) {
	// 2/C(n1+n2, n1), worked by hand.
	tests := []struct {
		n1, n2 int
		want   float64
	}{
		{1, 1, 1},            // 2/2
		{2, 2, 2.0 / 6},      // C(4,2) = 6
		{3, 3, 0.1},          // C(6,3) = 20
		{4, 4, 2.0 / 70},     // the smallest equal sizes below 0.05
		{5, 5, 2.0 / 252},    //
		{6, 6, 2.0 / 924},    // below 0.05/11: a full table of 11 metrics
		{3, 2, 0.2},          // C(5,2) = 10
		{10, 1, 2.0 / 11},    // ten baseline runs against one new run
		{0, 5, 1},            // no values
		{50, 50, 2.0 / 1e29}, // tiny; only its size matters
	}
	for _, tt := range tests {
		got := MinP(tt.n1, tt.n2)
		if tt.n1 == 50 {
			if got > 1e-28 || got <= 0 {
				t.Errorf("MinP(50, 50) = %v", got)
			}
			continue
		}
		if !near(got, tt.want) {
			t.Errorf("MinP(%d, %d) = %v, want %v", tt.n1, tt.n2, got, tt.want)
		}
	}
}

func TestMannWhitney(t *testing.T) {
	// Exact two-sided p-values: 2 * (number of arrangements with U <= u) / C(n1+n2, n1).
	tests := []struct {
		name   string
		x, y   []float64
		ran    bool
		p      float64 // when ran
		why    string  // when not
		approx bool    // p only to 1e-3 (normal approximation)
	}{
		{"separated 4+4: U=0", seq(1, 4), seq(5, 8), true, 2.0 / 70, "", false},
		{"separated 6+6: U=0", seq(1, 6), seq(7, 12), true, 2.0 / 924, "", false},
		{"one swap 6+6: U=1", []float64{1, 2, 3, 4, 5, 7}, []float64{6, 8, 9, 10, 11, 12}, true, 4.0 / 924, "", false},
		{"identical samples", seq(1, 6), seq(1, 6), true, 1, "", false},
		{"order does not matter", []float64{4, 1, 3, 2}, []float64{8, 5, 7, 6}, true, 2.0 / 70, "", false},
		{"3+3 can never reach 0.05", seq(1, 3), seq(4, 6), false, 0, "too few values, n=3", false},
		{"1+1", []float64{1}, []float64{2}, false, 0, "n=1", false},
		{"10+1", seq(1, 10), []float64{11}, false, 0, "n=10+1", false},
		{"all equal", []float64{5, 5, 5}, []float64{5, 5, 5, 5}, false, 0, "all values equal", false},
		// 6+6 could reach 0.002, but with only one value differing no split can
		{"ties", []float64{1, 1, 1, 1, 1, 1}, []float64{1, 1, 1, 1, 1, 2}, false, 0, "too many equal values, n=6", false},
		{"empty side", nil, seq(1, 5), false, 0, "no values on one side", false},
		// Large: normal approximation; 100 vs the same shifted by 50 is far apart.
		{"large shift", seq(1, 100), seq(51, 150), true, 0, "", true},
	}
	for _, tt := range tests {
		got := MannWhitney(tt.x, tt.y, 0.05)
		if got.Ran != tt.ran {
			t.Errorf("%s: ran %v (%s), want %v", tt.name, got.Ran, got.Why, tt.ran)
			continue
		}
		if got.N1 != len(tt.x) || got.N2 != len(tt.y) {
			t.Errorf("%s: n %d+%d", tt.name, got.N1, got.N2)
		}
		switch {
		case !tt.ran:
			if got.P != 1 || !strings.Contains(got.Why, tt.why) {
				t.Errorf("%s: p %v why %q, want p 1 and %q", tt.name, got.P, got.Why, tt.why)
			}
		case tt.approx:
			if got.P > 1e-10 {
				t.Errorf("%s: p %v, want tiny", tt.name, got.P)
			}
		case !near(got.P, tt.p):
			t.Errorf("%s: p %v, want %v", tt.name, got.P, tt.p)
		}
	}
}

func TestMannWhitneyDoesNotTouchInput(t *testing.T) {
	x, y := []float64{3, 1, 2, 4}, []float64{8, 6, 7, 5}
	MannWhitney(x, y, 0.05)
	if x[0] != 3 || y[0] != 8 {
		t.Errorf("inputs reordered: %v %v", x, y)
	}
}

func TestExceedance(t *testing.T) {
	base := make([]float64, 1000)
	for i := range base {
		base[i] = float64(i) / 1000
	}
	// The same bulk, but the top 5% of y one whole unit slower: the pooled
	// p99 lies in y's tail, which only y reaches.
	tail := make([]float64, len(base))
	copy(tail, base)
	for i := 950; i < len(tail); i++ {
		tail[i]++
	}
	got := Exceedance(base, tail, 99, 0.05)
	if !got.Ran || got.P > 1e-4 {
		t.Errorf("heavier tail: %+v, want a tiny p", got)
	}
	// The U test on the raw values barely sees it: the medians are equal.
	if u := MannWhitney(base, tail, 0.05); u.P < got.P {
		t.Errorf("U test p %v below the tail test's %v", u.P, got.P)
	}
	// Same distribution: no difference.
	if got := Exceedance(base, base, 99, 0.05); !got.Ran || got.P < 0.5 {
		t.Errorf("same samples: %+v", got)
	}
	// 100 values a side: two values reach the pooled p99, which no split can
	// make significant, and the test says so instead of printing p=1.
	if got := Exceedance(seq(1, 100), seq(101, 200), 99, 0.05); got.Ran || got.Why != "too few values in the tail, n=100" {
		t.Errorf("100 a side: %+v", got)
	}
	// A tail of one repeated value still counts (at or above the threshold).
	flat := make([]float64, 1000)
	spiky := make([]float64, 1000)
	for i := 950; i < 1000; i++ {
		spiky[i] = 10
	}
	if got := Exceedance(flat, spiky, 99, 0.05); !got.Ran || got.P > 1e-4 {
		t.Errorf("repeated tail: %+v", got)
	}
}

func TestHolm(t *testing.T) {
	tests := []struct {
		name    string
		ps, adj []float64
	}{
		// sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06,
		// 0.04 -> 0.06 (monotone)
		{"worked example", []float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		{"capped at 1", []float64{0.5, 0.6}, []float64{1, 1}},
		{"one test is itself", []float64{0.042}, []float64{0.042}},
		{"ties keep their order", []float64{0.01, 0.01}, []float64{0.02, 0.02}},
		{"empty", nil, []float64{}},
	}
	for _, tt := range tests {
		got := Holm(tt.ps)
		if len(got) != len(tt.adj) {
			t.Fatalf("%s: %v", tt.name, got)
		}
		for i := range got {
			if !near(got[i], tt.adj[i]) {
				t.Errorf("%s: Holm(%v) = %v, want %v", tt.name, tt.ps, got, tt.adj)
				break
			}
		}
	}
}

func TestMedianCI(t *testing.T) {
	// n=6 at 95%: the 1st and 6th order statistics (binomial: 1 - 2/64 = 0.969).
	m, lo, hi := MedianCI([]float64{6, 2, 4, 1, 5, 3})
	if m != 3.5 || lo != 1 || hi != 6 {
		t.Errorf("n=6: %v [%v, %v], want 3.5 [1, 6]", m, lo, hi)
	}
	// n=5 is too small for 95%: a bound is infinite, benchstat's "± ∞".
	m, lo, hi = MedianCI(seq(1, 5))
	if m != 3 || !math.IsInf(lo, -1) && !math.IsInf(hi, 1) {
		t.Errorf("n=5: %v [%v, %v]", m, lo, hi)
	}
	if m, _, _ := MedianCI(nil); !math.IsNaN(m) {
		t.Errorf("no values: %v", m)
	}
}

func TestSizes(t *testing.T) {
	if Sizes(6, 6) != "6" || Sizes(10, 1) != "10+1" {
		t.Error(Sizes(6, 6), Sizes(10, 1))
	}
}
