package load

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestThinkTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for s, want := range map[string]thinkTime{
		"": {}, "0": {}, "2s": {"fixed", 2 * time.Second, 2 * time.Second},
		"uniform:1s-3s": {"uniform", time.Second, 3 * time.Second}, "exp:500ms": {"exp", 500 * time.Millisecond, 500 * time.Millisecond},
	} {
		got, err := parseThinkTime(s)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v", s, got, err)
		}
	}
	for _, s := range []string{"2", "-1s", "uniform:3s-1s", "uniform:1s", "exp:", "normal:1s", "2h"} {
		if _, err := parseThinkTime(s); err == nil || !strings.HasPrefix(err.Error(), "ThinkTime ") {
			t.Errorf("%q: %v", s, err)
		}
	}
	u, _ := parseThinkTime("uniform:1s-3s")
	e, _ := parseThinkTime("exp:1s")
	var sumU, sumE time.Duration
	const n = 20000
	for range n {
		d := u.draw(rng)
		if d < time.Second || d > 3*time.Second {
			t.Fatalf("uniform draw %v", d)
		}
		sumU += d
		sumE += e.draw(rng)
	}
	if m := sumU / n; m < 1950*time.Millisecond || m > 2050*time.Millisecond {
		t.Errorf("uniform mean %v, want 2s", m)
	}
	if m := sumE / n; m < 950*time.Millisecond || m > 1050*time.Millisecond {
		t.Errorf("exp mean %v, want 1s", m)
	}
}

// FuzzThinkTime: any text parses to a pause in [0, 1h] or fails naming
// the setting.
func FuzzThinkTime(f *testing.F) {
	for _, s := range []string{"2s", "uniform:1s-3s", "exp:2s", "uniform:-", "exp:1h1ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tt, err := parseThinkTime(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ThinkTime ") {
				t.Fatal(err)
			}
			return
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for range 10 {
			if d := tt.draw(rng); d < 0 || d > maxThinkTime {
				t.Fatalf("%q drew %v", s, d)
			}
		}
	})
}
