package plot

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"servebench/internal/stats"
)

// cdfPoints is the most points one CDF line is drawn with: enough for a
// smooth curve, few enough that a million samples make a small file.
const cdfPoints = 400

// cdf draws the empirical distribution of one sample per series: for each
// fraction y of the requests, the latency x that many stayed within. The
// line goes through the sample's percentiles (as np.percentile), so the
// p50 and p99 read off the plot match the report.
func cdf(title, xLabel string, series []Series, samples func(*Series) []float64) (*gplot.Plot, error) {
	p := newPlot(title, xLabel, "fraction of requests at or below")
	p.Add(plotter.NewGrid())
	p.Y.Min, p.Y.Max = 0, 1
	drawn := 0
	for i := range series {
		xs := sorted(samples(&series[i]))
		if len(xs) == 0 {
			continue
		}
		k := min(len(xs), cdfPoints)
		pts := make(plotter.XYs, k+1)
		for j := range pts {
			f := float64(j) / float64(k)
			pts[j] = plotter.XY{X: stats.Percentile(xs, 100*f), Y: f}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		line.Color = colour(i)
		line.Width = vg.Points(1.8)
		p.Add(line)
		p.Legend.Add(legendName(fmt.Sprintf("%s (n=%d)", series[i].Name, len(xs))), line)
		drawn++
	}
	if drawn == 0 {
		return nil, nil
	}
	if lo, hi := xRange(series, samples); lo > 0 && hi/lo > logRatio {
		p.X.Scale = gplot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Label.Text += ", log scale"
	} else {
		p.X.Min = 0 // 0.3 ms of spread looks like 0.3 ms, not like a cliff
	}
	return p, nil
}

// logRatio is the spread of values beyond which a CDF's latency axis is
// logarithmic: a fast load point and a queueing one then both keep a
// readable shape.
const logRatio = 20

func xRange(series []Series, samples func(*Series) []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range series {
		if xs := sorted(samples(&series[i])); len(xs) > 0 {
			lo, hi = math.Min(lo, xs[0]), math.Max(hi, xs[len(xs)-1])
		}
	}
	return lo, hi
}

// Histogram layout: bins from zero up to the highest p99.5, so that a few
// long gaps do not squash the bulk into one bar. The gaps beyond are
// counted in the axis label.
const (
	histBins       = 40
	histPercentile = 99.5
)

// histogram draws each series' ITL gaps as a step line of the share of its
// gaps per bin: series with different numbers of gaps compare directly.
func histogram(series []Series) (*gplot.Plot, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	var all []float64
	for i := range series {
		xs := sorted(series[i].ITLs)
		if len(xs) == 0 {
			continue
		}
		all = append(all, xs...)
		lo = math.Min(lo, xs[0])
		hi = math.Max(hi, stats.Percentile(xs, histPercentile))
	}
	if len(all) == 0 {
		return nil, nil
	}
	lo = math.Min(lo, 0) // the axis starts at zero: a spread reads as its size
	if hi <= lo {
		hi = lo + 1
	}
	width := (hi - lo) / histBins
	over, top := 0, 0.0
	p := newPlot("Inter-token latency: histogram", "", "share of gaps")
	p.Add(plotter.NewGrid())
	p.Y.Min = 0
	for i := range series {
		xs := series[i].ITLs
		if len(xs) == 0 {
			continue
		}
		counts := make([]float64, histBins)
		for _, x := range xs {
			switch b := int((x - lo) / width); {
			case x > hi:
				over++
			case b >= histBins:
				counts[histBins-1]++ // x == hi
			default:
				counts[b]++
			}
		}
		pts := make(plotter.XYs, histBins+1)
		for b := range pts {
			share := counts[min(b, histBins-1)] / float64(len(xs))
			pts[b] = plotter.XY{X: lo + float64(b)*width, Y: share}
			top = math.Max(top, share)
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("ITL histogram: %w", err)
		}
		line.StepStyle = plotter.PostStep
		line.Color = colour(i)
		line.Width = vg.Points(1.8)
		p.Add(line)
		p.Legend.Add(legendName(fmt.Sprintf("%s (n=%d)", series[i].Name, len(xs))), line)
	}
	p.Y.Max = top * 1.1 // room above the highest bar for the legend
	p.X.Label.Text = "ITL (ms)"
	if over > 0 {
		p.X.Label.Text = fmt.Sprintf("ITL (ms); %d of %d gaps above %s ms not shown", over, len(all), strconv.FormatFloat(hi, 'f', 2, 64))
	}
	return p, nil
}

// throughputLabel names the sweeps' x axis: output throughput, input
// throughput when every point is an embeddings group's, both when they
// are mixed.
func throughputLabel(curves []Curve) string {
	inputs, outputs := 0, 0
	for _, c := range curves {
		for _, pt := range c.Points {
			if pt.Input {
				inputs++
			} else {
				outputs++
			}
		}
	}
	switch {
	case inputs > 0 && outputs == 0:
		return "input throughput (tok/s)"
	case inputs > 0:
		return "throughput (tok/s: output, input for embeddings)"
	}
	return "output throughput (tok/s)"
}

// sweep draws output throughput (x) against a latency's p50 (solid, with
// the load point's concurrency or rate beside each point) and p99
// (dashed), one colour per curve: where the curve bends upwards, more load
// buys latency rather than throughput.
func sweep(title, yLabel string, curves []Curve, values func(Point) (p50, p99 float64)) (*gplot.Plot, error) {
	p := newPlot(title+" (p50 solid, p99 dashed)", throughputLabel(curves), yLabel)
	p.Add(plotter.NewGrid())
	drawn := 0
	labels := newLabelPlacer(curves, values)
	for i, c := range curves {
		var p50s, p99s plotter.XYs
		var names []string
		for _, pt := range c.Points {
			v50, v99 := values(pt)
			if !finite(pt.OutputTokPerS) || !finite(v50) {
				continue
			}
			p50s = append(p50s, plotter.XY{X: pt.OutputTokPerS, Y: v50})
			names = append(names, labels.place(pt.OutputTokPerS, v50, pointLabel(pt)))
			if finite(v99) {
				p99s = append(p99s, plotter.XY{X: pt.OutputTokPerS, Y: v99})
			}
		}
		if len(p50s) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(p50s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		line.Color, points.Color = colour(i), colour(i)
		line.Width = vg.Points(1.8)
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(3)
		p.Add(line, points)
		p.Legend.Add(legendName(strings.TrimSpace(c.Name+" p50")), line, points)
		if len(p99s) > 0 {
			tail, err := plotter.NewLine(p99s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", title, err)
			}
			tail.Color = colour(i)
			tail.Width = vg.Points(1.4)
			tail.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(tail)
			p.Legend.Add(legendName(strings.TrimSpace(c.Name+" p99")), tail)
		}
		marks, err := plotter.NewLabels(plotter.XYLabels{XYs: p50s, Labels: names})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		marks.Offset = vg.Point{X: vg.Points(5), Y: -vg.Points(11)}
		for j := range marks.TextStyle {
			marks.TextStyle[j].Font.Size = vg.Points(9)
			marks.TextStyle[j].Font.Variant = "Sans"
			marks.TextStyle[j].Color = colour(i)
		}
		p.Add(marks)
		drawn++
	}
	if drawn == 0 {
		return nil, nil
	}
	p.X.Min, p.Y.Min = 0, 0
	return p, nil
}

// labelPlacer leaves out the point labels of a sweep panel that would
// print over one already placed: positions are compared as fractions of
// the axes (which start at zero), a label being about 8% of the width and
// 5% of the height of a panel.
type labelPlacer struct {
	xMax, yMax float64
	placed     [][2]float64
}

func newLabelPlacer(curves []Curve, values func(Point) (p50, p99 float64)) *labelPlacer {
	l := &labelPlacer{}
	for _, c := range curves {
		for _, pt := range c.Points {
			v50, v99 := values(pt)
			for _, v := range []float64{v50, v99} {
				if finite(v) {
					l.yMax = math.Max(l.yMax, v)
				}
			}
			if finite(pt.OutputTokPerS) {
				l.xMax = math.Max(l.xMax, pt.OutputTokPerS)
			}
		}
	}
	return l
}

// place returns label when it keeps clear of the labels placed (and
// places it), else "".
func (l *labelPlacer) place(x, y float64, label string) string {
	fx, fy := x/math.Max(l.xMax, 1e-12), y/math.Max(l.yMax, 1e-12)
	for _, q := range l.placed {
		if math.Abs(q[0]-fx) < 0.08 && math.Abs(q[1]-fy) < 0.05 {
			return ""
		}
	}
	l.placed = append(l.placed, [2]float64{fx, fy})
	return label
}

// maxLegend is the longest legend entry, in characters: run ids are long,
// and a legend wider than its strip would leave the picture.
const maxLegend = 30

// legendName shortens s to maxLegend characters, keeping both ends (a run
// id's time stamp and its suffix both tell runs apart).
func legendName(s string) string {
	r := []rune(s)
	if len(r) <= maxLegend {
		return s
	}
	half := (maxLegend - 1) / 2
	return string(r[:half]) + "…" + string(r[len(r)-(maxLegend-1-half):])
}

// pointLabel names a load point beside its marker: its rate when paced,
// else its concurrency.
func pointLabel(pt Point) string {
	if pt.Rate > 0 {
		return strconv.FormatFloat(pt.Rate, 'f', -1, 64) + " req/s"
	}
	return "c=" + strconv.Itoa(pt.Concurrency)
}

func sorted(xs []float64) []float64 {
	if slices.IsSorted(xs) {
		return xs
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}
