package compare

import (
	"math"
	"slices"

	"servebench/internal/summary"
)

// ServerRow is one server metric of a table (summary.ServerStats): the
// median of each side's runs and the change. It is not tested: there is
// one value per run, and the server's own numbers explain a change in the
// client's rather than prove one.
type ServerRow struct {
	Name     string // the CSV column, as server_waiting_mean
	Unit     string
	Old, New float64 // medians of the runs that have the value; NaN when none has
	Delta    float64
	DeltaRel float64
}

// serverMetric names one ServerStats field.
type serverMetric struct {
	name, unit string
	field      func(*summary.ServerStats) float64
}

var serverMetrics = []serverMetric{
	{"server_running_mean", "requests", func(s *summary.ServerStats) float64 { return s.RunningMean }},
	{"server_running_max", "requests", func(s *summary.ServerStats) float64 { return s.RunningMax }},
	{"server_waiting_mean", "requests", func(s *summary.ServerStats) float64 { return s.WaitingMean }},
	{"server_waiting_max", "requests", func(s *summary.ServerStats) float64 { return s.WaitingMax }},
	{"server_kv_cache_usage_mean", "fraction", func(s *summary.ServerStats) float64 { return s.KVCacheUsageMean }},
	{"server_kv_cache_usage_max", "fraction", func(s *summary.ServerStats) float64 { return s.KVCacheUsageMax }},
	{"server_prefix_cache_hit_rate", "fraction", func(s *summary.ServerStats) float64 { return s.PrefixCacheHitRate }},
	{"server_preemptions", "requests", func(s *summary.ServerStats) float64 { return s.Preemptions }},
	{"server_gen_tok_per_s", "tok/s", func(s *summary.ServerStats) float64 { return s.GenTokPerS }},
	{"server_spec_decode_acceptance", "fraction", func(s *summary.ServerStats) float64 { return s.SpecAcceptance }},
	{"server_ttft_mean_ms", "ms", func(s *summary.ServerStats) float64 { return s.TTFTMeanMs }},
	{"server_queue_mean_ms", "ms", func(s *summary.ServerStats) float64 { return s.QueueMeanMs }},
	{"server_itl_mean_ms", "ms", func(s *summary.ServerStats) float64 { return s.ITLMeanMs }},
	{"server_e2e_mean_ms", "ms", func(s *summary.ServerStats) float64 { return s.E2EMeanMs }},
}

// serverRows are the server metrics either side has; none when neither
// side's runs had samples.
func serverRows(old, new []summary.Group) []ServerRow {
	var rows []ServerRow
	for _, m := range serverMetrics {
		o, n := runsMedian(old, m.field), runsMedian(new, m.field)
		if math.IsNaN(o) && math.IsNaN(n) {
			continue
		}
		r := ServerRow{Name: m.name, Unit: m.unit, Old: o, New: n, Delta: n - o, DeltaRel: relChange(o, n)}
		rows = append(rows, r)
	}
	return rows
}

// relChange is new/old - 1: 0 when both are 0, ±Inf when only old is.
func relChange(old, new float64) float64 {
	if old == 0 {
		if new == 0 {
			return 0
		}
		return math.Copysign(math.Inf(1), new)
	}
	return new/old - 1
}

// runsMedian is the median of the runs' values of f; NaN when no run has one.
func runsMedian(runs []summary.Group, f func(*summary.ServerStats) float64) float64 {
	var vs []float64
	for i := range runs {
		if sv := runs[i].ServerMetrics; sv != nil {
			if v := f(sv); !math.IsNaN(v) {
				vs = append(vs, v)
			}
		}
	}
	if len(vs) == 0 {
		return math.NaN()
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}
