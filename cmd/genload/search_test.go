package main

import "testing"

func TestParseShare(t *testing.T) {
	for in, want := range map[string]float64{"5%": 0.05, "0.05": 0.05, " 2.5% ": 0.025, "50%": 0.5} {
		if got, err := parseShare(in); err != nil || got != want {
			t.Errorf("parseShare(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "0", "100%", "1", "-5%", "NaN", "Inf%", "5%%", "x"} {
		if got, err := parseShare(in); err == nil {
			t.Errorf("parseShare(%q) = %v, want an error", in, got)
		}
	}
}

// FuzzParseShare: any input gives an error or a share in (0, 1), never a
// panic.
func FuzzParseShare(f *testing.F) {
	for _, s := range []string{"5%", "0.05", "1e-3", "100%", "-0%", "0x1p-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseShare(s)
		if err == nil && !(v > 0 && v < 1) {
			t.Fatalf("parseShare(%q) = %v, outside (0, 1)", s, v)
		}
	})
}
