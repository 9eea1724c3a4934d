package record

import (
	"math"
	"strconv"
	"testing"
)

func FuzzExactFloat(f *testing.F) {
	for _, s := range []string{"0.005201", "-0", "123456789012345", "0.0028213999999999887", "1e5", "9.999999999999999", "0.1", "1.7976931348623157"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := &scan{b: []byte(s)}
		if tok, _, ok := sc.number(); !ok || len(tok) != len(s) {
			return // exactFloat sees only JSON number tokens
		}
		got, ok := exactFloat([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: exactFloat %v, ParseFloat %v (%v)", s, got, want, err)
		}
	})
}
