package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"servebench/internal/stats"
	"servebench/internal/summary"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// tableGroup is a group with the table's statistics: TTFT, TPOT, ITL and
// latency with median and p99 (percentiles 50, 90, 95, 99).
func tableGroup(label string, conc int, rate float64, failed int, scale float64) summary.Group {
	g := summary.Group{RunID: "20261201T120000Z-ab12cd", Point: summary.Point{Label: label, Concurrency: conc, Rate: rate},
		Model: "llmsim/tiny", Server: "http://127.0.0.1:8000", Endpoint: "completions", Stream: true,
		Requests: 20, OK: 20 - failed, Failed: failed, ReqPerS: 3.25 * scale, OutputTokPerS: 208.1 * scale}
	for m, base := range map[summary.Metric]float64{summary.TTFT: 20, summary.TPOT: 5, summary.ITL: 5, summary.Latency: 335} {
		g.Metrics[m] = &stats.Summary{N: 20, Median: base * scale, Percentiles: []float64{base * scale, 0, 0, base * scale * 1.1}}
	}
	return g
}

// TestTableGolden pins the answer-first table for a single run, a sweep
// and an open-loop sweep of two runs with the same label.
func TestTableGolden(t *testing.T) {
	ps := []float64{50, 90, 95, 99}
	cases := map[string][]summary.Group{
		"table-single": {tableGroup("latency", 1, 0, 0, 1)},
		"table-sweep":  {tableGroup("sweep", 1, 0, 0, 1), tableGroup("sweep", 2, 0, 0, 1.4), tableGroup("sweep", 4, 0, 3, 2.1)},
		"table-rates": func() []summary.Group {
			a, b := tableGroup("", 8, 2, 0, 1), tableGroup("", 8, 2, 0, 1.2)
			b.RunID = "20261201T130000Z-ef34ab"
			b.Server = "http://127.0.0.1:8001"
			return []summary.Group{a, b, tableGroup("", 0, 4.5, 1, 1.5)}
		}(),
	}
	for name, groups := range cases {
		var buf bytes.Buffer
		writeTable(&buf, &summary.Report{Groups: groups, Percentiles: ps}, newPalette(false))
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s:\n%s\nwant:\n%s", name, buf.String(), want)
		}
		for _, line := range bytes.Split(buf.Bytes(), []byte("\n")) {
			if len(line) > 100 && !bytes.Contains(line, []byte(" on ")) {
				t.Errorf("%s: a row wider than 100 columns: %q", name, line)
			}
		}
	}
}

// TestQueueSectionsOnlyOpenLoop: a closed loop's queue is the client's own
// microseconds, so its queue and schedule sections are left out; an open
// loop's are kept.
func TestQueueSectionsOnlyOpenLoop(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want bool
	}{{0, false}, {2, true}} {
		g := tableGroup("l", 4, tt.rate, 0, 1)
		g.Metrics[summary.Queue] = &stats.Summary{N: 20, Max: 0.01, Percentiles: make([]float64, 4)}
		g.Metrics[summary.SchedLatency] = g.Metrics[summary.Latency]
		var buf bytes.Buffer
		if err := WriteText(&buf, &summary.Report{Groups: []summary.Group{g}, Percentiles: []float64{50, 90, 95, 99}}, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(buf.Bytes(), []byte("Client Queue Delay")); got != tt.want {
			t.Errorf("rate %v: queue section %v, want %v", tt.rate, got, tt.want)
		}
		if bytes.Contains(buf.Bytes(), []byte("P50 ")) {
			t.Errorf("rate %v: P50 repeats the median", tt.rate)
		}
	}
}
