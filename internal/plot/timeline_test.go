package plot

import (
	"bytes"
	"strings"
	"testing"
	"time"

	sm "servebench/internal/servermetrics"
	"servebench/internal/summary"
)

// timelineFigure has slices of one group and samples of its run.
func timelineFigure() *Figure {
	fig := &Figure{Series: tightFigure().Series}
	var sls []summary.Slice
	for i := range 5 {
		sls = append(sls, summary.Slice{RunID: "r-abc", Point: summary.Point{Rate: 8}, Index: i, StartS: float64(i), LengthS: 1, OutputTokPerS: float64(10 * i)})
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ls []sm.Line
	for i := range 10 {
		ls = append(ls, sm.Line{RunID: "r-abc", At: t0.Add(time.Duration(i) * 500 * time.Millisecond),
			Sample: sm.Sample{Gauges: map[string]float64{sm.Running: float64(i % 4), sm.Waiting: float64(i % 3)}}})
	}
	AddTimelines(fig, sls, ls)
	return fig
}

// TestTimelines: the client's slices and the server's gauges make two
// panels, with distinct tick labels; without either, no panel.
func TestTimelines(t *testing.T) {
	fig := timelineFigure()
	if len(fig.ClientTime) != 1 || len(fig.ServerTime) != 2 || !fig.ServerTime[1].Dashed || fig.ClientTime[0].Xs[0] != 0.5 {
		t.Fatalf("client %+v server %+v", fig.ClientTime, fig.ServerTime)
	}
	var buf bytes.Buffer
	if err := Render(&buf, ".svg", fig); err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"Client output throughput over time", "Server requests over time"} {
		if !strings.Contains(buf.String(), title) {
			t.Errorf("no panel %q", title)
		}
	}
	panels, _ := fig.panels()
	without, _ := (&Figure{Series: fig.Series}).panels()
	if len(panels) != len(without)+2 {
		t.Errorf("%d panels, %d without timelines", len(panels), len(without))
	}
	for i, labels := range svgAxes(buf.Bytes()) {
		seen := map[string]bool{}
		for _, l := range labels {
			if seen[l] {
				t.Errorf("axis %d reads %q twice: %q", i, l, labels)
			}
			seen[l] = true
		}
	}
}
