package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// near reports whether got equals want to 1e-12 relative (the hand-derived
// values below are decimal; the computed ones are binary floats).
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

func TestPercentile(t *testing.T) {
	// Every want is numpy's np.percentile(xs, p), derived by hand from
	// h = (n-1)*p/100, lower = floor(h), x[lower] + (h-lower)*(x[lower+1]-x[lower]).
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"four p50: h=1.5 between 2 and 3", []float64{1, 2, 3, 4}, 50, 2.5},
		{"four p90: h=2.7", []float64{1, 2, 3, 4}, 90, 3.7},
		{"four p99: h=2.97", []float64{1, 2, 3, 4}, 99, 3.97},
		{"four p99.9: h=2.997", []float64{1, 2, 3, 4}, 99.9, 3.997},
		{"four p0 is the minimum", []float64{1, 2, 3, 4}, 0, 1},
		{"four p100 is the maximum", []float64{1, 2, 3, 4}, 100, 4},
		{"four p25: h=0.75", []float64{1, 2, 3, 4}, 25, 1.75},
		{"single element, any p", []float64{7}, 99, 7},
		{"single element, p0", []float64{7}, 0, 7},
		{"two p50", []float64{10, 20}, 50, 15},
		{"two p90: h=0.9", []float64{10, 20}, 90, 19},
		{"two p99: h=0.99", []float64{10, 20}, 99, 19.9},
		{"two p33.3: h=0.333", []float64{0, 10}, 33.3, 3.33},
		{"unsorted five p50 (sorted by Summarize)", []float64{5, 1, 4, 2, 3}, 50, 3},
		{"unsorted five p90: h=3.6", []float64{5, 1, 4, 2, 3}, 90, 4.6},
		{"unsorted five p95: h=3.8", []float64{5, 1, 4, 2, 3}, 95, 4.8},
		{"unsorted five p99: h=3.96", []float64{5, 1, 4, 2, 3}, 99, 4.96},
		{"ties", []float64{2, 2, 2, 9}, 50, 2},
		{"negative values", []float64{-3, -1}, 50, -2},
	}
	for _, tt := range tests {
		xs := slices.Clone(tt.xs)
		s, ok := Summarize(xs, []float64{tt.p})
		if !ok {
			t.Fatalf("%s: no summary", tt.name)
		}
		if got := s.Percentiles[0]; !near(got, tt.want) {
			t.Errorf("%s: p%v = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestPercentileEmpty(t *testing.T) {
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
	if _, ok := Summarize(nil, []float64{50}); ok {
		t.Error("Summarize(nil) ok, want no summary")
	}
}

func TestPercentileMonotonic(t *testing.T) {
	// numpy's two-sided interpolation keeps percentiles non-decreasing in p.
	xs := []float64{0.1, 0.2, 0.30000000000000004, 1e9, 1e9 + 0.5}
	prev := math.Inf(-1)
	for p := 0.0; p <= 100; p += 0.01 {
		v := Percentile(xs, p)
		if v < prev {
			t.Fatalf("p%v = %v < %v", p, v, prev)
		}
		prev = v
	}
}

func TestSummarize(t *testing.T) {
	// Wants from np.mean, np.median, np.std (ddof=0) worked by hand.
	tests := []struct {
		name                        string
		xs                          []float64
		mean, median, std, min, max float64
	}{
		// mean 2.5; squared deviations 2.25+0.25+0.25+2.25 = 5; 5/4 = 1.25
		{"one to four", []float64{1, 2, 3, 4}, 2.5, 2.5, math.Sqrt(1.25), 1, 4},
		// mean 3; squared deviations 4+1+0+1+4 = 10; 10/5 = 2
		{"unsorted five", []float64{5, 1, 4, 2, 3}, 3, 3, math.Sqrt2, 1, 5},
		{"single", []float64{7}, 7, 7, 0, 7, 7},
		// mean 15; deviations 25+25; 50/2 = 25
		{"two", []float64{20, 10}, 15, 15, 5, 10, 20},
		// population std of a constant is 0, not NaN
		{"constant", []float64{4, 4, 4}, 4, 4, 0, 4, 4},
	}
	for _, tt := range tests {
		s, ok := Summarize(slices.Clone(tt.xs), nil)
		if !ok || s.N != len(tt.xs) {
			t.Fatalf("%s: ok=%v n=%d", tt.name, ok, s.N)
		}
		for _, c := range []struct {
			what      string
			got, want float64
		}{{"mean", s.Mean, tt.mean}, {"median", s.Median, tt.median}, {"std", s.Std, tt.std}, {"min", s.Min, tt.min}, {"max", s.Max, tt.max}} {
			if !near(c.got, c.want) {
				t.Errorf("%s: %s = %v, want %v", tt.name, c.what, c.got, c.want)
			}
		}
	}
}

func TestPairwiseSum(t *testing.T) {
	// Every branch: short, one block, recursive split; integers sum exactly.
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 127, 128, 129, 1000, 4097} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i + 1)
		}
		if got, want := pairwiseSum(xs), float64(n*(n+1)/2); got != want {
			t.Errorf("n=%d: sum %v, want %v", n, got, want)
		}
	}
	// Pairwise summation of many small floats stays close to the true sum.
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 100000)
	for i := range xs {
		xs[i] = 0.1 + r.Float64()*1e-3
	}
	naive := 0.0
	for _, x := range xs {
		naive += x
	}
	if got := pairwiseSum(xs); math.Abs(got-naive) > 1e-6 {
		t.Errorf("pairwise %v, naive %v", got, naive)
	}
}

func TestParsePercentiles(t *testing.T) {
	tests := []struct {
		in      string
		want    []float64
		wantErr string
	}{
		{"50,90,95,99", []float64{50, 90, 95, 99}, ""},
		{" 99.9 , 50 ", []float64{99.9, 50}, ""}, // order kept, spaces trimmed
		{"0,100", []float64{0, 100}, ""},         // the extremes are allowed
		{"", nil, ""},                            // no percentile columns
		{".5", []float64{0.5}, ""},               // leading dot
		{"100.1", nil, "from 0 to 100"},          // too large
		{"-1", nil, "from 0 to 100"},             // signs are not plain decimals
		{"1e1", nil, "from 0 to 100"},            // no exponents: it names a column
		{"nan", nil, "from 0 to 100"},
		{"50,,90", nil, "from 0 to 100"}, // empty item
		{"50,50.0", nil, "listed twice"}, // same column twice
		{"1.2.3", nil, "from 0 to 100"},
	}
	for _, tt := range tests {
		got, err := ParsePercentiles(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePercentiles(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParsePercentiles(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatPercentile(t *testing.T) {
	for p, want := range map[float64]string{50: "50", 99.9: "99.9", 0.5: "0.5", 99.99: "99.99", 100: "100"} {
		if got := FormatPercentile(p); got != want {
			t.Errorf("FormatPercentile(%v) = %q, want %q", p, got, want)
		}
	}
}

func FuzzParsePercentiles(f *testing.F) {
	for _, s := range []string{"50,90,95,99", "99.9", "", " 1 ,2", "1e3", "-0", "50,50", "100.0000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePercentiles(s)
		if err != nil {
			return
		}
		names := make([]string, len(ps))
		for i, p := range ps {
			if !(p >= 0 && p <= 100) {
				t.Fatalf("%q: percentile %v out of range", s, p)
			}
			names[i] = FormatPercentile(p)
		}
		// What we print reads back to the same list: column names are stable.
		again, err := ParsePercentiles(strings.Join(names, ","))
		if err != nil || !slices.Equal(again, ps) {
			t.Fatalf("%q: %v formats as %v, reads back %v, %v", s, ps, names, again, err)
		}
		if len(ps) > 0 {
			xs := []float64{3, 1, 2}
			sum, _ := Summarize(xs, ps)
			for i, v := range sum.Percentiles {
				if v < 1 || v > 3 {
					t.Fatalf("p%v = %v outside [min, max]", ps[i], v)
				}
			}
		}
	})
}
