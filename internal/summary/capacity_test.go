package summary

import (
	"math"
	"testing"
	"time"

	"servebench/internal/record"
	"servebench/internal/stats"
)

// searchRecords are the records of a concurrency search: at each number of
// users, n measured requests of which good, spread evenly, have TTFT 20 ms
// and the rest 190 ms (they waited for a slot).
func searchRecords(points map[int][2]int) []record.Record {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var recs []record.Record
	seq := 0
	for users := 1; users <= 16; users++ {
		p, ok := points[users]
		if !ok {
			continue
		}
		good, n := p[0], p[1]
		for i := range n {
			ttft := 20.0
			if (i+1)*good/n == i*good/n { // not one of the good spread evenly
				ttft = 190
			}
			recs = append(recs, record.Record{Schema: 1, RunID: "s", Seq: seq, Phase: record.PhaseMeasure,
				Concurrency: users, Search: record.SearchConcurrency, SearchSLO: "ttft=100ms", SearchMinGoodput: 0.85,
				ScheduledAt: at, SentAt: at, TTFTMs: record.Float(ttft), LatencyMs: ttft + 150, OutputTokens: 16, OK: true})
			seq++
			at = at.Add(10 * time.Millisecond)
		}
	}
	return recs
}

func capacities(slo SLO, recs []record.Record) []Capacity {
	a := NewAggregator(WithSLO(slo))
	for i := range recs {
		a.Add(&recs[i])
	}
	return Capacities(a.Groups(nil))
}

func TestCapacities(t *testing.T) {
	recs := searchRecords(map[int][2]int{2: {24, 24}, 4: {24, 24}, 5: {57, 72}, 6: {14, 24}, 8: {4, 24}})
	// Without --slo the search's own objectives judge it.
	cs := capacities(SLO{}, recs)
	if len(cs) != 1 {
		t.Fatalf("%d capacities, want 1", len(cs))
	}
	c := cs[0]
	if c.Capacity != 4 || c.Failed != 5 || c.SLO != "ttft=100ms" || c.MinGoodput != 0.85 || len(c.Loads) != 5 {
		t.Errorf("got %+v, want capacity 4, failed 5 by ttft=100ms", c)
	}
	if c.Loads[2].Verdict != stats.Unclear || c.Loads[3].Verdict != stats.Fail {
		t.Errorf("verdicts %v %v, want unclear at 5, fail at 6", c.Loads[2].Verdict, c.Loads[3].Verdict)
	}
	if want := "capacity 4 users (85% goodput for ttft<=100ms); 4-5 bracket; 5 loads"; c.String() != want {
		t.Errorf("%q, want %q", c.String(), want)
	}
	row := c.Row
	if !row.IsCapacity || row.Concurrency != 4 || row.Requests != 168 || row.SLOMetRatio != 1 || row.Capacity != 4 || row.CapacityFailed != 5 {
		t.Errorf("row %+v", row)
	}
	// Re-judged by a looser objective, every load passes.
	c = capacities(SLO{TTFT: 250 * time.Millisecond}, recs)[0]
	if c.Capacity != 8 || !math.IsNaN(c.Failed) || c.SLO != "ttft=250ms" {
		t.Errorf("ttft=250ms: capacity %v failed %v (%s), want at least 8", c.Capacity, c.Failed, c.SLO)
	}
	// And by a stricter one, none.
	c = capacities(SLO{TTFT: 10 * time.Millisecond}, recs)[0]
	if !math.IsNaN(c.Capacity) || c.Failed != 2 {
		t.Errorf("ttft=10ms: capacity %v failed %v, want none below 2", c.Capacity, c.Failed)
	}
	// The same counts in blocks (every request good, then every one bad):
	// clustered outcomes say less than independent ones, so 6 users are
	// no longer clearly failing.
	blocks := searchRecords(map[int][2]int{6: {14, 24}})
	for i := range blocks {
		if i >= 14 {
			blocks[i].TTFTMs = record.Float(190)
		} else {
			blocks[i].TTFTMs = record.Float(20)
		}
	}
	if l := capacities(SLO{}, blocks)[0].Loads[0]; l.Verdict != stats.Unclear || l.DesignEffect <= 1 {
		t.Errorf("clustered: %+v, want unclear with a design effect above 1", l)
	}
	// A pass above the lowest failure does not count.
	c = capacities(SLO{}, searchRecords(map[int][2]int{2: {24, 24}, 4: {10, 24}, 6: {24, 24}}))[0]
	if c.Capacity != 2 || c.Failed != 4 {
		t.Errorf("capacity %v failed %v, want 2 and 4", c.Capacity, c.Failed)
	}
	// Records of no search: no answer.
	plain := searchRecords(map[int][2]int{2: {3, 3}})
	for i := range plain {
		plain[i].Search, plain[i].SearchSLO, plain[i].SearchMinGoodput = "", "", 0
	}
	if cs := capacities(SLO{}, plain); len(cs) != 0 {
		t.Errorf("a plain run has %d capacities", len(cs))
	}
}
