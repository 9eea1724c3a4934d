package e2e

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/stats"
)

// TestOpenLoopRate drives llmsim at a constant 200 req/s for 5 s: the
// achieved rate must be within 2% of the target and the client's own lag
// (queue_ms, nothing caps the requests in flight) p99 under 5 ms.
func TestOpenLoopRate(t *testing.T) {
	url := startSim(t, "--ttft", "10ms", "--itl", "1ms")
	out, stderr, code := sh(t, time.Minute,
		"genload --url "+url+" --request-rate 200 --arrival constant --duration 5s --max-tokens 5 --ignore-eos -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := readRecords(t, strings.NewReader(out))
	if len(recs) != 1000 {
		t.Fatalf("%d records, want 1000 (5 s at 200/s)", len(recs))
	}
	first, last := recs[0].ScheduledAt, recs[0].EndAt()
	var lags []float64
	for _, r := range recs {
		if !r.OK {
			t.Fatalf("request %d failed: %s", r.Seq, r.Error)
		}
		if r.ScheduledAt.Before(first) {
			first = r.ScheduledAt
		}
		if r.EndAt().After(last) {
			last = r.EndAt()
		}
		if r.Rate != 200 {
			t.Fatalf("rate %v in record", r.Rate)
		}
		lags = append(lags, r.QueueMs)
	}
	achieved := float64(len(recs)) / last.Sub(first).Seconds()
	if math.Abs(achieved-200)/200 > 0.02 {
		t.Errorf("achieved %.1f req/s, want 200 ± 2%%", achieved)
	}
	slices.Sort(lags)
	if p99 := stats.Percentile(lags, 99); p99 > 5 {
		t.Errorf("client lag p99 %.2f ms, want < 5 ms", p99)
	}
	t.Logf("achieved %.2f req/s, lag p50 %.3f ms p99 %.3f ms", achieved, stats.Percentile(lags, 50), stats.Percentile(lags, 99))
}

// TestSeedReproducesSchedule: the same seed gives the same schedule (as
// offsets from the start) and the same requests, byte for byte.
func TestSeedReproducesSchedule(t *testing.T) {
	url := startSim(t, "--ttft", "1ms", "--itl", "1ms")
	offsets := func(seed string) []time.Duration {
		out, stderr, code := sh(t, time.Minute, "genload --url "+url+" -r 100 -n 30 --seed "+seed+" --max-tokens 2 -q")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		recs := readRecords(t, strings.NewReader(out))
		slices.SortFunc(recs, func(a, b recordT) int { return a.Seq - b.Seq })
		var offs []time.Duration
		for _, r := range recs {
			offs = append(offs, r.ScheduledAt.Sub(recs[0].ScheduledAt))
		}
		return offs
	}
	a, b, c := offsets("7"), offsets("7"), offsets("8")
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different schedules:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same schedule")
	}
}

// TestSweepShowsTheKnee: four concurrency points against an llmsim that
// runs 2 sequences at a time give four rows, and TTFT rises past the knee.
func TestSweepShowsTheKnee(t *testing.T) {
	url := startSim(t, "--ttft", "10ms", "--itl", "2ms", "--max-num-seqs", "2")
	out, stderr, code := sh(t, 2*time.Minute,
		"genload --url "+url+" --concurrency 1,2,4,8 -n 16 --max-tokens 10 --ignore-eos -q | summarize --format json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := parseSummary(t, out)
	if len(s.Groups) != 4 {
		t.Fatalf("%d groups, want 4", len(s.Groups))
	}
	var ttft []float64
	for _, g := range s.Groups {
		ttft = append(ttft, *g.TTFTMedian)
	}
	// Up to 2 in flight nothing queues; at 4 and 8 requests wait for a slot.
	if !(ttft[1] < 15 && ttft[2] > ttft[1]+15 && ttft[3] > ttft[2]+15) {
		t.Errorf("TTFT medians by concurrency 1,2,4,8: %v; want flat, then rising", ttft)
	}
}
