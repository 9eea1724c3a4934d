package load

import (
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

func TestStableMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"stream broke: read tcp 127.0.0.1:43122->127.0.0.1:8000: read: connection reset by peer",
			"stream broke: read tcp ->127.0.0.1:8000: read: connection reset by peer"},
		{"write tcp6 [::1]:51000->[::1]:8000: broken pipe", "write tcp6 ->[::1]:8000: broken pipe"},
		{"HTTP 404: The model `x` does not exist.", "HTTP 404: The model `x` does not exist."},
		{"a -> b", "a -> b"},
	}
	for _, tt := range tests {
		if got := stableMessage(tt.in); got != tt.want {
			t.Errorf("stableMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTally(t *testing.T) {
	var ty tally
	recs := []record.Record{
		{Phase: record.PhaseWarmup, OK: false, ErrorKind: "http", Error: "warmup"}, // not measured
		{Phase: record.PhaseMeasure, OK: true},
		{Phase: record.PhaseMeasure, ErrorKind: "http", Error: "HTTP 500: a"},
		{Phase: record.PhaseMeasure, ErrorKind: "timeout", Error: "t"},
		{Phase: record.PhaseMeasure, ErrorKind: "http", Error: "HTTP 500: a"},
	}
	for i := range recs {
		ty.add(&recs[i])
	}
	if got := ty.kindsNow(); got != "http 2, timeout 1" {
		t.Errorf("kinds %q", got)
	}
	res := ty.take(Point{Concurrency: 2})
	if res.Attempts != 4 || res.Failed != 3 || strings.Join(res.Messages, "|") != "HTTP 500: a|t" || res.SuccessRatio() != 0.25 {
		t.Errorf("result %+v", res)
	}
	if next := ty.take(Point{}); next.Attempts != 0 || next.Failed != 0 || next.SuccessRatio() != 1 {
		t.Errorf("take does not start afresh: %+v", next)
	}
	var b strings.Builder
	reportFailures(&b, res, false)
	if want := "genload: FAILURES concurrency 2: 3 of 4 requests failed (http 2, timeout 1); first errors: \"HTTP 500: a\", \"t\"\n"; b.String() != want {
		t.Errorf("report %q, want %q", b.String(), want)
	}
	b.Reset()
	reportFailures(&b, PointResult{Attempts: 4, Failed: 2}, false) // half is not most
	if b.Len() != 0 {
		t.Errorf("reported %q", b.String())
	}
}

// TestProgressLine: the status line's fields, on a clock of its own.
func TestProgressLine(t *testing.T) {
	cfg := &Config{Requests: 10, Warmup: 0, Points: []Point{{Concurrency: 1}, {Concurrency: 4}}}
	var c counters
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{cfg: cfg, c: &c, start: start}
	c.sent.Store(13)
	c.done.Store(10)
	c.failed.Store(1)
	c.point.Store(1)
	c.measured.add(&record.Record{Phase: record.PhaseMeasure, ErrorKind: "http"})
	p.line(start.Add(5 * time.Second)) // a first sample
	got := p.line(start.Add(10 * time.Second))
	want := "genload: 10/20 done, 1 failed (http 1), 3 in flight, 0.0 req/s, concurrency 4 (2 of 2), 0:10 elapsed, ~0:10 left"
	if got != want {
		t.Errorf("line\n%q\nwant\n%q", got, want)
	}
	c.done.Store(20)
	if got := p.line(start.Add(12 * time.Second)); !strings.Contains(got, ", 5.0 req/s,") {
		t.Errorf("the rate is the last seconds', not the run's: %q", got)
	}
}
