package stats

import "math"

// z95 is the one-sided 95% quantile of the standard normal distribution.
const z95 = 1.6448536269514722

// Wilson is the Wilson score interval of a binomial proportion, k
// successes in n trials, at normal quantile z:
//
//	centre = (p + z²/2n) / (1 + z²/n)
//	half   = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)      p = k/n
//
// Unlike the normal approximation it stays inside [0, 1] and keeps its
// coverage near 0 and 1, where a goodput ratio lives. n = 0 gives [0, 1].
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return max(0, centre-half), min(1, centre+half)
}

// Verdict of a ratio against a threshold.
type Verdict int

// The verdicts of RatioVerdict.
const (
	Unclear Verdict = iota // the interval straddles the threshold: more data needed
	Pass                   // above the threshold with 95% confidence
	Fail                   // below it with 95% confidence
)

func (v Verdict) String() string {
	return [...]string{"unclear", "pass", "fail"}[v]
}

// RatioVerdict judges k good of n against least, the share needed: Pass
// when the one-sided 95% Wilson lower bound is at least least, Fail when
// the one-sided 95% upper bound is below it, else Unclear. A run that
// happened to be lucky near the threshold is Unclear, not Pass: with all
// n good the lower bound is n/(n+z²), so passing least takes at least
// MinPassing(least) requests.
func RatioVerdict(k, n int, least float64) Verdict {
	lo, hi := Wilson(k, n, z95)
	switch {
	case n > 0 && lo >= least:
		return Pass
	case n > 0 && hi < least:
		return Fail
	}
	return Unclear
}

// MinPassing is the fewest requests, all good, that RatioVerdict passes
// against least: n/(n+z²) >= least, n >= z²·least/(1-least).
func MinPassing(least float64) int {
	if least >= 1 {
		return math.MaxInt
	}
	n := int(math.Ceil(z95 * z95 * least / (1 - least)))
	for n > 1 && RatioVerdict(n-1, n-1, least) == Pass {
		n--
	}
	for RatioVerdict(n, n, least) != Pass {
		n++
	}
	return n
}
