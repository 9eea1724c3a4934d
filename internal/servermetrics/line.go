package servermetrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Kind is the kind field of a sample's line: it tells the line apart from
// a request record (which has none) when both are read together.
const Kind = "server_metrics"

// Line is one sample as genload writes it to --server-metrics FILE: who
// took it (run id, label, and the load point being run, as a record has
// them), when, and the sample.
type Line struct {
	Kind        string    `json:"kind"`
	RunID       string    `json:"run_id"`
	Label       string    `json:"label"`
	Concurrency int       `json:"concurrency"`
	Rate        float64   `json:"rate"`
	MaxTokens   int       `json:"max_tokens"`
	At          time.Time `json:"at"`
	Sample
}

// IsLine reports whether a JSON line says it is a server-metrics sample:
// the cheap test summarize makes on a line that is not a record.
func IsLine(line []byte) bool {
	if !bytes.Contains(line, []byte(`"kind"`)) {
		return false
	}
	var k struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(line, &k) == nil && k.Kind == Kind
}

// DecodeLine reads one sample line, checking what a reader relies on.
func DecodeLine(line []byte) (Line, error) {
	var l Line
	if err := json.Unmarshal(line, &l); err != nil {
		return Line{}, fmt.Errorf("bad server-metrics line: %w", err)
	}
	switch {
	case l.Kind != Kind:
		return Line{}, fmt.Errorf("bad server-metrics line: kind %q, want %q", l.Kind, Kind)
	case l.RunID == "":
		return Line{}, errors.New("bad server-metrics line: no run_id")
	case l.At.IsZero():
		return Line{}, errors.New("bad server-metrics line: no at")
	}
	return l, nil
}

// AppendLine encodes l as one JSON line, newline included.
func AppendLine(b []byte, l *Line) ([]byte, error) {
	l.Kind = Kind
	if l.Gauges == nil {
		l.Gauges = map[string]float64{}
	}
	if l.Counters == nil {
		l.Counters = map[string]float64{}
	}
	if l.Histograms == nil {
		l.Histograms = map[string]Histogram{}
	}
	js, err := json.Marshal(l)
	if err != nil {
		return b, err
	}
	return append(append(b, js...), '\n'), nil
}

// Increase is how much a counter rose over values read in time order,
// by Prometheus' rule for resets: a value below the one before means the
// counter restarted from zero (the server restarted), so that step adds
// the new value itself. resets counts them.
func Increase(values []float64) (inc float64, resets int) {
	for i := 1; i < len(values); i++ {
		d := values[i] - values[i-1]
		if d < 0 {
			d = values[i]
			resets++
		}
		inc += d
	}
	return inc, resets
}

// HistogramIncrease is the rise of a histogram's sum and count over
// samples in time order; a count going down is a reset, as for Increase.
func HistogramIncrease(hs []Histogram) (sum, count float64, resets int) {
	for i := 1; i < len(hs); i++ {
		dc, ds := hs[i].Count-hs[i-1].Count, hs[i].Sum-hs[i-1].Sum
		if dc < 0 || (dc == 0 && ds < 0) {
			dc, ds = hs[i].Count, hs[i].Sum
			resets++
		}
		count += dc
		sum += ds
	}
	if math.IsNaN(sum) {
		sum = 0
	}
	return sum, count, resets
}

// ByRun is lines split by run: the run ids in the order they first
// appear, and each run's lines in time order (ties as they came).
func ByRun(lines []Line) (runs []string, byRun map[string][]Line) {
	byRun = map[string][]Line{}
	for _, l := range lines {
		if _, ok := byRun[l.RunID]; !ok {
			runs = append(runs, l.RunID)
		}
		byRun[l.RunID] = append(byRun[l.RunID], l)
	}
	for _, ls := range byRun {
		slices.SortStableFunc(ls, func(a, b Line) int { return a.At.Compare(b.At) })
	}
	return runs, byRun
}
