package stats

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Block sizes of Samples, in values. Blocks start small, so that the many
// small sets of a sweep stay small, and double up to maxBlock (512 KiB: a
// block sorts within a core's cache).
var (
	minBlock = 256
	maxBlock = 64 << 10
)

// Samples is a set of samples that grows in blocks: appending never moves
// what is stored, and the memory touched is the samples' own, not the
// copies and the unused halves of an array that doubles. It is how
// summarize keeps millions of ITL samples: on this project's VM, touching
// a page of fresh memory costs as much as sorting the 512 values it holds.
//
// Summarize describes it exactly as the package-level Summarize describes
// the same values in one slice, to the last bit: the mean and standard
// deviation are summed pairwise in the order the values were added (see
// Mean), and the percentiles are order statistics of the whole set, taken
// across the sorted blocks (see nth).
//
// The zero value is an empty set. Once it is sorted (by Summarize,
// Percentile, Sorted or SortAll), Add panics: the order of addition is gone.
type Samples struct {
	blocks    [][]float64 // every block full but the last
	n         int
	sorted    bool
	mean, std float64 // of the values in the order added, taken before sorting
}

// Add appends x.
func (s *Samples) Add(x float64) {
	k := len(s.blocks) - 1
	if k < 0 || len(s.blocks[k]) == cap(s.blocks[k]) {
		s.grow()
		k++
	}
	s.blocks[k] = append(s.blocks[k], x)
	s.n++
}

// AddAll appends xs in order.
func (s *Samples) AddAll(xs []float64) {
	for len(xs) > 0 {
		k := len(s.blocks) - 1
		if k < 0 || len(s.blocks[k]) == cap(s.blocks[k]) {
			s.grow()
			k++
		}
		b := s.blocks[k]
		m := min(len(xs), cap(b)-len(b))
		s.blocks[k] = append(b, xs[:m]...)
		s.n += m
		xs = xs[m:]
	}
}

// grow adds an empty block: as large as the set so far, within
// [minBlock, maxBlock].
func (s *Samples) grow() {
	if s.sorted {
		panic("stats: Samples.Add after sorting")
	}
	s.blocks = append(s.blocks, make([]float64, 0, min(max(s.n, minBlock), maxBlock)))
}

// Len is the number of samples.
func (s *Samples) Len() int { return s.n }

// Summarize describes the samples as Summarize(values, ps) does, sorting
// them if they are not yet.
func (s *Samples) Summarize(ps []float64) (Summary, bool) {
	if s.n == 0 {
		return Summary{}, false
	}
	s.sort()
	out := Summary{N: s.n, Mean: s.mean, Std: s.std, Min: s.nth(0), Max: s.nth(s.n - 1)}
	out.Median = median(s.n, s.nth)
	out.Percentiles = make([]float64, len(ps))
	for i, p := range ps {
		out.Percentiles[i] = percentile(s.n, s.nth, p)
	}
	return out, true
}

// Percentile is Percentile(values, p) of the sorted values, sorting them if
// they are not yet.
func (s *Samples) Percentile(p float64) float64 {
	s.sort()
	return percentile(s.n, s.nth, p)
}

// Sorted returns the samples sorted, in a new slice; nil for none.
func (s *Samples) Sorted() []float64 {
	if s.n == 0 {
		return nil
	}
	s.sort()
	return merge(make([]float64, 0, s.n), s.blocks)
}

// merge appends the values of the sorted blocks to dst in order: a k-way
// merge, with a heap of the blocks ordered by their first values (NaNs
// first, as slices.Sort puts them).
func merge(dst []float64, blocks [][]float64) []float64 {
	h := make([][]float64, 0, len(blocks))
	for _, b := range blocks {
		if len(b) > 0 {
			h = append(h, b)
		}
	}
	less := func(i, j int) bool { return cmp.Less(h[i][0], h[j][0]) }
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && less(c+1, c) {
				c++
			}
			if !less(c, i) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		b := h[0]
		dst = append(dst, b[0])
		if b = b[1:]; len(b) > 0 {
			h[0] = b
		} else {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return dst
}

// sort takes the moments, which need the order of addition, and then
// sorts every block.
func (s *Samples) sort() {
	if s.sorted {
		return
	}
	s.moments()
	for _, b := range s.blocks {
		slices.Sort(b)
	}
	s.sorted = true
}

// moments takes the mean and standard deviation, as Mean and Std do.
func (s *Samples) moments() {
	if s.n == 0 || s.sorted {
		return
	}
	c := cursor{blocks: s.blocks}
	s.mean = c.pairwise(s.n, pairwiseSum) / float64(s.n)
	c = cursor{blocks: s.blocks}
	mean := s.mean
	sq := func(xs []float64) float64 { return pairwiseSumSq(xs, mean) }
	s.std = math.Sqrt(c.pairwise(s.n, sq) / float64(s.n))
}

// cursor walks the values of blocks in order, for pairwise summation,
// whose leaves come in order.
type cursor struct {
	blocks  [][]float64
	k, i    int // block and position in it
	scratch [pairwiseBlock]float64
}

// pairwise sums the next n values in numpy's pairwise order (see
// pairwiseSum), with leaf summing each run of at most pairwiseBlock values.
func (c *cursor) pairwise(n int, leaf func([]float64) float64) float64 {
	if n <= pairwiseBlock {
		return leaf(c.next(n))
	}
	n2 := n / 2
	n2 -= n2 % 8
	a := c.pairwise(n2, leaf)
	b := c.pairwise(n-n2, leaf)
	return a + b
}

// next returns the next n values: a part of one block, or a copy of the
// values spanning two or more.
func (c *cursor) next(n int) []float64 {
	for c.i == len(c.blocks[c.k]) {
		c.k, c.i = c.k+1, 0
	}
	if b := c.blocks[c.k]; c.i+n <= len(b) {
		c.i += n
		return b[c.i-n : c.i]
	}
	out := c.scratch[:0]
	for len(out) < n {
		for c.i == len(c.blocks[c.k]) {
			c.k, c.i = c.k+1, 0
		}
		b := c.blocks[c.k]
		m := min(n-len(out), len(b)-c.i)
		out = append(out, b[c.i:c.i+m]...)
		c.i += m
	}
	return out
}

// nth is the value of rank k (from 0) of the sorted samples: what
// sorted[k] is for the values in one sorted slice. Across blocks it
// searches the values for the least v with more than k samples at most v,
// by bisecting the float64s in their order as integers (key), counting
// samples at most v with a binary search in each block. NaNs sort first,
// as slices.Sort puts them.
func (s *Samples) nth(k int) float64 {
	if len(s.blocks) == 1 {
		return s.blocks[0][k]
	}
	atMost := func(v float64) int {
		n := 0
		for _, b := range s.blocks {
			n += sort.Search(len(b), func(i int) bool { return b[i] > v }) // false for NaN, which come first
		}
		return n
	}
	if nans := atMost(math.Inf(-1)) - s.count(math.Inf(-1)); k < nans {
		return math.NaN()
	}
	lo, hi := key(math.Inf(-1)), key(math.Inf(1))
	for lo < hi {
		mid := lo + (hi-lo)/2
		if atMost(fromKey(mid)) > k {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// The value found is one of the samples' but for the sign of a zero
	// (-0 comes first as an integer, and equals 0): return a sample.
	v := fromKey(lo)
	for _, b := range s.blocks {
		if i, found := slices.BinarySearch(b, v); found {
			return b[i]
		}
	}
	return v
}

// count is the number of samples equal to v.
func (s *Samples) count(v float64) int {
	n := 0
	for _, b := range s.blocks {
		i, _ := slices.BinarySearch(b, v)
		for ; i < len(b) && b[i] == v; i++ {
			n++
		}
	}
	return n
}

// key maps a float64 other than NaN to a uint64 in the same order (-0
// before 0): flip the sign bit of positive numbers, every bit of negative
// ones.
func key(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 0 {
		return b | 1<<63
	}
	return ^b
}

func fromKey(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// SortAll sorts sets ahead of Summarize (taking their moments first), on
// up to GOMAXPROCS goroutines: the moments of each set, then every block of
// every set, are independent pieces of work. Summarize then only looks up
// order statistics.
func SortAll(sets []*Samples) {
	var todo []*Samples
	var blocks [][]float64
	for _, s := range sets {
		if !s.sorted && s.n > 0 {
			todo = append(todo, s)
			blocks = append(blocks, s.blocks...)
		}
	}
	// The largest sets first, so that no goroutine starts a big one last.
	slices.SortStableFunc(todo, func(a, b *Samples) int { return b.n - a.n })
	parallel(len(todo), func(i int) { todo[i].moments() })
	slices.SortStableFunc(blocks, func(a, b []float64) int { return len(b) - len(a) })
	parallel(len(blocks), func(i int) { slices.Sort(blocks[i]) })
	for _, s := range todo {
		s.sorted = true
	}
}

// parallel calls f(0) ... f(n-1) on up to GOMAXPROCS goroutines.
func parallel(n int, f func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}
