package sim

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"sync/atomic"
	"time"
)

// lateness is how late llmsim sent its timed tokens: for each streamed
// token, the time its write returned minus the instant it was due. A
// client's timings are only checked against llmsim's truth when that truth
// held, so llmsim says how far it did: on /metrics
// (llmsim_send_lateness_seconds) and in its exit line.
//
// A log-linear histogram of lock-free counters (8 buckets per power of
// two, so quantiles are within 9%); adding a sample is two atomic adds and
// a compare-and-swap at worst, cheap beside the write it measures.
type lateness struct {
	buckets [latenessBuckets]atomic.Uint64
	count   atomic.Uint64
	sumNs   atomic.Uint64
	maxNs   atomic.Int64
}

const (
	latenessSub     = 3 // log2 of the buckets per power of two
	latenessBuckets = (64 - latenessSub + 1) << latenessSub
)

// latenessBucket is the bucket of ns >= 0: exact below 8 ns, then 8 per
// power of two.
func latenessBucket(ns uint64) int {
	if ns < 1<<latenessSub {
		return int(ns)
	}
	exp := bits.Len64(ns) - 1 // ns in [2^exp, 2^(exp+1))
	mant := (ns >> (exp - latenessSub)) & (1<<latenessSub - 1)
	return (exp-latenessSub+1)<<latenessSub + int(mant)
}

// latenessUpper is the largest value of bucket i.
func latenessUpper(i int) uint64 {
	if i < 1<<latenessSub {
		return uint64(i)
	}
	exp := i>>latenessSub + latenessSub - 1
	mant := uint64(i & (1<<latenessSub - 1))
	lo := uint64(1)<<exp | mant<<(exp-latenessSub)
	return lo + uint64(1)<<(exp-latenessSub) - 1
}

// add records one token sent d after it was due (early counts as 0).
func (l *lateness) add(d time.Duration) {
	ns := uint64(max(d, 0))
	l.buckets[latenessBucket(ns)].Add(1)
	l.count.Add(1)
	l.sumNs.Add(ns)
	for {
		m := l.maxNs.Load()
		if int64(ns) <= m || l.maxNs.CompareAndSwap(m, int64(ns)) {
			return
		}
	}
}

// quantile is the q-quantile's bucket upper bound (the maximum for q = 1);
// 0 without samples.
func (l *lateness) quantile(q float64) time.Duration {
	n := l.count.Load()
	if n == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(l.maxNs.Load())
	}
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for i := range l.buckets {
		if seen += l.buckets[i].Load(); seen >= max(rank, 1) {
			return time.Duration(min(latenessUpper(i), uint64(l.maxNs.Load())))
		}
	}
	return time.Duration(l.maxNs.Load())
}

// appendMetric writes the Prometheus summary of the send lateness.
func (l *lateness) appendMetric(b []byte) []byte {
	return l.appendSummary(b, "llmsim_send_lateness_seconds", "How late llmsim sent its timed tokens: write time minus due time (quantile 1 is the maximum).")
}

// appendSummary writes the lateness as the Prometheus summary name.
func (l *lateness) appendSummary(b []byte, name, help string) []byte {
	b = append(append(append(append(b, "# HELP "...), name...), ' '), help...)
	b = append(append(append(b, "\n# TYPE "...), name...), " summary\n"...)
	for _, q := range []float64{0.5, 0.99, 1} {
		b = append(append(b, name...), `{quantile="`...)
		b = strconv.AppendFloat(b, q, 'g', -1, 64)
		b = append(b, `"} `...)
		b = strconv.AppendFloat(b, l.quantile(q).Seconds(), 'g', -1, 64)
		b = append(b, '\n')
	}
	b = append(append(b, name...), "_sum "...)
	b = strconv.AppendFloat(b, time.Duration(l.sumNs.Load()).Seconds(), 'g', -1, 64)
	b = append(append(append(b, '\n'), name...), "_count "...)
	b = strconv.AppendUint(b, l.count.Load(), 10)
	return append(b, '\n')
}

// line is the exit line's account, "" when no timed token was sent.
func (l *lateness) line() string {
	n := l.count.Load()
	if n == 0 {
		return ""
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return fmt.Sprintf("llmsim: %d timed tokens sent; send lateness p50 %.3f ms, p99 %.3f ms, max %.3f ms (write time minus due time)",
		n, ms(l.quantile(0.5)), ms(l.quantile(0.99)), ms(l.quantile(1)))
}
