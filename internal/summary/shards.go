package summary

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"servebench/internal/record"
)

// clockWarnMs is how far apart two shards' clocks may be, beyond what
// their measurement can tell, before summarize warns: a merged schedule is
// only as exact as the clocks that kept it.
const clockWarnMs = 5.0

// shardClock is what a group's records say of one shard: where it ran and
// how its clock stood against the server's.
type shardClock struct {
	host          string
	skewMs, errMs float64 // NaN: not measured
}

// noteShard remembers the shard of r (records of one process carry none).
func (g *group) noteShard(r *record.Record) {
	if r.Shard == "" {
		return
	}
	if g.shards == nil {
		g.shards = map[string]shardClock{}
	}
	if _, ok := g.shards[r.Shard]; ok {
		return
	}
	c := shardClock{host: r.Host, skewMs: math.NaN(), errMs: math.NaN()}
	if r.ClockSkewMs != nil && r.ClockSkewErrMs != nil {
		c.skewMs, c.errMs = *r.ClockSkewMs, *r.ClockSkewErrMs
	}
	g.shards[r.Shard] = c
}

// shardWarnings say when the shards of a group do not make a whole run:
// some are missing, or their clocks disagree by more than clockWarnMs
// beyond the precision of their Date-header checks (each shard measured
// its skew against the same server, so the difference of two skews is the
// difference of their clocks).
func (g *group) shardWarnings() []string {
	if len(g.shards) == 0 {
		return nil
	}
	var ws []string
	names := make([]string, 0, len(g.shards))
	want := 0
	for name := range g.shards {
		names = append(names, name)
		if _, n, ok := strings.Cut(name, "/"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				want = max(want, v)
			}
		}
	}
	slices.Sort(names)
	if want != len(names) {
		ws = append(ws, fmt.Sprintf("records of %d shards (%s) where the run was split into %d: the figures are of part of the run", len(names), strings.Join(names, ", "), want))
	}
	var lo, hi string
	for _, name := range names {
		c := g.shards[name]
		if math.IsNaN(c.skewMs) {
			continue
		}
		if lo == "" || c.skewMs < g.shards[lo].skewMs {
			lo = name
		}
		if hi == "" || c.skewMs > g.shards[hi].skewMs {
			hi = name
		}
	}
	if lo == "" || lo == hi {
		return ws
	}
	a, b := g.shards[lo], g.shards[hi]
	if apart := b.skewMs - a.skewMs; apart-(a.errMs+b.errMs) > clockWarnMs {
		ws = append(ws, fmt.Sprintf("the shards' clocks disagree by %.0f ms (±%.0f) against the server's Date: shard %s on %s %+.0f ms, shard %s on %s %+.0f ms; the merged schedule is off by as much (synchronise them with NTP)",
			apart, a.errMs+b.errMs, lo, orNone(a.host), a.skewMs, hi, orNone(b.host), b.skewMs))
	}
	return ws
}
