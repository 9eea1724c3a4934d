package load

import (
	"testing"
	"time"

	"servebench/internal/record"
)

// fakeArrivals is a body whose reads arrived at given times.
type fakeArrivals struct {
	Body
	at    time.Time
	reads uint64
	ok    bool
}

func (f *fakeArrivals) Arrival() (time.Time, uint64, bool) { return f.at, f.reads, f.ok }

// TestChunkClock: chunks are timed at their arrival, the lag to their
// handling is measured (p99 and max), chunks out of one read are counted
// as coalesced, and a body without kernel times is timed at its reads.
func TestChunkClock(t *testing.T) {
	base := time.Now()
	ms := func(x float64) time.Time { return base.Add(time.Duration(x * float64(time.Millisecond))) }
	src := &fakeArrivals{ok: true}
	rd := &reader{}
	c := newChunkClock(src, rd)
	// 100 chunks, each its own read arriving at i ms and handled 0.1 ms
	// later, but chunk 50 handled 7 ms late; then two chunks out of one
	// read.
	for i := 0; i < 100; i++ {
		src.at, src.reads = ms(float64(i)), uint64(i+1)
		lag := 0.1
		if i == 50 {
			lag = 7
		}
		if got := c.at(ms(float64(i)+lag), true); !got.Equal(src.at) {
			t.Fatalf("chunk %d timed at %v, want its arrival", i, got.Sub(base))
		}
	}
	c.at(ms(100.2), true)  // same read as chunk 99: coalesced
	c.at(ms(100.3), false) // [DONE]: timed, not counted
	var rec record.Record
	c.finish(&rec)
	if rec.TimesFrom != record.TimesFromKernel || rec.CoalescedEvents != 1 || rec.LateChunks != 2 {
		t.Errorf("times_from %q coalesced %d late %d, want kernel, 1 and 2 (the 7 ms and 1.2 ms lags)", rec.TimesFrom, rec.CoalescedEvents, rec.LateChunks)
	}
	if rec.ReadLagMaxMs == nil || *rec.ReadLagMaxMs < 6.99 || *rec.ReadLagMaxMs > 7.01 {
		t.Errorf("read_lag_max_ms %v, want 7", rec.ReadLagMaxMs)
	}
	// 101 lags: the 99th percentile (nearest rank 100 of 101) is the
	// second largest, 1.2 ms (chunk 99's lag at the coalesced read).
	if rec.ReadLagP99Ms == nil || *rec.ReadLagP99Ms < 1.19 || *rec.ReadLagP99Ms > 1.21 {
		t.Errorf("read_lag_p99_ms %v, want 1.2", rec.ReadLagP99Ms)
	}

	// No kernel times: read times, no lags.
	rd2 := &reader{}
	c2 := newChunkClock(&fakeArrivals{ok: false}, rd2)
	now := time.Now()
	if got := c2.at(now, true); !got.Equal(now) {
		t.Error("a chunk without a kernel time is not timed at its read")
	}
	var rec2 record.Record
	c2.finish(&rec2)
	if rec2.TimesFrom != record.TimesFromRead || rec2.ReadLagP99Ms != nil || rec2.CoalescedEvents != 0 {
		t.Errorf("without kernel times: %q %v %d", rec2.TimesFrom, rec2.ReadLagP99Ms, rec2.CoalescedEvents)
	}
	// An arrival after the read (a clock step) is not believed.
	c3 := newChunkClock(&fakeArrivals{ok: true, at: now.Add(time.Second)}, &reader{})
	if got := c3.at(now, true); !got.Equal(now) {
		t.Error("an arrival after its read was used")
	}
}
