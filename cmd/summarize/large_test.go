package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"servebench/internal/record"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

// TestLargeInputExact: over an input of many read batches and many sample
// blocks, with bad and blank lines between the records, every statistic is
// to the last bit what stats.Summarize gives on one slice of the samples in
// input order, and the bad lines are reported with their numbers, in
// order. The mean and standard deviation are sums in input order, so
// records decoded in parallel must reach the Aggregator in that order.
func TestLargeInputExact(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var in strings.Builder
	var want [2][summary.NumMetrics][]float64
	var wantBad []string
	line := 0
	for seq := range 30_000 {
		if seq%997 == 0 {
			line += 2
			in.WriteString("\nnot a record\n") // a blank line, then a bad one
			wantBad = append(wantBad, fmt.Sprintf("summarize: stdin:%d: not a JSON object", line))
		}
		rec := okRecord(fmt.Sprintf("r%d", seq%2), seq, 20+r.ExpFloat64()*100)
		rec.TTFTMs = record.Float(r.Float64() * 30)
		rec.TTFOMs = record.Float(*rec.TTFTMs + r.Float64()*50)
		rec.ITLMs = make([]float64, 1+r.IntN(9)) // digits that strconv converts, not the exact fast path
		for i := range rec.ITLMs {
			rec.ITLMs[i] = r.Float64() * 3
		}
		rec.QueueMs = r.Float64()
		in.WriteString(lines(t, rec))
		line++
		w := &want[seq%2]
		w[summary.TTFT] = append(w[summary.TTFT], *rec.TTFTMs)
		w[summary.TTFO] = append(w[summary.TTFO], *rec.TTFOMs)
		w[summary.TPOT] = append(w[summary.TPOT], *rec.TPOTMs)
		w[summary.ITL] = append(w[summary.ITL], rec.ITLMs...)
		w[summary.Latency] = append(w[summary.Latency], rec.LatencyMs)
		w[summary.Queue] = append(w[summary.Queue], rec.QueueMs)
		w[summary.SchedLatency] = append(w[summary.SchedLatency], rec.SchedLatencyMs())
	}
	var stderr bytes.Buffer
	got, err := read(&stderr, strings.NewReader(in.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.BadLines != len(wantBad) || got.Records != 30_000 {
		t.Fatalf("%d records, %d bad lines; want 30000, %d", got.Records, got.BadLines, len(wantBad))
	}
	if msgs := strings.Split(strings.TrimSpace(stderr.String()), "\n"); !reflect.DeepEqual(msgs[:maxBadLineMessages], wantBad[:maxBadLineMessages]) {
		t.Errorf("bad lines reported:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(wantBad, "\n"))
	}
	ps := []float64{0, 1, 25, 50, 90, 99, 99.9, 100}
	groups := got.agg.Groups(ps)
	for i, g := range groups {
		for m := range want[i] {
			s, _ := stats.Summarize(want[i][m], ps)
			if !reflect.DeepEqual(*g.Metrics[m], s) {
				t.Errorf("group %s, metric %d:\n got %+v\nwant %+v", g.RunID, m, *g.Metrics[m], s)
			}
		}
	}
}
