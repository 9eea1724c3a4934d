package plot

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	gplot "gonum.org/v1/plot"

	"servebench/internal/summary"
)

// svgText is a text element of gonum's SVG: position, size, text.
var svgText = regexp.MustCompile(`(?s)<text x="[^"]+" y="[^"]+"[^>]*font-size:(\d+)px">([^<]*)</text>`)

// svgAxes reads the tick labels of every axis of an SVG figure. gonum
// draws each axis as its label (11px) followed by its tick labels (10px,
// numbers); legends (10px too) are words.
func svgAxes(svg []byte) [][]string {
	var axes [][]string
	open := false
	for _, m := range svgText.FindAllSubmatch(svg, -1) {
		size, label := string(m[1]), string(m[2])
		_, err := strconv.ParseFloat(label, 64)
		switch {
		case size == "11":
			axes = append(axes, nil)
			open = true
		case open && size == "10" && err == nil:
			axes[len(axes)-1] = append(axes[len(axes)-1], label)
		default:
			open = false
		}
	}
	return axes
}

// tightFigure is a sweep whose TPOT spreads over 0.03 ms and whose TTFTs
// sit within 0.02 ms: gonum alone labelled every tick of such axes "10"
// or "14".
func tightFigure() *Figure {
	fig := &Figure{Title: "tight"}
	for i, name := range []string{"c=1", "c=2"} {
		d := float64(i) * 0.01
		fig.Series = append(fig.Series, Series{Name: name, TTFT: []float64{9.99 + d, 10 + d, 10.01 + d}, Latency: []float64{100.1, 100.2 + d}, ITLs: []float64{13.49, 13.5 + d, 13.52}})
	}
	c := Curve{Name: "sweep"}
	for i, conc := range []int{1, 2, 4, 8, 16} {
		d := float64(i) * 0.0075
		c.Points = append(c.Points, Point{Point: summary.Point{Concurrency: conc}, OutputTokPerS: 496 + d,
			TTFTP50: 32.31, TTFTP99: 34 + d, TPOTP50: 13.49 + d, TPOTP99: 13.52 + d})
	}
	fig.Curves = []Curve{c}
	return fig
}

// TestSVGTickLabelsDistinct reads the SVG of each figure and checks that
// every axis has tick labels and that no two of one axis read the same.
func TestSVGTickLabelsDistinct(t *testing.T) {
	for name, fig := range map[string]*Figure{"test": testFigure(), "tight": tightFigure(), "no sweep": {Series: tightFigure().Series}} {
		var buf bytes.Buffer
		if err := Render(&buf, ".svg", fig); err != nil {
			t.Fatal(err)
		}
		panels, _ := fig.panels()
		axes := svgAxes(buf.Bytes())
		if len(axes) != 2*len(panels) {
			t.Fatalf("%s: %d axes read from the SVG, want %d: %q", name, len(axes), 2*len(panels), axes)
		}
		for i, labels := range axes {
			if len(labels) < 2 {
				t.Errorf("%s: axis %d has tick labels %q", name, i, labels)
			}
			seen := map[string]bool{}
			for _, l := range labels {
				if seen[l] {
					t.Errorf("%s: axis %d reads %q twice: %q", name, i, l, labels)
				}
				seen[l] = true
			}
		}
	}
}

// TestDistinctLabels: ticks gonum would label alike get the decimals that
// tell them apart.
func TestDistinctLabels(t *testing.T) {
	ticks := trimmedTicks{gplot.DefaultTicks{}}.Ticks(13.49, 13.52)
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if len(labels) < 2 || !labelsDistinct(ticks) {
		t.Errorf("labels %q", labels)
	}
}
