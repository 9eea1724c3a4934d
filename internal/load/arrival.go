package load

import (
	"slices"
	"time"

	"servebench/internal/record"
)

// arrivals is a response body that knows when its bytes reached the
// machine: h1's, with the kernel's receive times (h1.Response.Arrival).
type arrivals interface {
	Arrival() (at time.Time, reads uint64, ok bool)
}

// chunkClock times a stream's chunks: at the kernel's receive time of the
// read that delivered them when the body knows it, else when the parser
// handed them out. It measures, for the record, how late genload handled
// each output chunk after its arrival (the read lag) and how many output
// chunks came in the same read as the one before.
type chunkClock struct {
	src       arrivals // nil: read times only
	rd        *reader  // the pooled reader whose lags buffer is used
	kernel    int      // chunks timed by the kernel
	read      int      // chunks timed by their read
	lastReads uint64   // the read count at the previous output chunk
	coalesced int
	late      int // output chunks handled more than lateChunk after arrival
}

// lateChunk is how long after its arrival a chunk may be handled before
// it counts as read late (record.LateChunks).
const lateChunk = time.Millisecond

func newChunkClock(body Body, rd *reader) chunkClock {
	src, _ := body.(arrivals)
	rd.lags = rd.lags[:0]
	return chunkClock{src: src, rd: rd}
}

// at is the time of a chunk handed out at now: its arrival when known.
// output says it carries output (its lag and coalescing are counted).
func (c *chunkClock) at(now time.Time, output bool) time.Time {
	if c.src == nil {
		c.read++
		return now
	}
	at, reads, ok := c.src.Arrival()
	if !ok || at.After(now) {
		c.read++
		return now
	}
	c.kernel++
	if output {
		if reads == c.lastReads {
			c.coalesced++
		}
		c.lastReads = reads
		if now.Sub(at) > lateChunk {
			c.late++
		}
		c.rd.lags = append(c.rd.lags, record.Ms(now.Sub(at)))
	}
	return at
}

// finish writes what the clock saw into rec.
func (c *chunkClock) finish(rec *record.Record) {
	switch {
	case c.kernel > 0 && c.read > 0:
		rec.TimesFrom = record.TimesFromMixed
	case c.kernel > 0:
		rec.TimesFrom = record.TimesFromKernel
	case c.read > 0:
		rec.TimesFrom = record.TimesFromRead
	}
	if lags := c.rd.lags; len(lags) > 0 {
		slices.Sort(lags)
		rec.ReadLagP99Ms = record.Float(lags[(len(lags)*99+99)/100-1])
		rec.ReadLagMaxMs = record.Float(lags[len(lags)-1])
	}
	rec.CoalescedEvents, rec.LateChunks = c.coalesced, c.late
}
