package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// skewedServer answers with a Date header from a clock that is behind
// this process's by skew (whole seconds, as RFC 9110 has it).
func skewedServer(t *testing.T, skew time.Duration, date bool) *Config {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // net/http's own, unless set
		if date {
			w.Header().Set("Date", time.Now().Add(-skew).UTC().Format(http.TimeFormat))
		}
		w.Write([]byte(`{"data":[]}`))
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	c := &Config{URL: srv.URL, Requests: 1}
	c.Dataset.Prompts = []string{"x"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSkewInterval(t *testing.T) {
	base := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var iv skewInterval
	// The server's clock is 300 ms behind: at local 12:00:00.200 it reads
	// 11:59:59.900 (Date 11:59:59); at local .400 it reads .100 (Date 12:00:00).
	iv.add(base.Add(200*time.Millisecond), base.Add(201*time.Millisecond), base.Add(-time.Second))
	if c := iv.check(); c.Err < 400*time.Millisecond {
		t.Errorf("one sample: %+v, want about a second wide", c)
	}
	iv.add(base.Add(295*time.Millisecond), base.Add(296*time.Millisecond), base.Add(-time.Second))
	iv.add(base.Add(305*time.Millisecond), base.Add(306*time.Millisecond), base)
	c := iv.check()
	if c.Samples != 3 || c.Skew-300*time.Millisecond > c.Err || 300*time.Millisecond-c.Skew > c.Err || c.Err > 6*time.Millisecond {
		t.Errorf("across a tick: %+v, want 300 ms within a few", c)
	}
	// A clock that stepped (an interval apart from all before) starts over.
	iv.add(base.Add(10*time.Second), base.Add(10*time.Second+time.Millisecond), base.Add(5*time.Second))
	if c := iv.check(); c.Samples != 1 || c.Skew < 4*time.Second {
		t.Errorf("after a step: %+v", c)
	}
}

// TestCheckClock against servers whose clocks are off by known amounts:
// one sample gives the second, a budget of 2.5 s the skew within a few ms.
func TestCheckClock(t *testing.T) {
	for _, skew := range []time.Duration{300 * time.Millisecond, -2700 * time.Millisecond} {
		cfg := skewedServer(t, skew, true)
		hc := NewHTTPClient(1, time.Second, nil)
		one, ok := checkClock(context.Background(), hc, cfg, 0)
		if !ok || one.Samples != 1 || (one.Skew-skew).Abs() > one.Err || one.Err > 510*time.Millisecond {
			t.Errorf("skew %v, one sample: %+v %v", skew, one, ok)
		}
		fine, ok := checkClock(context.Background(), hc, cfg, 2500*time.Millisecond)
		t.Logf("skew %v: measured %v ± %v from %d samples", skew, fine.Skew, fine.Err, fine.Samples)
		if !ok || (fine.Skew-skew).Abs() > fine.Err || fine.Err > 15*time.Millisecond {
			t.Errorf("skew %v, 2.5 s of samples: %+v", skew, fine)
		}
	}
	if _, ok := checkClock(context.Background(), NewHTTPClient(1, time.Second, nil), skewedServer(t, 0, false), 0); ok {
		t.Error("a server without Date gave a clock check")
	}
}
