package plot

import (
	"fmt"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"servebench/internal/summary"
)

// capacityPanel draws each capacity search's goodput ratio against the
// load it probed, with the threshold a load had to reach dashed across:
// the capacity is the last point above the line before the first one
// below it. nil without a search.
func capacityPanel(cs []summary.Capacity) (*gplot.Plot, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	unit := cs[0].Unit()
	p := newPlot("Capacity search: goodput ratio vs load (threshold dashed)", "load ("+unit+")", "goodput ratio")
	p.Add(plotter.NewGrid())
	maxX := 0.0
	for i := range cs {
		c := &cs[i]
		var xys plotter.XYs
		for _, l := range c.Loads {
			xys = append(xys, plotter.XY{X: l.Load, Y: l.Ratio})
			maxX = max(maxX, l.Load)
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("capacity: %w", err)
		}
		line.Color, points.Color = colour(i), colour(i)
		line.Width = vg.Points(1.8)
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(3)
		p.Add(line, points)
		p.Legend.Add(legendName(strings.TrimSpace(c.RunID+" "+c.Label)), line, points)
	}
	for i := range cs {
		thr, err := plotter.NewLine(plotter.XYs{{X: 0, Y: cs[i].MinGoodput}, {X: maxX, Y: cs[i].MinGoodput}})
		if err != nil {
			return nil, fmt.Errorf("capacity: %w", err)
		}
		thr.Color = colour(i)
		thr.Width = vg.Points(1.2)
		thr.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(thr)
	}
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1.05
	return p, nil
}
