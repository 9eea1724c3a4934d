package summary

import (
	"testing"

	"servebench/internal/record"
)

func TestPointString(t *testing.T) {
	for p, want := range map[Point]string{
		{Label: "latency", Concurrency: 1}:               "latency, concurrency 1, unpaced",
		{Label: "throughput", Concurrency: 8, Rate: 2.5}: "throughput, concurrency 8, 2.5 req/s",
		{}: "(no label), concurrency 0, unpaced",
	} {
		if got := p.String(); got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
	g := Group{RunID: "r1", Point: Point{Label: "latency", Concurrency: 1}}
	if got := g.String(); got != "run r1, latency, concurrency 1, unpaced" {
		t.Errorf("group %q", got)
	}
}

// TestSampledKeepsSamples: Sampled hands each group its samples, sorted,
// and Groups does not copy them.
func TestSampledKeepsSamples(t *testing.T) {
	recs := []record.Record{okRecord("r", 0, 300), okRecord("r", 1, 100), okRecord("r", 2, 200)}
	a := NewAggregator()
	for i := range recs {
		a.Add(&recs[i])
	}
	g := a.Sampled(nil)[0]
	if got := g.Samples[Latency]; len(got) != 3 || got[0] != 100 || got[2] != 300 || len(g.Samples[ITL]) != 6 {
		t.Errorf("latency samples %v, %d ITL samples", got, len(g.Samples[ITL]))
	}
	if g := summarizeRecords(nil, recs...)[0]; g.Samples[Latency] != nil {
		t.Errorf("Groups kept samples: %v", g.Samples[Latency])
	}
}
