// Package stats computes the summary statistics of latency samples: mean,
// median, population standard deviation, extremes and exact percentiles;
// and the two-sample tests, multiple-comparison adjustment and confidence
// intervals that comparisons of runs rest on (compare.go).
//
// Every formula follows numpy's defaults, which `vllm bench serve` uses, so a
// reader can check any number with numpy on the same samples (in the same
// unit): np.mean, np.median, np.std (ddof=0) and np.percentile (method
// "linear"). Sums use numpy's pairwise summation, so results agree to the
// last bit in the common case, not merely to a tolerance.
package stats

import "math"

// Summary describes one set of samples. Percentiles holds one value per
// requested percentile, in the order asked.
type Summary struct {
	N           int
	Mean        float64
	Median      float64
	Std         float64 // population standard deviation (ddof=0), as np.std
	Min         float64
	Max         float64
	Percentiles []float64
}

// Summarize sorts xs in place and describes it, with the percentiles ps
// (each in [0, 100]). ok is false when xs is empty: there is nothing to
// describe, and callers print an empty cell rather than a made-up zero.
func Summarize(xs []float64, ps []float64) (s Summary, ok bool) {
	set := Samples{blocks: [][]float64{xs[:len(xs):len(xs)]}, n: len(xs)}
	return set.Summarize(ps)
}

// Mean is the arithmetic mean, sum/n with numpy's pairwise sum (np.mean).
// It is NaN for no samples.
func Mean(xs []float64) float64 {
	return pairwiseSum(xs) / float64(len(xs))
}

// Median of sorted samples: the middle one, or for an even count the mean of
// the two middle ones computed as (a+b)/2, exactly as np.median does (which
// can differ in the last bit from Percentile(sorted, 50)).
func Median(sorted []float64) float64 {
	return median(len(sorted), func(i int) float64 { return sorted[i] })
}

// median is Median of the n sorted values at(0) ... at(n-1).
func median(n int, at func(int) float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}

// Percentile returns the p-th percentile (p in [0, 100]) of sorted samples,
// interpolating linearly between order statistics as np.percentile's default
// method "linear" does:
//
//	h     = (n-1) * (p/100)
//	lo    = floor(h), t = h - lo
//	value = x[lo] + t*(x[lo+1]-x[lo])      when t < 0.5
//	value = x[lo+1] - (1-t)*(x[lo+1]-x[lo]) when t >= 0.5
//
// The two forms of the interpolation are numpy's (_lerp): the second keeps
// the result monotonic and exact at the upper end. It is NaN for no samples.
func Percentile(sorted []float64, p float64) float64 {
	return percentile(len(sorted), func(i int) float64 { return sorted[i] }, p)
}

// percentile is Percentile of the n sorted values at(0) ... at(n-1).
func percentile(n int, at func(int) float64, p float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * (p / 100)
	lo := math.Floor(h)
	i := int(lo)
	if i < 0 {
		return at(0)
	}
	if i >= n-1 {
		return at(n - 1)
	}
	t := h - lo
	a, b := at(i), at(i+1)
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// pairwiseBlock is numpy's PW_BLOCKSIZE: below it numpy sums with eight
// interleaved accumulators, above it it splits the array in two.
const pairwiseBlock = 128

// pairwiseSum adds xs in the order numpy's pairwise summation does
// (DOUBLE_pairwise_sum in numpy/_core/src/umath/loops_utils.h.src). Its
// rounding error grows with log(n) rather than n.
func pairwiseSum(xs []float64) float64 {
	n := len(xs)
	switch {
	case n < 8:
		res := 0.0
		for _, x := range xs {
			res += x
		}
		return res
	case n <= pairwiseBlock:
		var r [8]float64
		copy(r[:], xs[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += xs[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += xs[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(xs[:n2]) + pairwiseSum(xs[n2:])
	}
}

// pairwiseSumSq is pairwiseSum of the squared deviations (x-mean)^2 of at
// most pairwiseBlock values, computed as it reads them rather than stored
// first. float64() rounds each square before it is added, as storing it
// did: Go may otherwise fuse the multiply and the add (FMA) on some CPUs.
func pairwiseSumSq(xs []float64, mean float64) float64 {
	n := len(xs)
	if n < 8 {
		res := 0.0
		for _, x := range xs {
			d := x - mean
			res += float64(d * d)
		}
		return res
	}
	var r [8]float64
	for j := range r {
		d := xs[j] - mean
		r[j] = float64(d * d)
	}
	i := 8
	for ; i < n-n%8; i += 8 {
		for j := range r {
			d := xs[i+j] - mean
			r[j] += float64(d * d)
		}
	}
	res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
	for ; i < n; i++ {
		d := xs[i] - mean
		res += float64(d * d)
	}
	return res
}
