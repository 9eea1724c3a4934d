package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// reference is Summarize as it was written for one slice, before Samples:
// the moments summed over a copy in the order given (the squares stored
// first), then a sort and the order statistics read by index.
func reference(xs, ps []float64) Summary {
	xs = slices.Clone(xs)
	n := float64(len(xs))
	mean := pairwiseSum(xs) / n
	sq := make([]float64, len(xs))
	for i, x := range xs {
		d := x - mean
		sq[i] = d * d
	}
	s := Summary{N: len(xs), Mean: mean, Std: math.Sqrt(pairwiseSum(sq) / n)}
	slices.Sort(xs)
	s.Min, s.Max = xs[0], xs[len(xs)-1]
	if len(xs)%2 == 1 {
		s.Median = xs[len(xs)/2]
	} else {
		s.Median = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	for _, p := range ps {
		h := (n - 1) * (p / 100)
		lo := math.Floor(h)
		i, t := int(lo), h-lo
		switch {
		case i >= len(xs)-1:
			s.Percentiles = append(s.Percentiles, xs[len(xs)-1])
		case t >= 0.5:
			s.Percentiles = append(s.Percentiles, xs[i+1]-(xs[i+1]-xs[i])*(1-t))
		default:
			s.Percentiles = append(s.Percentiles, xs[i]+(xs[i+1]-xs[i])*t)
		}
	}
	return s
}

// same is equality to the last bit, NaN equal to NaN; a zero's sign may
// differ (a sort places -0 and 0, which compare equal, in either order).
func same(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || a == 0 && b == 0 || math.IsNaN(a) && math.IsNaN(b)
}

func sameSummary(a, b Summary) bool {
	if a.N != b.N || len(a.Percentiles) != len(b.Percentiles) {
		return false
	}
	for i := range a.Percentiles {
		if !same(a.Percentiles[i], b.Percentiles[i]) {
			return false
		}
	}
	return same(a.Mean, b.Mean) && same(a.Std, b.Std) && same(a.Median, b.Median) && same(a.Min, b.Min) && same(a.Max, b.Max)
}

// smallBlocks makes Samples use blocks of 4 to 32 values for one test, so
// that small sets span many blocks, some of them partial.
func smallBlocks(t *testing.T) {
	lo, hi := minBlock, maxBlock
	minBlock, maxBlock = 4, 32
	t.Cleanup(func() { minBlock, maxBlock = lo, hi })
}

var everyPercentile = []float64{0, 0.1, 1, 5, 10, 25, 33.3, 50, 66.7, 75, 90, 95, 99, 99.9, 99.99, 100}

// TestSamplesMatchOneSlice: Samples describes its values to the last bit as
// the one-slice computation does, over many blocks, whichever way the values
// were added and whether SortAll sorted them or Summarize did.
func TestSamplesMatchOneSlice(t *testing.T) {
	smallBlocks(t)
	r := rand.New(rand.NewPCG(3, 4))
	gens := []struct {
		name string
		gen  func() float64
	}{
		{"latencies", func() float64 { return 0.5 + r.ExpFloat64()*20 }},
		{"few distinct values", func() float64 { return float64(r.IntN(5)) * 0.25 }},
		{"tiny ITLs", func() float64 { return float64(300+r.IntN(1000)) * 1e-6 }},
		{"signed, zeros of both signs", func() float64 {
			switch r.IntN(4) {
			case 0:
				return 0
			case 1:
				return math.Copysign(0, -1)
			}
			return r.NormFloat64()
		}},
		{"NaN and infinities", func() float64 {
			switch r.IntN(20) {
			case 0:
				return math.NaN()
			case 1:
				return math.Inf(1)
			case 2:
				return math.Inf(-1)
			}
			return r.Float64()
		}},
	}
	for _, g := range gens {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 31, 32, 33, 100, 129, 257, 1000, 4099} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = g.gen()
			}
			want := reference(xs, everyPercentile)
			var one, all, sorted Samples
			for i, x := range xs { // Add and AddAll in turns
				if i%3 == 0 {
					one.Add(x)
				} else {
					one.AddAll(xs[i : i+1])
				}
			}
			for i := 0; i < n; i += 11 {
				all.AddAll(xs[i:min(i+11, n)])
				sorted.AddAll(xs[i:min(i+11, n)])
			}
			SortAll([]*Samples{&sorted, {}})
			for _, c := range []struct {
				name string
				s    *Samples
			}{{"Add", &one}, {"AddAll", &all}, {"SortAll", &sorted}} {
				got, ok := c.s.Summarize(everyPercentile)
				if !ok || !sameSummary(got, want) {
					t.Errorf("%s, n=%d, %s:\n got %+v\nwant %+v", g.name, n, c.name, got, want)
				}
				if p := c.s.Percentile(99); !same(p, want.Percentiles[12]) {
					t.Errorf("%s, n=%d, %s: Percentile(99) %v, want %v", g.name, n, c.name, p, want.Percentiles[12])
				}
			}
			if got, want := one.Sorted(), sortedCopy(xs); !slices.EqualFunc(got, want, same) {
				t.Errorf("%s, n=%d: Sorted %v, want %v", g.name, n, got, want)
			}
			if got := must(Summarize(slices.Clone(xs), everyPercentile)); !sameSummary(got, want) {
				t.Errorf("%s, n=%d: Summarize %+v, want %+v", g.name, n, got, want)
			}
		}
	}
}

func sortedCopy(xs []float64) []float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}

// TestSamplesLargeBlocks: the default block sizes, over enough values for
// full blocks of the largest size.
func TestSamplesLargeBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	xs := make([]float64, 3*maxBlock+12345)
	var s Samples
	for i := range xs {
		xs[i] = float64(r.IntN(1_000_000)) * 1e-6
		s.Add(xs[i])
	}
	if len(s.blocks) < 5 || cap(s.blocks[len(s.blocks)-2]) != maxBlock {
		t.Errorf("%d blocks, the one before the last of %d values", len(s.blocks), cap(s.blocks[len(s.blocks)-2]))
	}
	SortAll([]*Samples{&s})
	if got, want := must(s.Summarize(everyPercentile)), reference(xs, everyPercentile); !sameSummary(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func must(s Summary, ok bool) Summary {
	if !ok {
		panic("no samples")
	}
	return s
}

func TestSamplesEmpty(t *testing.T) {
	var s Samples
	if _, ok := s.Summarize([]float64{50}); ok || s.Len() != 0 || s.Sorted() != nil || !math.IsNaN(s.Percentile(50)) {
		t.Errorf("empty Samples: ok %v, len %d", ok, s.Len())
	}
	s.AddAll(nil)
	SortAll([]*Samples{&s})
	if s.Len() != 0 {
		t.Errorf("len %d", s.Len())
	}
}
