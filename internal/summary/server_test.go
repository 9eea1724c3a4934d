package summary

import (
	"bufio"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	sm "servebench/internal/servermetrics"
)

func readLines(t *testing.T, path string) []sm.Line {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sm.Line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l, err := sm.DecodeLine(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// The fixture's window is 12:00:00 to 12:00:01.087; two samples inside,
// one before and one after bracket the counters (figures worked by hand
// in the comments).
func TestJoinServerMetrics(t *testing.T) {
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	groups := []Group{{RunID: "think", StartTime: start, DurationS: 1.087}, {RunID: "none", StartTime: start, DurationS: 1}}
	JoinServerMetrics(groups, readLines(t, "testdata/reasoning.metrics.jsonl"))
	if groups[1].ServerMetrics != nil {
		t.Errorf("a run without samples: %+v", groups[1].ServerMetrics)
	}
	sv := groups[0].ServerMetrics
	if sv == nil {
		t.Fatal("no server metrics")
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"samples", float64(sv.Samples), 2},
		{"running mean", sv.RunningMean, 2}, {"running max", sv.RunningMax, 2},
		{"waiting mean", sv.WaitingMean, 0.5}, {"waiting max", sv.WaitingMax, 1},
		{"kv mean", sv.KVCacheUsageMean, 0.625}, {"kv max", sv.KVCacheUsageMax, 0.75},
		{"hit rate", sv.PrefixCacheHitRate, 96.0 / 120},   // hits 100 -> 196 of queries 500 -> 620
		{"preemptions", sv.Preemptions, 1},                // 3 -> 4
		{"gen tok/s", sv.GenTokPerS, 72 / 1.087},          // 1000 -> 1072 over the window
		{"spec acceptance", sv.SpecAcceptance, 42.0 / 60}, // accepted of draft tokens
		{"ttft", sv.TTFTMeanMs, 0.18 / 6 * 1000},          // sum 1.0 -> 1.18, count 10 -> 16
		{"queue", sv.QueueMeanMs, 0.006 / 6 * 1000},       // 0.1 -> 0.106
		{"itl", sv.ITLMeanMs, 0.35 / 70 * 1000},           // 0.5 -> 0.85 over 100 -> 170
		{"e2e", sv.E2EMeanMs, 0.5 / 6 * 1000},             // 2.0 -> 2.5 over 10 -> 16
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// A restart inside the window: the counters fall, the rise is counted
// from zero (Prometheus' rule) and the group says so.
func TestJoinServerMetricsRestart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int, gen float64) sm.Line {
		return sm.Line{RunID: "r", At: t0.Add(time.Duration(ms) * time.Millisecond), Sample: sm.Sample{
			Counters: map[string]float64{sm.GenerationTokens: gen}, Gauges: map[string]float64{sm.Running: 1}}}
	}
	groups := []Group{{RunID: "r", StartTime: t0, DurationS: 2}}
	JoinServerMetrics(groups, []sm.Line{at(2500, 15), at(-10, 100), at(1000, 150), at(1500, 10)}) // out of order on purpose
	sv := groups[0].ServerMetrics
	if sv.GenTokPerS != (50+10+5)/2.0 || sv.Resets != 1 || len(groups[0].Warnings) != 1 || !strings.Contains(groups[0].Warnings[0], "went down") {
		t.Errorf("gen tok/s %v resets %d warnings %q", sv.GenTokPerS, sv.Resets, groups[0].Warnings)
	}
	// Samples that do not bracket the window tell no counter.
	groups = []Group{{RunID: "r", StartTime: t0, DurationS: 2}}
	JoinServerMetrics(groups, []sm.Line{at(1000, 150), at(1500, 160)})
	if sv := groups[0].ServerMetrics; !math.IsNaN(sv.GenTokPerS) || sv.RunningMean != 1 || !math.IsNaN(sv.TTFTMeanMs) {
		t.Errorf("unbracketed: %+v", sv)
	}
}
