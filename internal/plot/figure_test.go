package plot

import (
	"strings"
	"testing"

	"servebench/internal/summary"
)

func TestSeriesNames(t *testing.T) {
	mk := func(run, label string, conc int, rate float64) summary.Group {
		return summary.Group{RunID: run, Point: summary.Point{Label: label, Concurrency: conc, Rate: rate}}
	}
	tests := []struct {
		name   string
		groups []summary.Group
		want   string
	}{
		{"suite: label and concurrency tell apart", []summary.Group{mk("s-lat", "latency", 1, 0), mk("s-tput", "throughput", 5, 0)}, "latency c=1|throughput c=5"},
		{"sweep: concurrency alone", []summary.Group{mk("r", "sweep", 1, 0), mk("r", "sweep", 4, 0)}, "c=1|c=4"},
		{"repeated runs: run id", []summary.Group{mk("r1", "latency", 1, 0), mk("r2", "latency", 1, 0)}, "r1|r2"},
		{"genload's run ids: the suffix that differs", []summary.Group{mk("20261127T121942Z-6d2fe2", "latency", 1, 0), mk("20261127T121958Z-a1b2c3", "latency", 1, 0)}, "#6d2fe2|#a1b2c3"},
		{"rates", []summary.Group{mk("r", "", 4, 2), mk("r", "", 4, 0)}, "2 req/s|unpaced"},
		{"one group: its label", []summary.Group{mk("r", "latency", 1, 0)}, "latency"},
		{"one unlabelled group: its run", []summary.Group{mk("r", "", 1, 0)}, "r"},
	}
	for _, tt := range tests {
		if got := strings.Join(seriesNames(tt.groups), "|"); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestPoolByPoint: the runs of one load point become one group whose
// samples are all of theirs, sorted, and whose throughput is their median;
// the groups pooled keep their own samples.
func TestPoolByPoint(t *testing.T) {
	p := summary.Point{Label: "latency", Concurrency: 1}
	mk := func(run string, tput float64, ttft ...float64) summary.Group {
		g := summary.Group{RunID: run, Point: p, OutputTokPerS: tput}
		g.Samples[summary.TTFT] = ttft
		return g
	}
	groups := []summary.Group{mk("r1", 10, 3, 5), mk("r2", 30, 1, 4), mk("r3", 20, 2)}
	pooled, names := poolByPoint(groups)
	if len(pooled) != 1 || strings.Join(names, "|") != "latency c=1" {
		t.Fatalf("%d groups, names %q", len(pooled), names)
	}
	g := pooled[0]
	if got := g.Samples[summary.TTFT]; len(got) != 5 || got[0] != 1 || got[4] != 5 || g.OutputTokPerS != 20 || g.RunID != "latency" {
		t.Errorf("pooled ttft %v, tok/s %v, run %q", got, g.OutputTokPerS, g.RunID)
	}
	if got := groups[0].Samples[summary.TTFT]; len(got) != 2 || got[0] != 3 {
		t.Errorf("the first group's samples changed: %v", got)
	}
}

// TestEmbeddingsThroughput: an embeddings group's point is its input
// throughput, pooled as such, and the axis is named for what it draws.
func TestEmbeddingsThroughput(t *testing.T) {
	g := summary.Group{RunID: "r", Endpoint: "embeddings", InputTokPerS: 300, OutputTokPerS: 0}
	if pt := point(&g); pt.OutputTokPerS != 300 || !pt.Input {
		t.Errorf("point %+v", pt)
	}
	pooled, _ := poolByPoint([]summary.Group{g, g})
	if pooled[0].InputTokPerS != 300 {
		t.Errorf("pooled %+v", pooled[0])
	}
	in := Curve{Points: []Point{{Input: true}}}
	out := Curve{Points: []Point{{}}}
	for _, tc := range []struct {
		curves []Curve
		want   string
	}{
		{[]Curve{in}, "input throughput (tok/s)"},
		{[]Curve{out}, "output throughput (tok/s)"},
		{[]Curve{in, out}, "throughput (tok/s: output, input for embeddings)"},
	} {
		if got := throughputLabel(tc.curves); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
