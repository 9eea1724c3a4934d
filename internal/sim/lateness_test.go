package sim

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestLatenessBuckets: every value falls in a bucket whose upper bound is
// at least the value and at most 12.5% above it, buckets are in order,
// and the last one holds the largest value.
func TestLatenessBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(ns uint64) {
		i := latenessBucket(ns)
		if i < 0 || i >= latenessBuckets {
			t.Fatalf("%d ns: bucket %d of %d", ns, i, latenessBuckets)
		}
		up := latenessUpper(i)
		if up < ns || float64(up) > float64(ns)*1.125+1 {
			t.Fatalf("%d ns: bucket %d's upper bound %d", ns, i, up)
		}
		if i > 0 && latenessUpper(i-1) >= ns {
			t.Fatalf("%d ns: bucket %d, but the one before reaches %d", ns, i, latenessUpper(i-1))
		}
	}
	for ns := uint64(0); ns < 5000; ns++ {
		check(ns)
	}
	for range 100000 {
		check(rng.Uint64() >> rng.UintN(64))
	}
	check(1<<64 - 1)
}

// TestLatenessQuantiles: p50, p99 and the maximum of a known set, and the
// account llmsim gives of them.
func TestLatenessQuantiles(t *testing.T) {
	var l lateness
	if l.quantile(0.5) != 0 || l.line() != "" {
		t.Fatal("an empty histogram has quantiles or a line")
	}
	for i := 1; i <= 1000; i++ { // 1..1000 µs
		l.add(time.Duration(i) * time.Microsecond)
	}
	l.add(-time.Millisecond) // early: 0
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, time.Millisecond}} {
		got := l.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*1.125 {
			t.Errorf("q %v: %v, want %v (to 12.5%% above)", c.q, got, c.want)
		}
	}
	m := string(l.appendMetric(nil))
	for _, want := range []string{"# TYPE llmsim_send_lateness_seconds summary\n", `llmsim_send_lateness_seconds{quantile="1"} 0.001` + "\n", "llmsim_send_lateness_seconds_count 1001\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("metric text lacks %q:\n%s", want, m)
		}
	}
	if line := l.line(); !strings.Contains(line, "1001 timed tokens sent; send lateness p50 0.5") || !strings.Contains(line, "max 1.000 ms") {
		t.Errorf("line %q", line)
	}
}
