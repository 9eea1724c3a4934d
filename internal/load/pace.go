package load

import (
	"math"
	"math/rand/v2"
	"time"

	"servebench/internal/setting"
)

// Arrival processes for open-loop load, as in vllm bench serve.
const (
	ArrivalPoisson  = "poisson"  // exponential gaps: independent users
	ArrivalConstant = "constant" // equal gaps
	ArrivalGamma    = "gamma"    // gamma gaps of shape --burstiness: <1 burstier, 1 = Poisson, >1 smoother
)

// Schedule yields the send times of an open-loop run as offsets from its
// start. Every offset is computed from the start, never by summing sleeps,
// so a late send does not push back the ones after it.
//
// It works in "unit time": u_0 = 0 and u_{i+1} = u_i + X_i with E[X] = 1
// (X = 1 for constant arrivals, Exp(1) for Poisson, Gamma(B, 1/B) for
// gamma). Unit time is then mapped to real time through the inverse of the
// expected arrival count Λ(t):
//
//	without ramp-up:  Λ(t) = R·t                      t = u / R
//	ramp-up over D:   Λ(t) = R·t²/(2D)      (t ≤ D)   t = sqrt(2·D·u / R)
//	                  Λ(t) = R·D/2 + R·(t-D) (t > D)  t = D + (u - R·D/2) / R
//
// so the rate rises linearly from 0 to R during the ramp-up, whatever the
// arrival process.
type Schedule struct {
	rate       float64
	rampUp     float64 // seconds
	arrival    string
	burstiness float64
	rng        *rand.Rand
	u          float64
	first      bool
}

// NewSchedule checks its arguments; seed makes the schedule reproducible.
func NewSchedule(ratePerSec float64, arrival string, burstiness float64, rampUp time.Duration, seed uint64) (*Schedule, error) {
	if ratePerSec <= 0 || math.IsInf(ratePerSec, 0) || math.IsNaN(ratePerSec) {
		return nil, setting.Errorf("{Rates} %v: want a positive number of requests per second", ratePerSec)
	}
	switch arrival {
	case ArrivalPoisson:
		burstiness = 1
	case ArrivalConstant:
	case ArrivalGamma:
		if burstiness <= 0 || math.IsNaN(burstiness) || math.IsInf(burstiness, 0) {
			return nil, setting.Errorf("{Burstiness} %v: want a positive gamma shape (1 = Poisson, < 1 burstier)", burstiness)
		}
	default:
		return nil, setting.Errorf("{Arrival} %q: want poisson, constant or gamma", arrival)
	}
	if rampUp < 0 {
		return nil, setting.Errorf("{RampUp} %v: cannot be negative", rampUp)
	}
	return &Schedule{rate: ratePerSec, rampUp: rampUp.Seconds(), arrival: arrival, burstiness: burstiness,
		rng: rand.New(rand.NewPCG(seed, 0x5e5e_b0b0)), first: true}, nil
}

// Next returns the offset of the next send from the start.
func (s *Schedule) Next() time.Duration {
	if s.first {
		s.first = false
	} else {
		s.u += s.gap()
	}
	return time.Duration(s.realTime(s.u) * float64(time.Second))
}

func (s *Schedule) gap() float64 {
	switch s.arrival {
	case ArrivalConstant:
		return 1
	case ArrivalPoisson:
		return s.rng.ExpFloat64()
	}
	return gammaSample(s.rng, s.burstiness) / s.burstiness
}

func (s *Schedule) realTime(u float64) float64 {
	if s.rampUp == 0 {
		return u / s.rate
	}
	if rampArrivals := s.rate * s.rampUp / 2; u > rampArrivals {
		return s.rampUp + (u-rampArrivals)/s.rate
	}
	return math.Sqrt(2 * s.rampUp * u / s.rate)
}

// gammaSample draws from Gamma(shape, 1) by Marsaglia and Tsang's method
// (ACM TOMS 26(3), 2000); shapes below 1 use the boost
// Gamma(a) = Gamma(a+1) · U^(1/a).
func gammaSample(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := rng.Float64()
		for u == 0 {
			u = rng.Float64()
		}
		return gammaSample(rng, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
