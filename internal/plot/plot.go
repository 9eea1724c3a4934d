// Package plot draws the pictures of benchmark runs: latency CDFs, an ITL
// histogram and, for sweeps, throughput against latency. GroupsFigure and
// SidesFigure make a Figure of summarize's results (package summary's
// groups with their samples); Render and Write draw a Figure into one PNG
// or SVG file with a panel per picture, using gonum.org/v1/plot.
//
// Every panel has labelled axes with units and a legend; colours come from
// the Okabe-Ito palette, which stays distinguishable for colour-blind
// readers and on paper.
package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"servebench/internal/summary"
)

// Series is one line of the distribution panels: a group of one run, or
// the runs of one side of a comparison. Samples are in milliseconds; they
// need not be sorted.
type Series struct {
	Name                string
	TTFT, Latency, ITLs []float64
}

// Curve is a sweep: the load points of one run (or side) in the order they
// were run, drawn as output throughput against latency. A lone curve may
// have no name: its legend then says only p50 and p99.
type Curve struct {
	Name   string
	Points []Point
}

// Point is one load point of a sweep and what it reached there. Latencies
// are in milliseconds, NaN when the point has none (TTFT of a run that did
// not stream).
type Point struct {
	summary.Point
	// OutputTokPerS is the throughput drawn: output tokens per second, or
	// with Input (an embeddings group, which generates nothing) input
	// tokens per second.
	OutputTokPerS    float64
	Input            bool
	TTFTP50, TTFTP99 float64
	TPOTP50, TPOTP99 float64
}

// Figure is everything drawn into one file.
type Figure struct {
	Title  string
	Series []Series
	Curves []Curve
	// ClientTime and ServerTime are the timeline panels (AddTimelines):
	// client tok/s per --slice slice, the server's running and waiting.
	ClientTime []Timeline
	ServerTime []Timeline
	// Capacities are capacity searches: a panel of goodput ratio against
	// load, with the threshold.
	Capacities []summary.Capacity
}

// Size of the picture: two panels a row, each PanelWidth by PanelHeight
// pixels at DPI dots per inch (an SVG has the same size in points * 96/72).
const (
	PanelWidth  = 700
	PanelHeight = 480
	DPI         = 96
	columns     = 2
)

// Formats are the file types Write knows, by extension.
var Formats = []string{".png", ".svg"}

// ErrNothingToDraw means the figure has no panel: no samples at all.
var ErrNothingToDraw = errors.New("nothing to plot: no successful requests")

// Write draws fig into the file at path, a .png or .svg. The file is
// written whole or not at all: drawing happens first, in memory.
func Write(path string, fig *Figure) error {
	ext := strings.ToLower(filepath.Ext(path))
	var buf bytes.Buffer
	if err := Render(&buf, ext, fig); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Render draws fig to w in format ".png" or ".svg".
func Render(w io.Writer, format string, fig *Figure) error {
	panels, err := fig.panels()
	if err != nil {
		return err
	}
	rows := (len(panels) + columns - 1) / columns
	width := vg.Length(columns*PanelWidth) * vg.Inch / DPI
	height := vg.Length(rows*PanelHeight) * vg.Inch / DPI
	title := vg.Length(0)
	if fig.Title != "" {
		title = vg.Length(40) * vg.Inch / DPI
		height += title
	}
	var canvas vg.CanvasWriterTo
	switch format {
	case ".png":
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))}
	case ".svg":
		canvas = vgsvg.New(width, height)
	default:
		return fmt.Errorf("plot format %q: want %s", format, strings.Join(Formats, " or "))
	}
	dc := draw.New(canvas)
	dc.SetColor(color.White) // SVG has no background of its own
	dc.Fill(dc.Rectangle.Path())
	if fig.Title != "" {
		drawTitle(dc, fig.Title, title)
		dc.Max.Y -= title
	}
	// A row at a time, so that a last row of one panel gets the whole
	// width: no empty panel beside it.
	tiles := draw.Tiles{Rows: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	rowHeight := (dc.Max.Y - dc.Min.Y) / vg.Length(rows)
	strip := vg.Length(-1)
	for r := range rows {
		row := panels[r*columns : min(len(panels), (r+1)*columns)]
		sub := dc
		sub.Max.Y = dc.Max.Y - vg.Length(r)*rowHeight
		sub.Min.Y = sub.Max.Y - rowHeight
		tiles.Cols = len(row)
		canvases := gplot.Align([][]*gplot.Plot{row}, tiles, sub)
		if strip < 0 {
			strip = legendWidth(panels, canvases[0][0])
		}
		for i, p := range row {
			drawPanel(p, canvases[0][i], strip)
		}
	}
	_, err = canvas.WriteTo(w)
	return err
}

// legendWidth is the width of the strip right of every panel that holds its
// legend, so that no legend covers a line: the widest legend's (entries are
// at most maxLegend characters), at most 40% of a panel. Every panel gets the same strip, which keeps the data
// areas of a column aligned.
func legendWidth(panels []*gplot.Plot, c draw.Canvas) vg.Length {
	var w vg.Length
	for _, p := range panels {
		r := p.Legend.Rectangle(c)
		w = max(w, r.Max.X-r.Min.X)
	}
	return min(w+vg.Millimeter*3, (c.Max.X-c.Min.X)*2/5)
}

// drawPanel draws p with its legend moved into a strip on its right,
// starting level with the top of the data area.
func drawPanel(p *gplot.Plot, c draw.Canvas, strip vg.Length) {
	legend := p.Legend
	p.Legend = gplot.NewLegend()
	data := c
	data.Max.X -= strip
	p.Draw(data)
	side := c
	side.Min.X = data.Max.X + vg.Millimeter*3
	side.Max.Y -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	legend.Top, legend.Left = true, true
	legend.XOffs, legend.YOffs = 0, 0
	legend.Draw(side)
}

func drawTitle(dc draw.Canvas, title string, height vg.Length) {
	sty := gplot.New().Title.TextStyle
	sty.Font.Size = vg.Points(15)
	sty.Font.Variant = "Sans"
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YCenter
	dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - height/2}, title)
}

// panels builds the plots that have data, in reading order.
func (fig *Figure) panels() ([]*gplot.Plot, error) {
	var ps []*gplot.Plot
	add := func(p *gplot.Plot, err error) error {
		if p != nil {
			ps = append(ps, p)
		}
		return err
	}
	for _, build := range []func() (*gplot.Plot, error){
		func() (*gplot.Plot, error) {
			return cdf("Time to first token: CDF", "TTFT (ms)", fig.Series, func(s *Series) []float64 { return s.TTFT })
		},
		func() (*gplot.Plot, error) {
			return cdf("End-to-end latency: CDF", "latency (ms)", fig.Series, func(s *Series) []float64 { return s.Latency })
		},
		func() (*gplot.Plot, error) { return histogram(fig.Series) },
		func() (*gplot.Plot, error) {
			return sweep("Output throughput vs TTFT", "TTFT (ms)", fig.Curves, func(p Point) (float64, float64) { return p.TTFTP50, p.TTFTP99 })
		},
		func() (*gplot.Plot, error) {
			return sweep("Output throughput vs TPOT", "TPOT (ms)", fig.Curves, func(p Point) (float64, float64) { return p.TPOTP50, p.TPOTP99 })
		},
		func() (*gplot.Plot, error) {
			return timeline("Client output throughput over time (per slice)", "output tok/s", fig.ClientTime)
		},
		func() (*gplot.Plot, error) {
			return timeline("Server requests over time (running solid, waiting dashed)", "requests", fig.ServerTime)
		},
		func() (*gplot.Plot, error) { return capacityPanel(fig.Capacities) },
	} {
		if err := add(build()); err != nil {
			return nil, err
		}
	}
	if len(ps) == 0 {
		return nil, ErrNothingToDraw
	}
	return ps, nil
}

// palette is Okabe and Ito's colour-blind-safe set, without its yellow,
// which is unreadable on white.
var palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xFF}, // blue
	color.RGBA{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	color.RGBA{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	color.RGBA{0xE6, 0x9F, 0x00, 0xFF}, // orange
	color.RGBA{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	color.RGBA{0x00, 0x00, 0x00, 0xFF}, // black
}

// MaxSeries is the number of distinct colours: more lines than this in one
// panel cannot be told apart, so callers pool them first.
var MaxSeries = len(palette)

func colour(i int) color.Color { return palette[i%len(palette)] }

// newPlot is a panel with the common look: a sans-serif face throughout
// (set per plot, not through gonum's process-wide default), title, axis
// labels and the legend in the top left corner unless moved.
func newPlot(title, x, y string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	for _, s := range []struct {
		style *text.Style
		size  float64
	}{
		{&p.Title.TextStyle, 13}, {&p.X.Label.TextStyle, 11}, {&p.Y.Label.TextStyle, 11},
		{&p.X.Tick.Label, 10}, {&p.Y.Tick.Label, 10}, {&p.Legend.TextStyle, 10},
	} {
		s.style.Font.Variant = "Sans"
		s.style.Font.Size = vg.Points(s.size)
	}
	p.X.Tick.Marker = trimmedTicks{gplot.DefaultTicks{}}
	p.Y.Tick.Marker = trimmedTicks{gplot.DefaultTicks{}}
	return p
}

// trimmedTicks writes tick labels without trailing zeros (125, not
// 125.00), and with enough decimals that no two read the same.
type trimmedTicks struct{ gplot.Ticker }

func (t trimmedTicks) Ticks(lo, hi float64) []gplot.Tick {
	ticks := t.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if strings.Contains(ticks[i].Label, ".") && !strings.ContainsAny(ticks[i].Label, "eE") {
			ticks[i].Label = strings.TrimSuffix(strings.TrimRight(ticks[i].Label, "0"), ".")
		}
	}
	return distinctLabels(ticks)
}

// distinctLabels relabels the labelled ticks with as many decimals as it
// takes for no two to read the same: gonum rounds labels to a few
// significant digits, so that 13.49, 13.5 and 13.51 all read "14".
func distinctLabels(ticks []gplot.Tick) []gplot.Tick {
	for d := 1; !labelsDistinct(ticks) && d <= 12; d++ {
		for i := range ticks {
			if ticks[i].Label != "" {
				ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', d, 64)
			}
		}
	}
	return ticks
}

func labelsDistinct(ticks []gplot.Tick) bool {
	seen := make(map[string]bool, len(ticks))
	for _, t := range ticks {
		if t.Label == "" {
			continue
		}
		if seen[t.Label] {
			return false
		}
		seen[t.Label] = true
	}
	return true
}

// logTicks marks a logarithmic axis at 1, 2 and 5 times each power of ten
// (labelled) and at the other multiples (unlabelled): gonum's LogTicks
// labels only the powers, which leaves a latency axis from 40 to 900 ms
// with a single number on it.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	var ticks []gplot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := gplot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
