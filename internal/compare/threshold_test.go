package compare

import (
	"math"
	"strings"
	"testing"
)

func TestParseThresholds(t *testing.T) {
	tests := []struct {
		spec    string
		want    []Threshold
		wantErr string
	}{
		{"ttft_p99_ms>+10%,req_per_s<-5%", []Threshold{
			{Metric: "ttft_p99_ms", Above: true, Limit: 0.10, Relative: true, Text: "ttft_p99_ms>+10%"},
			{Metric: "req_per_s", Limit: -0.05, Relative: true, Text: "req_per_s<-5%"},
		}, ""},
		// spaces are allowed and dropped from the text; the sign is optional
		{" latency_p99_ms > 20 % ", []Threshold{{Metric: "latency_p99_ms", Above: true, Limit: 0.20, Relative: true, Text: "latency_p99_ms>20%"}}, ""},
		// no percent sign: absolute, in the metric's unit
		{"error_rate>+0.01", []Threshold{{Metric: "error_rate", Above: true, Limit: 0.01, Text: "error_rate>+0.01"}}, ""},
		{"ttft_median_ms>5", []Threshold{{Metric: "ttft_median_ms", Above: true, Limit: 5, Text: "ttft_median_ms>5"}}, ""},
		{"", nil, ""},
		{"ttft_p90_ms>+10%", nil, `unknown metric "ttft_p90_ms"; want one of ttft_median_ms`},
		{"ttft_p99_ms=10%", nil, "want METRIC>LIMIT"},
		{"ttft_p99_ms>ten%", nil, "not a number"},
		{"ttft_p99_ms>", nil, "not a number"},
		{"ttft_p99_ms>+1e3%", nil, "not a number"},      // no exponents: limits read as written
		{"ttft_p99_ms>+Inf%", nil, "not a number"},      // nor infinities
		{"ttft_p99_ms>+10%,", nil, "want METRIC>LIMIT"}, // an empty item
	}
	for _, tt := range tests {
		got, err := ParseThresholds(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("%q: %+v, %v", tt.spec, got, err)
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g.Metric != w.Metric || g.Above != w.Above || g.Relative != w.Relative || g.Text != w.Text || math.Abs(g.Limit-w.Limit) > 1e-15 {
				t.Errorf("%q: %+v, want %+v", tt.spec, g, w)
			}
		}
	}
}

func TestThresholdCrossed(t *testing.T) {
	up10, _ := ParseThresholds("ttft_p99_ms>+10%")
	down5, _ := ParseThresholds("req_per_s<-5%")
	abs, _ := ParseThresholds("error_rate>+0.01")
	tests := []struct {
		name       string
		th         Threshold
		delta, rel float64
		want       bool
	}{
		{"grew 12%", up10[0], 6, 0.12, true},
		{"grew exactly 10%: not more", up10[0], 5, 0.10, false},
		{"shrank 12%", up10[0], -6, -0.12, false},
		{"dropped 6%", down5[0], -0.6, -0.06, true},
		{"dropped 4%", down5[0], -0.4, -0.04, false},
		{"rose", down5[0], 1, 0.1, false},
		{"errors appeared: absolute", abs[0], 0.02, math.Inf(1), true},
		{"errors barely rose", abs[0], 0.005, 0.5, false},
		{"no value", up10[0], math.NaN(), math.NaN(), false},
		{"from zero: relative is +Inf", up10[0], 1, math.Inf(1), true},
	}
	for _, tt := range tests {
		if got := tt.th.Crossed(tt.delta, tt.rel); got != tt.want {
			t.Errorf("%s: %s crossed by %v (%v) = %v", tt.name, tt.th, tt.delta, tt.rel, got)
		}
	}
	if up10[0].Condition() != ">+10%" {
		t.Errorf("condition %q", up10[0].Condition())
	}
}

func FuzzParseThresholds(f *testing.F) {
	for _, s := range []string{"ttft_p99_ms>+10%,req_per_s<-5%", "error_rate>0.01", "x>1", ">", "%", "ttft_p99_ms>+10%%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ths, err := ParseThresholds(spec)
		if err != nil {
			return
		}
		for _, th := range ths {
			if math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) {
				t.Fatalf("%q: limit %v", spec, th.Limit)
			}
			// What we print reads back to the same threshold.
			again, err := ParseThresholds(th.String())
			if err != nil || len(again) != 1 || again[0] != th {
				t.Fatalf("%q: %+v prints as %q, reads back %+v, %v", spec, th, th, again, err)
			}
		}
	})
}
