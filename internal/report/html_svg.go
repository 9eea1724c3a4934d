package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// The HTML report's pictures are SVG drawn here rather than by package
// plot, so that every point carries its exact value (a <title>, which a
// browser shows on hover without JavaScript) and the file stays small.

// chartSeries is one line of a chart: points in data units.
type chartSeries struct {
	name   string
	xs, ys []float64
	tips   []string // the hover text of each point
	labels []string // point labels (sweeps); "" for none
}

// chart is one picture.
type chart struct {
	id, title, xLabel, yLabel string
	series                    []chartSeries
	bars                      bool // draw each series' points as histogram bars
	markers                   bool // mark every point (sweeps); CDFs mark a few
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH                 = 560, 320
	padL, padR, padT, padB float64 = 64, 16, 28, 44
)

// seriesColours are readable on light and dark backgrounds.
var seriesColours = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#ad494a"}

// svg draws c. Both axes start at zero, so that a spread of 0.3 ms looks
// like 0.3 ms; ticks carry as many decimals as their step needs to differ.
func (c *chart) svg() string {
	xMax, yMax := 0.0, 0.0
	n := 0
	for _, s := range c.series {
		for i := range s.xs {
			if finite(s.xs[i]) && finite(s.ys[i]) {
				xMax, yMax = math.Max(xMax, s.xs[i]), math.Max(yMax, s.ys[i])
				n++
			}
		}
	}
	var b strings.Builder
	height := chartH + 10 + legendRow*float64(len(c.series))
	fmt.Fprintf(&b, `<svg id="%s" class="chart" viewBox="0 0 %d %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, c.id, chartW, height, esc(c.title))
	fmt.Fprintf(&b, `<text class="ctitle" x="%d" y="18" text-anchor="middle">%s</text>`, chartW/2, esc(c.title))
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">no data</text></svg>`, chartW/2, chartH/2)
		return b.String()
	}
	if c.markers {
		xMax *= 1.02 // room for the last point's marker and label
	}
	xt, yt := ticks(xMax), ticks(yMax)
	xHi, yHi := xt[len(xt)-1], yt[len(yt)-1]
	pw, ph := chartW-padL-padR, chartH-padT-padB
	px := func(x float64) float64 { return padL + x/xHi*pw }
	py := func(y float64) float64 { return padT + ph - y/yHi*ph }
	axes(&b, xt, yt, px, py, c.xLabel, c.yLabel)
	for i, s := range c.series {
		colour := seriesColours[i%len(seriesColours)]
		if c.bars {
			bars(&b, s, colour, px, py, xHi/float64(max(1, len(s.xs)))*0.9)
			continue
		}
		line(&b, s, colour, px, py, c.markers)
	}
	legend(&b, c.series)
	b.WriteString("</svg>")
	return b.String()
}

func axes(b *strings.Builder, xt, yt []float64, px, py func(float64) float64, xLabel, yLabel string) {
	x0, x1, y0, y1 := px(0), px(xt[len(xt)-1]), py(0), py(yt[len(yt)-1])
	fmt.Fprintf(b, `<g class="axis"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x0, y0, x1, y0, x0, y0, x0, y1)
	for _, t := range xt {
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><text class="xtick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px(t), y0, px(t), y1, px(t), y0+16, tickText(t, xt))
	}
	for _, t := range yt {
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><text class="ytick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, x0, py(t), x1, py(t), x0-6, py(t)+4, tickText(t, yt))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, (x0+x1)/2, chartH-6, esc(xLabel))
	fmt.Fprintf(b, `<text transform="translate(14 %.1f) rotate(-90)" text-anchor="middle">%s</text></g>`, (y0+y1)/2, esc(yLabel))
}

// line draws a series as a polyline with hover targets: every point when
// markers, else at most 20 evenly spaced ones (the line itself carries the
// series' name).
func line(b *strings.Builder, s chartSeries, colour string, px, py func(float64) float64, markers bool) {
	var pts strings.Builder
	for i := range s.xs {
		if finite(s.xs[i]) && finite(s.ys[i]) {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(s.xs[i]), py(s.ys[i]))
		}
	}
	fmt.Fprintf(b, `<g class="series"><polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`, colour, strings.TrimSpace(pts.String()), esc(s.name))
	step := 1
	if !markers {
		step = max(1, len(s.xs)/20)
	}
	var placed [][2]float64
	for i := 0; i < len(s.xs); i += step {
		if !finite(s.xs[i]) || !finite(s.ys[i]) {
			continue
		}
		x, y := px(s.xs[i]), py(s.ys[i])
		r := 3.0
		if !markers {
			r = 2.5
		}
		fmt.Fprintf(b, `<circle class="pt" cx="%.1f" cy="%.1f" r="%.1f" fill="%s"><title>%s</title></circle>`, x, y, r, colour, esc(s.tips[i]))
		if i < len(s.labels) && s.labels[i] != "" && free(placed, x, y) {
			placed = append(placed, [2]float64{x, y})
			anchor, dx := "start", 5.0
			if x > chartW-padR-60 {
				anchor, dx = "end", -5 // inside the plot, not cut at its edge
			}
			fmt.Fprintf(b, `<text class="plabel" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x+dx, y-6, anchor, esc(s.labels[i]))
		}
	}
	b.WriteString("</g>")
}

// free says whether a point label at (x, y) keeps clear of the labels
// placed: labels that would overlap are left out (the point's hover text
// still names it).
func free(placed [][2]float64, x, y float64) bool {
	for _, p := range placed {
		if math.Abs(p[0]-x) < 44 && math.Abs(p[1]-y) < 14 {
			return false
		}
	}
	return true
}

func bars(b *strings.Builder, s chartSeries, colour string, px, py func(float64) float64, width float64) {
	fmt.Fprintf(b, `<g class="series" fill="%s" fill-opacity="0.55">`, colour)
	for i := range s.xs {
		if s.ys[i] <= 0 {
			continue
		}
		x0, x1 := px(s.xs[i]-width/2), px(s.xs[i]+width/2)
		fmt.Fprintf(b, `<rect class="pt" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
			math.Max(padL, x0), py(s.ys[i]), math.Max(0.5, x1-math.Max(padL, x0)), py(0)-py(s.ys[i]), esc(s.tips[i]))
	}
	b.WriteString("</g>")
}

// legendRow is the height of a legend line.
const legendRow = 15

// legend lists the series below the chart, a line each, where it covers
// no data and has room for whole names.
func legend(b *strings.Builder, series []chartSeries) {
	b.WriteString(`<g class="legend">`)
	for i, s := range series {
		y := chartH + 10 + float64(i)*legendRow
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`,
			padL, y-9, seriesColours[i%len(seriesColours)], padL+15, y, esc(s.name))
	}
	b.WriteString("</g>")
}

// ticks are 0 and nice steps (1, 2 or 5 times a power of ten) up to the
// first at or above hi.
func ticks(hi float64) []float64 {
	if hi <= 0 {
		hi = 1
	}
	raw := hi / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []float64
	for i := 0; ; i++ {
		t := float64(i) * step
		ts = append(ts, t)
		if t >= hi*(1-1e-9) {
			return ts
		}
	}
}

// tickText writes t with the decimals its axis's step needs, so that no
// two ticks read the same.
func tickText(t float64, ts []float64) string {
	step := ts[1] - ts[0]
	d := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	return strconv.FormatFloat(t, 'f', d, 64)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func esc(s string) string { return html.EscapeString(s) }
