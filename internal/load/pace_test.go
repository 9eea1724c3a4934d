package load

import (
	"math"
	"sort"
	"testing"
	"time"
)

func offsets(t *testing.T, rate float64, arrival string, b float64, ramp time.Duration, seed uint64, n int) []float64 {
	t.Helper()
	s, err := NewSchedule(rate, arrival, b, ramp, seed)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = s.Next().Seconds()
	}
	return out
}

func TestScheduleConstant(t *testing.T) {
	got := offsets(t, 4, ArrivalConstant, 0, 0, 1, 5)
	for i, want := range []float64{0, 0.25, 0.5, 0.75, 1} {
		if math.Abs(got[i]-want) > 1e-9 {
			t.Errorf("offset %d = %v, want %v", i, got[i], want)
		}
	}
}

func TestScheduleRampUp(t *testing.T) {
	// Rate rises from 0 to 10/s over 2 s: 10 arrivals expected in the ramp
	// (Λ(2) = 10·2²/4 = 10), then one every 100 ms.
	got := offsets(t, 10, ArrivalConstant, 0, 2*time.Second, 1, 13)
	for i, want := range map[int]float64{0: 0, 1: math.Sqrt(0.4), 10: 2, 11: 2.1, 12: 2.2} {
		if math.Abs(got[i]-want) > 1e-9 {
			t.Errorf("offset %d = %v, want %v", i, got[i], want)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("not increasing at %d: %v", i, got)
		}
	}
}

func TestScheduleSeeded(t *testing.T) {
	a := offsets(t, 100, ArrivalPoisson, 0, 0, 42, 1000)
	b := offsets(t, 100, ArrivalPoisson, 0, 0, 42, 1000)
	c := offsets(t, 100, ArrivalPoisson, 0, 0, 43, 1000)
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed differs at %d", i)
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave the same schedule")
	}
}

// TestPoissonGoodnessOfFit: the gaps of a Poisson schedule must be
// exponential with mean 1/rate. A Kolmogorov-Smirnov test on 5,000 gaps;
// the 1% critical value is 1.63/sqrt(n). The seed is fixed, so the test is
// deterministic; the statistic is also checked far from the limit.
func TestPoissonGoodnessOfFit(t *testing.T) {
	const n, rate = 5000, 200.0
	off := offsets(t, rate, ArrivalPoisson, 0, 0, 7, n+1)
	gaps := make([]float64, n)
	for i := range gaps {
		gaps[i] = off[i+1] - off[i]
	}
	if d, crit := ksExponential(gaps, rate), 1.63/math.Sqrt(n); d > crit {
		t.Errorf("KS statistic %.4f above the 1%% critical value %.4f", d, crit)
	}
	// Constant gaps must fail the same test: the test has teeth.
	con := offsets(t, rate, ArrivalConstant, 0, 0, 7, n+1)
	for i := range gaps {
		gaps[i] = con[i+1] - con[i]
	}
	if d := ksExponential(gaps, rate); d < 0.3 {
		t.Errorf("constant gaps passed as exponential (D=%.3f)", d)
	}
}

// TestGammaMoments: gamma gaps keep the mean 1/rate, and their coefficient
// of variation is 1/sqrt(burstiness).
func TestGammaMoments(t *testing.T) {
	for _, b := range []float64{0.25, 1, 4} {
		off := offsets(t, 50, ArrivalGamma, b, 0, 3, 20001)
		var sum, sq float64
		for i := 1; i < len(off); i++ {
			g := off[i] - off[i-1]
			sum += g
			sq += g * g
		}
		n := float64(len(off) - 1)
		mean := sum / n
		cv := math.Sqrt(sq/n-mean*mean) / mean
		if math.Abs(mean-0.02)/0.02 > 0.05 {
			t.Errorf("burstiness %v: mean gap %.5f, want 0.02", b, mean)
		}
		if want := 1 / math.Sqrt(b); math.Abs(cv-want)/want > 0.08 {
			t.Errorf("burstiness %v: CV %.3f, want %.3f", b, cv, want)
		}
	}
}

func ksExponential(xs []float64, rate float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := float64(len(s))
	d := 0.0
	for i, x := range s {
		f := 1 - math.Exp(-rate*x)
		d = math.Max(d, math.Max(math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f)))
	}
	return d
}

func TestScheduleErrors(t *testing.T) {
	for _, tt := range []struct {
		rate    float64
		arrival string
		b       float64
		ramp    time.Duration
	}{{0, ArrivalPoisson, 1, 0}, {-1, ArrivalPoisson, 1, 0}, {math.Inf(1), ArrivalPoisson, 1, 0},
		{1, "uniform", 1, 0}, {1, ArrivalGamma, 0, 0}, {1, ArrivalPoisson, 1, -time.Second}} {
		if _, err := NewSchedule(tt.rate, tt.arrival, tt.b, tt.ramp, 1); err == nil {
			t.Errorf("%+v accepted", tt)
		}
	}
}
