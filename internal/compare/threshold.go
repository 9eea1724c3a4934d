package compare

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Threshold is one --fail-on condition, such as ttft_p99_ms>+10% (fail
// when the p99 TTFT grows by more than 10%) or req_per_s<-5% (fail when
// throughput drops by more than 5%). Without a percent sign the limit is
// absolute, in the metric's unit: ttft_p99_ms>+5 fails when the p99 grows
// by more than 5 ms, error_rate>+0.01 when one more request in a hundred
// fails. Only a significant change can cross a threshold: noise never fails
// a gate, however large it looks.
type Threshold struct {
	Metric   string
	Above    bool    // '>': fails when the change is above Limit; '<': below
	Limit    float64 // relative (0.10 for 10%) or absolute
	Relative bool
	Text     string // as written, without spaces: ttft_p99_ms>+10%
}

// String is the threshold as written.
func (t Threshold) String() string { return t.Text }

// Condition is the threshold without its metric: ">+10%".
func (t Threshold) Condition() string { return strings.TrimPrefix(t.Text, t.Metric) }

// Crossed reports whether a change of delta (absolute) or rel (relative)
// goes beyond the limit. A NaN change crosses nothing.
func (t Threshold) Crossed(delta, rel float64) bool {
	v := delta
	if t.Relative {
		v = rel
	}
	if math.IsNaN(v) {
		return false
	}
	if t.Above {
		return v > t.Limit
	}
	return v < t.Limit
}

// ParseThresholds reads a comma-separated list of thresholds:
// METRIC>LIMIT or METRIC<LIMIT, where METRIC is one of MetricNames and
// LIMIT a signed or unsigned number, optionally followed by % (relative to
// the old value). Spaces around items are allowed; an empty spec has none.
func ParseThresholds(spec string) ([]Threshold, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var ths []Threshold
	for _, item := range strings.Split(spec, ",") {
		t, err := parseThreshold(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		ths = append(ths, t)
	}
	return ths, nil
}

func parseThreshold(item string) (Threshold, error) {
	i := strings.IndexAny(item, "<>")
	if i < 0 {
		return Threshold{}, fmt.Errorf("%q: want METRIC>LIMIT or METRIC<LIMIT, such as ttft_p99_ms>+10%%", item)
	}
	t := Threshold{Metric: strings.TrimSpace(item[:i]), Above: item[i] == '>', Text: strings.Join(strings.Fields(item), "")}
	if !slices.Contains(MetricNames(), t.Metric) {
		return Threshold{}, fmt.Errorf("%q: unknown metric %q; want one of %s", item, t.Metric, strings.Join(MetricNames(), ", "))
	}
	limit := strings.TrimSpace(item[i+1:])
	limit, t.Relative = strings.CutSuffix(limit, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(limit), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || strings.ContainsAny(limit, "eExXpP_") {
		return Threshold{}, fmt.Errorf("%q: limit %q is not a number such as +10%% or -5%%", item, item[i+1:])
	}
	if t.Relative {
		v /= 100
	}
	t.Limit = v
	return t, nil
}
