package summary

import (
	"fmt"
	"math"
	"slices"
	"time"

	sm "servebench/internal/servermetrics"
)

// ServerStats is what the server said about itself during a group's
// window (first scheduled send to last completion), from genload
// --server-metrics samples of the same run. Every value is NaN when the
// samples do not tell it (docs/summarize.md#server-metrics says where each
// comes from):
//
//   - gauges (running, waiting, KV usage): mean and max of the samples
//     taken inside the window;
//   - counters and histograms: the rise from the last sample at or before
//     the window's start to the first at or after its end (genload takes
//     one before each phase and one after the run, so these bracket the
//     window closely), counted through restarts by Prometheus' reset
//     rule.
type ServerStats struct {
	Samples            int // samples inside the window
	RunningMean        float64
	RunningMax         float64
	WaitingMean        float64
	WaitingMax         float64
	KVCacheUsageMean   float64 // fraction 0..1
	KVCacheUsageMax    float64
	PrefixCacheHitRate float64 // hits / queries (tokens, for vLLM and SGLang)
	Preemptions        float64
	GenTokPerS         float64 // generation tokens counted by the server / the window
	SpecAcceptance     float64 // accepted / draft tokens, or the server's own rate
	TTFTMeanMs         float64 // histogram sum / count over the window
	QueueMeanMs        float64
	ITLMeanMs          float64
	E2EMeanMs          float64
	Resets             int // counter resets (restarts) inside the bracket
}

// JoinServerMetrics fills each group's Server from the samples of its run.
// Groups of runs without samples keep a nil Server.
func JoinServerMetrics(groups []Group, lines []sm.Line) {
	byRun := map[string][]sm.Line{}
	for _, l := range lines {
		byRun[l.RunID] = append(byRun[l.RunID], l)
	}
	for _, ls := range byRun {
		slices.SortStableFunc(ls, func(a, b sm.Line) int { return a.At.Compare(b.At) })
	}
	for i := range groups {
		g := &groups[i]
		ls := byRun[g.RunID]
		if len(ls) == 0 || g.StartTime.IsZero() || math.IsNaN(g.DurationS) {
			continue
		}
		end := g.StartTime.Add(time.Duration(g.DurationS * float64(time.Second)))
		st := serverStats(ls, g.StartTime, end, g.DurationS)
		g.ServerMetrics = &st
		if st.Resets > 0 {
			g.Warnings = append(g.Warnings, fmt.Sprintf("the server's counters went down %d %s during the window (a restart?): counted from zero, as Prometheus does", st.Resets, pluralWord(st.Resets, "time", "times")))
		}
	}
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// serverStats computes ServerStats over [start, end] from samples in time
// order.
func serverStats(ls []sm.Line, start, end time.Time, durationS float64) ServerStats {
	nan := math.NaN()
	st := ServerStats{RunningMean: nan, RunningMax: nan, WaitingMean: nan, WaitingMax: nan, KVCacheUsageMean: nan, KVCacheUsageMax: nan,
		PrefixCacheHitRate: nan, Preemptions: nan, GenTokPerS: nan, SpecAcceptance: nan, TTFTMeanMs: nan, QueueMeanMs: nan, ITLMeanMs: nan, E2EMeanMs: nan}
	var inside []sm.Line
	for _, l := range ls {
		if !l.At.Before(start) && !l.At.After(end) {
			inside = append(inside, l)
		}
	}
	st.Samples = len(inside)
	st.RunningMean, st.RunningMax = gaugeStats(inside, sm.Running)
	st.WaitingMean, st.WaitingMax = gaugeStats(inside, sm.Waiting)
	st.KVCacheUsageMean, st.KVCacheUsageMax = gaugeStats(inside, sm.KVCacheUsage)

	br := bracket(ls, start, end)
	if len(br) < 2 {
		return st
	}
	rise := func(name string) float64 {
		vs := make([]float64, 0, len(br))
		for _, l := range br {
			v, ok := l.Counters[name]
			if !ok {
				return nan
			}
			vs = append(vs, v)
		}
		inc, resets := sm.Increase(vs)
		st.Resets = max(st.Resets, resets)
		return inc
	}
	meanMs := func(name string) float64 {
		hs := make([]sm.Histogram, 0, len(br))
		for _, l := range br {
			h, ok := l.Histograms[name]
			if !ok {
				return nan
			}
			hs = append(hs, h)
		}
		sum, count, resets := sm.HistogramIncrease(hs)
		st.Resets = max(st.Resets, resets)
		if count <= 0 {
			return nan
		}
		return sum / count * 1000
	}
	st.PrefixCacheHitRate = ratio(rise(sm.PrefixCacheHits), rise(sm.PrefixCacheQueries))
	st.Preemptions = rise(sm.Preemptions)
	if durationS > 0 {
		st.GenTokPerS = rise(sm.GenerationTokens) / durationS
	}
	st.SpecAcceptance = ratio(rise(sm.SpecAcceptedTokens), rise(sm.SpecDraftTokens))
	if math.IsNaN(st.SpecAcceptance) {
		st.SpecAcceptance, _ = gaugeStats(inside, sm.SpecAcceptRate)
	}
	st.TTFTMeanMs = meanMs(sm.TTFTSeconds)
	st.QueueMeanMs = meanMs(sm.QueueSeconds)
	st.ITLMeanMs = meanMs(sm.ITLSeconds)
	st.E2EMeanMs = meanMs(sm.E2ESeconds)
	return st
}

// bracket is the samples from the last one at or before start to the first
// one at or after end; nil when the samples do not reach both sides.
func bracket(ls []sm.Line, start, end time.Time) []sm.Line {
	first, last := -1, -1
	for i, l := range ls {
		if !l.At.After(start) {
			first = i
		}
		if last < 0 && !l.At.Before(end) {
			last = i
		}
	}
	if first < 0 || last < 0 || last <= first {
		return nil
	}
	return ls[first : last+1]
}

// gaugeStats is the mean and max of a gauge over samples (NaN, NaN when
// none has it).
func gaugeStats(ls []sm.Line, name string) (mean, maxV float64) {
	n, sum, maxV := 0, 0.0, math.Inf(-1)
	for _, l := range ls {
		if v, ok := l.Gauges[name]; ok {
			n++
			sum += v
			maxV = max(maxV, v)
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	return sum / float64(n), maxV
}

func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b <= 0 {
		return math.NaN()
	}
	return a / b
}
