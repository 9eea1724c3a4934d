package stats

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"
)

// Confidence is the level of the confidence intervals around medians.
const Confidence = 0.95

// Test is the outcome of a two-sample test of "both samples come from the
// same distribution". A test that could not reject at its alpha whatever
// the data says so rather than report a p-value that means nothing: Ran is
// false and Why tells the reader what was missing.
type Test struct {
	P      float64 // two-sided p-value; 1 when the test did not run
	N1, N2 int     // sample sizes
	Ran    bool
	Why    string // why the test did not run: too few values, all equal
}

// MannWhitney compares x and y with benchstat's method: benchmath's
// AssumeNothing, the Mann-Whitney U test (exact for small samples, with
// ties; the normal approximation with tie and continuity corrections for
// large ones). It tests whether values of one sample tend to be larger than
// those of the other, without assuming any distribution.
//
// It runs only when some arrangement of the pooled values into samples of
// these sizes could reach p <= alpha (see reachable): with 1 value a side
// no U test can, with 3 a side the smallest p is 0.1, with 4 it is 0.029.
func MannWhitney(x, y []float64, alpha float64) Test {
	t := Test{P: 1, N1: len(x), N2: len(y)}
	if why := cannotReject(x, y, alpha); why != "" {
		t.Why = why
		return t
	}
	t.P, t.Ran = uTest(x, y), true
	return t
}

// Exceedance compares the upper tails of x and y at percentile p: the share
// of each sample at or above the pooled p-th percentile (at or above, so a
// tail made of one repeated value still counts). Under the null
// hypothesis the pooled threshold is exceeded equally often on both sides;
// the counts are compared with the U test on 0/1 values, which for small
// samples is the exact conditional (Fisher-type) test. This is the quantile
// generalisation of Mood's median test: the U test on the raw values asks
// about the bulk of the distributions, this asks about the tail a p99
// describes. It needs many values: with 100 a side only about two exceed
// the pooled p99, too few to reach alpha, and the test says so.
func Exceedance(x, y []float64, p, alpha float64) Test {
	pooled := append(slices.Clone(x), y...)
	slices.Sort(pooled)
	q := Percentile(pooled, p)
	t := MannWhitney(above(x, q), above(y, q), alpha)
	if strings.HasPrefix(t.Why, "too") { // about the 0/1 values: say it of the tail
		t.Why = fmt.Sprintf("too few values in the tail, n=%s", Sizes(len(x), len(y)))
	}
	return t
}

// above maps xs to 1 where a value is at least q, else 0. Any rule works
// as long as it depends on the pooled values only: the test is then exact.
func above(xs []float64, q float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		if x >= q {
			out[i] = 1
		}
	}
	return out
}

// cannotReject says why no split of the pooled values into samples of
// len(x) and len(y) values could reach p <= alpha, or "" when one could.
// The most extreme splits put the smallest values on one side; both
// directions are tried because ties make the U distribution asymmetric.
//
// Leaving such a test out of a family (Holm) is Tarone's (1990) argument
// for discrete tests: whether it can reject depends only on the pooled
// values, which the null hypothesis does not change, so the test can never
// contribute a false rejection and need not dilute the others.
func cannotReject(x, y []float64, alpha float64) string {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return "no values on one side"
	}
	pooled := append(slices.Clone(x), y...)
	slices.Sort(pooled)
	if pooled[0] == pooled[len(pooled)-1] {
		return "all values equal"
	}
	low, high := pooled[:n1], pooled[n1:]
	lowFirst := uTest(low, high)
	rev := slices.Clone(pooled)
	slices.Reverse(rev)
	highFirst := uTest(rev[:n1], rev[n1:])
	switch {
	case min(lowFirst, highFirst) <= alpha:
		return ""
	case MinP(n1, n2) > alpha:
		return "too few values, n=" + Sizes(n1, n2)
	}
	return "too many equal values, n=" + Sizes(n1, n2) // enough values, but tied
}

// uTest is the two-sided p-value of benchmath's U test (AssumeNothing).
func uTest(x, y []float64) float64 {
	th := benchmath.Thresholds{CompareAlpha: 1} // the decision is ours
	a := benchmath.NewSample(slices.Clone(x), &th)
	b := benchmath.NewSample(slices.Clone(y), &th)
	return benchmath.AssumeNothing.Compare(a, b).P
}

// Sizes writes sample sizes as benchstat does: "6" when equal, "6+4" when not.
func Sizes(n1, n2 int) string {
	if n1 == n2 {
		return fmt.Sprint(n1)
	}
	return fmt.Sprintf("%d+%d", n1, n2)
}

// MinP is the smallest two-sided p-value the exact U test can give for
// samples of n1 and n2 distinct values: 2/C(n1+n2, n1), every value of one
// sample below every value of the other. For n1 = n2 = n: 1 (n=1), 0.333
// (2), 0.1 (3), 0.029 (4), 0.0079 (5), 0.0022 (6).
func MinP(n1, n2 int) float64 {
	if n1 < 1 || n2 < 1 {
		return 1
	}
	lc, _ := math.Lgamma(float64(n1 + n2 + 1))
	l1, _ := math.Lgamma(float64(n1 + 1))
	l2, _ := math.Lgamma(float64(n2 + 1))
	return math.Min(1, 2*math.Exp(l1+l2-lc))
}

// Holm adjusts the p-values of a family of tests for multiple comparisons
// with Holm's step-down method, so that the chance of any false rejection
// in the family stays at most alpha when each adjusted p is compared with
// alpha. With the p-values sorted ascending, p(1) <= ... <= p(m):
//
//	adjusted p(i) = max over j <= i of min(1, (m-j+1) * p(j))
//
// It is valid whatever the dependence between the tests (the metrics of one
// comparison are strongly correlated), and never less powerful than
// Bonferroni. The result is in the order of ps.
func Holm(ps []float64) []float64 {
	m := len(ps)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	adj := make([]float64, m)
	running := 0.0
	for rank, i := range order {
		running = math.Max(running, math.Min(1, float64(m-rank)*ps[i]))
		adj[i] = running
	}
	return adj
}

// MedianCI returns the median of xs (as np.median) and the bounds of its
// distribution-free confidence interval at level Confidence: order
// statistics chosen from the binomial distribution, as benchstat's
// benchmath computes them. The bounds are infinite when xs is too small
// for the level (fewer than 6 values at 95%). NaN for no values.
func MedianCI(xs []float64) (median, lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := benchmath.NewSample(slices.Clone(xs), &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(s, Confidence)
	return Median(s.Values), sum.Lo, sum.Hi
}
