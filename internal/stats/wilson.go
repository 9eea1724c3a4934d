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
func Wilson(k, n int, z float64) (lo, hi float64) { return wilson(float64(k), float64(n), z) }

// wilson is Wilson for an effective count of trials, not a whole number.
func wilson(k, nf, z float64) (lo, hi float64) {
	if nf <= 0 {
		return 0, 1
	}
	p := k / nf
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
	return ratioVerdict(float64(k), float64(n), least)
}

func ratioVerdict(k, n, least float64) Verdict {
	lo, hi := wilson(k, n, z95)
	switch {
	case n > 0 && lo >= least:
		return Pass
	case n > 0 && hi < least:
		return Fail
	}
	return Unclear
}

// Judgement is OutcomesVerdict's answer.
type Judgement struct {
	Verdict      Verdict
	Good, N      int
	DesignEffect float64 // >= 1: how much the outcomes' batches vary beyond independent trials
	Lo, Hi       float64 // the one-sided 95% bounds, at the effective number of trials
}

// OutcomesVerdict judges a sequence of good/bad outcomes (in the order
// the requests were sent) as RatioVerdict does, but without assuming they
// are independent. Requests of one load point are not: a burst of
// arrivals makes many of them wait together, so their outcomes come in
// runs, and a ratio of n of them varies more than n independent trials
// would. The sequence is cut into k consecutive batches of m (at least 5
// requests, k at least 4; the rest left out of this estimate only), and
// the variance of the batch ratios s² against the binomial p(1-p)/m gives
// the design effect
//
//	D = max(1, s² / (p(1-p)/m))
//
// by which the number of trials is divided (Kish's effective sample size:
// n/D trials, p·n/D of them good) before the Wilson interval is taken.
// Outcomes as regular as independent ones (D <= 1) are judged as
// RatioVerdict judges them; too few for four batches too.
func OutcomesVerdict(outcomes []bool, least float64) Judgement {
	j := Judgement{N: len(outcomes), DesignEffect: DesignEffect(outcomes)}
	for _, ok := range outcomes {
		if ok {
			j.Good++
		}
	}
	n := float64(j.N) / j.DesignEffect
	k := float64(j.Good) / j.DesignEffect
	j.Verdict = ratioVerdict(k, n, least)
	j.Lo, j.Hi = wilson(k, n, z95)
	return j
}

// DesignEffect is OutcomesVerdict's D.
func DesignEffect(outcomes []bool) float64 {
	m := max(5, len(outcomes)/10)
	k := len(outcomes) / m
	if k < 4 {
		return 1
	}
	ratios := make([]float64, k)
	total := 0
	for b := range k {
		good := 0
		for _, ok := range outcomes[b*m : (b+1)*m] {
			if ok {
				good++
			}
		}
		ratios[b] = float64(good) / float64(m)
		total += good
	}
	p := float64(total) / float64(k*m)
	if p == 0 || p == 1 {
		return 1
	}
	var s2 float64
	for _, r := range ratios {
		s2 += (r - p) * (r - p)
	}
	s2 /= float64(k - 1)
	return max(1, s2/(p*(1-p)/float64(m)))
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
