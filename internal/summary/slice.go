package summary

import (
	"math"
	"slices"
	"time"

	"servebench/internal/record"
	sm "servebench/internal/servermetrics"
	"servebench/internal/stats"
)

// Slice is one time slice of a group: the measured requests that finished
// in it (by completion time, from the group's StartTime), so that a
// ramp-up, a warm-up effect or a slow degradation shows over the run.
type Slice struct {
	RunID string
	Point
	Model   string  // the group's model
	Index   int     // 0 for the first slice
	StartS  float64 // seconds from the group's StartTime
	LengthS float64 // the slice's length: the last one may be shorter

	Finished      int // measured requests that finished in the slice
	OK            int
	Failed        int
	ReqPerS       float64 // OK / LengthS
	OutputTokPerS float64 // output tokens of the successes / LengthS
	// TTFT, ITL and Latency of the successes that finished in the slice
	// (ITL: their gaps, pooled); nil when none had the metric.
	TTFT, ITL, Latency *stats.Summary

	// Server gauges: the mean of the --server-metrics samples taken in the
	// slice; NaN without samples.
	ServerRunning, ServerWaiting, ServerKVCacheUsage float64
}

// SliceMetrics are the metrics a Slice describes, in column order.
var SliceMetrics = []Metric{TTFT, ITL, Latency}

// Slicer keeps what slices need of each measured record (its end, outcome,
// tokens and latencies), since slices are cut from the group's start,
// known only once every record is read. It costs memory in proportion to
// the records and their ITL gaps, so summarize keeps it only for --slice.
type Slicer struct {
	length time.Duration
	by     map[groupKey][]sliceRecord
}

type sliceRecord struct {
	end          time.Time
	ok           bool
	outputTokens int
	ttft         float64 // NaN when none
	latency      float64
	itl          []float64
}

// NewSlicer cuts slices of length d.
func NewSlicer(d time.Duration) *Slicer {
	return &Slicer{length: d, by: map[groupKey][]sliceRecord{}}
}

// Add keeps a record, if it is measured.
func (s *Slicer) Add(r *record.Record) {
	if r.Phase != record.PhaseMeasure || r.SentAt.IsZero() {
		return
	}
	k := groupKey{r.RunID, Point{Label: r.Label, Concurrency: r.Concurrency, Rate: r.Rate}, r.Model}
	sr := sliceRecord{end: r.EndAt(), ok: r.OK, outputTokens: r.OutputTokens, ttft: math.NaN(), latency: r.LatencyMs}
	if r.TTFTMs != nil {
		sr.ttft = *r.TTFTMs
	}
	if r.OK && len(r.ITLMs) > 0 {
		sr.itl = slices.Clone(r.ITLMs)
	}
	s.by[k] = append(s.by[k], sr)
}

// Slices cuts every group into slices from its StartTime to the end of
// its window (ceil(duration / length) slices, the last one shorter), with
// the server gauges of the samples of its run taken in each.
func (s *Slicer) Slices(groups []Group, ps []float64, lines []sm.Line) []Slice {
	byRun := map[string][]sm.Line{}
	for _, l := range lines {
		byRun[l.RunID] = append(byRun[l.RunID], l)
	}
	var out []Slice
	d := s.length.Seconds()
	for i := range groups {
		g := &groups[i]
		if g.StartTime.IsZero() || math.IsNaN(g.DurationS) || g.DurationS <= 0 {
			continue
		}
		k := groupKey{g.RunID, Point{Label: g.Label, Concurrency: g.Concurrency, Rate: g.Rate}, g.Model}
		n := max(1, int(math.Ceil(g.DurationS/d-1e-9)))
		cut := make([][]sliceRecord, n)
		for _, r := range s.by[k] {
			j := int(r.end.Sub(g.StartTime).Seconds() / d)
			cut[min(max(j, 0), n-1)] = append(cut[min(max(j, 0), n-1)], r)
		}
		for j := range n {
			sl := Slice{RunID: g.RunID, Point: g.Point, Model: g.Model, Index: j, StartS: float64(j) * d, LengthS: min(d, g.DurationS-float64(j)*d)}
			from := g.StartTime.Add(time.Duration(sl.StartS * float64(time.Second)))
			to := from.Add(time.Duration(sl.LengthS * float64(time.Second)))
			sl.fill(cut[j], ps)
			sl.ServerRunning, sl.ServerWaiting, sl.ServerKVCacheUsage = sliceGauges(byRun[g.RunID], from, to)
			out = append(out, sl)
		}
	}
	return out
}

// fill computes the slice's counts and statistics from its records.
func (sl *Slice) fill(rs []sliceRecord, ps []float64) {
	var ttft, itl, lat []float64
	tokens := 0
	for _, r := range rs {
		sl.Finished++
		if !r.ok {
			sl.Failed++
			continue
		}
		sl.OK++
		tokens += r.outputTokens
		if !math.IsNaN(r.ttft) {
			ttft = append(ttft, r.ttft)
		}
		lat = append(lat, r.latency)
		itl = append(itl, r.itl...)
	}
	sl.ReqPerS, sl.OutputTokPerS = math.NaN(), math.NaN()
	if sl.LengthS > 0 {
		sl.ReqPerS = float64(sl.OK) / sl.LengthS
		sl.OutputTokPerS = float64(tokens) / sl.LengthS
	}
	summarize := func(xs []float64) *stats.Summary {
		if s, ok := stats.Summarize(xs, ps); ok {
			return &s
		}
		return nil
	}
	sl.TTFT, sl.ITL, sl.Latency = summarize(ttft), summarize(itl), summarize(lat)
}

// Metric returns the slice's summary of m (one of SliceMetrics).
func (sl *Slice) Metric(m Metric) *stats.Summary {
	switch m {
	case TTFT:
		return sl.TTFT
	case ITL:
		return sl.ITL
	case Latency:
		return sl.Latency
	}
	return nil
}

// sliceGauges is the mean of the running, waiting and KV-usage gauges of
// the samples taken in [from, to).
func sliceGauges(ls []sm.Line, from, to time.Time) (running, waiting, kv float64) {
	var in []sm.Line
	for _, l := range ls {
		if !l.At.Before(from) && l.At.Before(to) {
			in = append(in, l)
		}
	}
	running, _ = gaugeStats(in, sm.Running)
	waiting, _ = gaugeStats(in, sm.Waiting)
	kv, _ = gaugeStats(in, sm.KVCacheUsage)
	return running, waiting, kv
}
