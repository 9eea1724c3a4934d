package stats

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultPercentiles is the --percentiles default: what vLLM users read first.
const DefaultPercentiles = "50,90,95,99"

// ParsePercentiles reads a comma-separated list of percentiles such as
// "50,90,99.9". Each must be a plain decimal number in [0, 100] (no signs,
// exponents, "inf" or "nan": they name report columns, so they must read the
// way they print) and appear once. Spaces around items are allowed; an empty
// list asks for no percentiles at all.
func ParsePercentiles(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ps []float64
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if !PlainDecimal(item) {
			return nil, fmt.Errorf("percentile %q: want a number from 0 to 100 such as 99 or 99.9", item)
		}
		p, err := strconv.ParseFloat(item, 64)
		if err != nil || p > 100 {
			return nil, fmt.Errorf("percentile %q: want a number from 0 to 100", item)
		}
		for _, q := range ps {
			if q == p {
				return nil, fmt.Errorf("percentile %q: listed twice", item)
			}
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// PlainDecimal reports whether s is digits with at most one decimal point
// and at least one digit: "99", "99.9", ".5", "5.". Flag parsers use it to
// refuse what strconv.ParseFloat would also take: signs, exponents, "NaN",
// "Inf", hex floats.
func PlainDecimal(s string) bool {
	digits, dots := 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// FormatPercentile writes p the shortest way that reads back to the same
// value: 99, 99.9, 0.5. Distinct percentiles always format differently.
func FormatPercentile(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64)
}
