// Package servermetrics reads what an inference server says about itself
// on /metrics (Prometheus text) and turns it into servebench's samples:
// the same few names (running, waiting, KV cache usage, token counters,
// latency histograms) whichever server published them (vLLM, SGLang, TGI,
// llama.cpp's server). It polls a server during a run (Collector) and
// reads and writes the samples' JSON lines.
package servermetrics

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one scrape in servebench's names. Series of several engines
// (vLLM's engine label under data parallelism) and of other labels
// (finished_reason, ...) are combined as the table says: summed, or
// averaged for a share such as KV usage. Models and Engines say which
// label values were combined.
type Sample struct {
	Gauges     map[string]float64   `json:"gauges"`
	Counters   map[string]float64   `json:"counters"`
	Histograms map[string]Histogram `json:"histograms"`
	Models     []string             `json:"models,omitempty"`  // model_name label values seen
	Engines    []string             `json:"engines,omitempty"` // engine label values combined
}

// Histogram is a cumulative Prometheus histogram: Sum and Count of every
// observation, Buckets the cumulative count at or below each upper bound
// (the +Inf bucket is Count and is left out: JSON has no infinity).
type Histogram struct {
	Sum     float64  `json:"sum"`
	Count   float64  `json:"count"`
	Buckets []Bucket `json:"buckets,omitempty"`
}

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	LE    float64 `json:"le"`
	Count float64 `json:"count"`
}

// Empty reports whether the scrape had none of the families servebench
// knows (a server that is not an inference server, or an unknown one).
func (s *Sample) Empty() bool {
	return len(s.Gauges) == 0 && len(s.Counters) == 0 && len(s.Histograms) == 0
}

// Parse reads one /metrics body in the Prometheus text format with
// prometheus/common's parser and maps the families it knows. A body the
// parser refuses is an error: the whole scrape is then unusable, as
// Prometheus treats it.
func Parse(r io.Reader) (Sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return Sample{}, fmt.Errorf("not Prometheus text: %w", err)
	}
	return fromFamilies(fams), nil
}

// fromFamilies maps parsed families onto servebench's names.
func fromFamilies(fams map[string]*dto.MetricFamily) Sample {
	s := Sample{Gauges: map[string]float64{}, Counters: map[string]float64{}, Histograms: map[string]Histogram{}}
	filled := map[string]bool{}
	models, engines := map[string]bool{}, map[string]bool{}
	for _, src := range sources {
		key := src.kind + "/" + src.name
		mf, ok := fams[src.family]
		if !ok || filled[key] || len(mf.GetMetric()) == 0 {
			continue
		}
		var used bool
		switch src.kind {
		case kindGauge, kindCounter:
			var v float64
			if v, used = combine(mf, src.agg); used {
				if src.kind == kindGauge {
					s.Gauges[src.name] = v * src.scale
				} else {
					s.Counters[src.name] = v * src.scale
				}
			}
		case kindHistogram:
			var h Histogram
			if h, used = histogram(mf); used {
				s.Histograms[src.name] = h
			}
		}
		if !used {
			continue
		}
		filled[key] = true
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "model_name":
					models[l.GetValue()] = true
				case "engine":
					engines[l.GetValue()] = true
				}
			}
		}
	}
	s.Models, s.Engines = sortedKeys(models), sortedKeys(engines)
	return s
}

// value is a gauge's, counter's or untyped series' value.
func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return math.NaN()
}

// combine folds a family's series into one value (sum or mean); a series
// whose value is not finite is left out, so used is false when none was.
func combine(mf *dto.MetricFamily, agg int) (v float64, used bool) {
	n := 0
	for _, m := range mf.GetMetric() {
		x := value(m)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		v += x
		n++
	}
	if n == 0 || math.IsInf(v, 0) {
		return 0, false
	}
	if agg == aggMean {
		v /= float64(n)
	}
	return v, true
}

// histogram sums a family's histogram series (several engines) bucket by
// bucket; series whose numbers are not finite are left out.
func histogram(mf *dto.MetricFamily) (Histogram, bool) {
	var h Histogram
	byLE := map[float64]float64{}
	n := 0
	for _, m := range mf.GetMetric() {
		ph := m.GetHistogram()
		if ph == nil || !finite(ph.GetSampleSum(), float64(ph.GetSampleCount())) {
			continue
		}
		ok := true
		for _, b := range ph.GetBucket() {
			if math.IsNaN(b.GetUpperBound()) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		h.Sum += ph.GetSampleSum()
		h.Count += float64(ph.GetSampleCount())
		for _, b := range ph.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 0) {
				byLE[b.GetUpperBound()] += float64(b.GetCumulativeCount())
			}
		}
		n++
	}
	if n == 0 || !finite(h.Sum, h.Count) {
		return Histogram{}, false
	}
	les := make([]float64, 0, len(byLE))
	for le := range byLE {
		les = append(les, le)
	}
	sort.Float64s(les)
	for _, le := range les {
		h.Buckets = append(h.Buckets, Bucket{LE: le, Count: byLE[le]})
	}
	return h, true
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
