package plot

import (
	"fmt"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	sm "servebench/internal/servermetrics"
	"servebench/internal/summary"
)

// Timeline is one line over a run's time: seconds from its start and a
// value at each.
type Timeline struct {
	Name   string
	Xs, Ys []float64
	Dashed bool
}

// AddTimelines puts two panels over time into fig: the client's output
// tok/s per time slice of each group (summarize --slice), and the
// server's running (solid) and waiting (dashed) requests from the
// --server-metrics samples of each run. Either is left out without data.
func AddTimelines(fig *Figure, slicesOf []summary.Slice, samples []sm.Line) {
	var order []string
	byGroup := map[string]*Timeline{}
	for _, sl := range slicesOf {
		name := legendName(runTail(sl.RunID) + " " + pointLabel(Point{Point: sl.Point}))
		t := byGroup[name]
		if t == nil {
			t = &Timeline{Name: name}
			byGroup[name] = t
			order = append(order, name)
		}
		t.Xs, t.Ys = append(t.Xs, sl.StartS+sl.LengthS/2), append(t.Ys, sl.OutputTokPerS)
	}
	for _, n := range order {
		fig.ClientTime = append(fig.ClientTime, *byGroup[n])
	}
	runs, byRun := sm.ByRun(samples)
	for _, id := range runs {
		ls := byRun[id]
		for _, g := range []string{sm.Running, sm.Waiting} {
			t := Timeline{Name: legendName(runTail(id) + " " + g), Dashed: g == sm.Waiting}
			for _, l := range ls {
				if v, ok := l.Gauges[g]; ok {
					t.Xs, t.Ys = append(t.Xs, l.At.Sub(ls[0].At).Seconds()), append(t.Ys, v)
				}
			}
			if len(t.Xs) > 0 {
				fig.ServerTime = append(fig.ServerTime, t)
			}
		}
	}
}

// runTail is the distinguishing end of a run id (its random suffix).
func runTail(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 && i < len(id)-1 {
		return id[i+1:]
	}
	return id
}

// timeline draws lines over time; colours go by line pairs when dashed
// lines follow solid ones of the same run.
func timeline(title, yLabel string, lines []Timeline) (*gplot.Plot, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	p := newPlot(title, "time (s)", yLabel)
	p.Add(plotter.NewGrid())
	c := -1
	for i, t := range lines {
		if i >= 2*MaxSeries {
			break
		}
		if !t.Dashed {
			c++
		}
		xys := make(plotter.XYs, 0, len(t.Xs))
		for j := range t.Xs {
			if finite(t.Xs[j]) && finite(t.Ys[j]) {
				xys = append(xys, plotter.XY{X: t.Xs[j], Y: t.Ys[j]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		line.Color = colour(max(c, 0))
		line.Width = vg.Points(1.6)
		if t.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line)
		p.Legend.Add(t.Name, line)
	}
	p.X.Min, p.Y.Min = 0, 0
	return p, nil
}
