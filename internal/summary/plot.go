package summary

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"servebench/internal/compare"
	"servebench/internal/plot"
	"servebench/internal/report"
	"servebench/internal/stats"
)

// renderPlot draws fig in the format path's extension names, in memory:
// the file is written later, with the other outputs, so that a failure
// before then leaves no file behind. A figure with nothing to draw (every
// request failed) is a warning and no file, not a failure: the numbers are
// still reported, and a cron run should still log them.
func renderPlot(stderr io.Writer, path string, fig *plot.Figure, warnings []string) ([]byte, error) {
	for _, w := range warnings {
		fmt.Fprintf(stderr, "summarize: warning: --plot: %s\n", w)
	}
	var buf bytes.Buffer
	err := plot.Render(&buf, strings.ToLower(filepath.Ext(path)), fig)
	if errors.Is(err, plot.ErrNothingToDraw) {
		fmt.Fprintf(stderr, "summarize: warning: --plot %s: %v; no file written\n", path, err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--plot %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// writePlot writes a rendered picture, if there is one.
func writePlot(path string, picture []byte) error {
	if picture == nil {
		return nil
	}
	return os.WriteFile(path, picture, 0o644)
}

// groupsFigure draws summarized groups: one series per group, and one
// curve per run that swept several load points. More groups than a plot
// has colours (a cron history) are pooled per load point instead.
func groupsFigure(groups []Sampled) (*plot.Figure, []string) {
	var warnings []string
	fig := &plot.Figure{Title: "servebench: " + runsTitle(groups)}
	names := seriesNames(groups)
	if len(groups) > plot.MaxSeries {
		pooled, pooledNames := poolByPoint(groups)
		warnings = append(warnings, fmt.Sprintf("%d groups are too many lines for one plot: drawing one per load point (%d), pooled over runs", len(groups), len(pooled)))
		groups, names = pooled, pooledNames
		if len(groups) > plot.MaxSeries {
			warnings = append(warnings, fmt.Sprintf("still %d load points: drawing the first %d", len(groups), plot.MaxSeries))
			groups, names = groups[:plot.MaxSeries], names[:plot.MaxSeries]
		}
	}
	for i := range groups {
		fig.Series = append(fig.Series, series(names[i], &groups[i]))
	}
	fig.Curves, warnings = sweeps(groups, warnings)
	return fig, warnings
}

// sweeps returns a curve per run with several load points, in run order.
func sweeps(groups []Sampled, warnings []string) ([]plot.Curve, []string) {
	var order []string
	points := make(map[string][]plot.Point)
	for i := range groups {
		id := groups[i].RunID
		if _, ok := points[id]; !ok {
			order = append(order, id)
		}
		points[id] = append(points[id], point(&groups[i]))
	}
	var curves []plot.Curve
	for _, id := range order {
		if len(points[id]) > 1 {
			curves = append(curves, plot.Curve{Name: id, Points: points[id]})
		}
	}
	if len(curves) > plot.MaxSeries {
		warnings = append(warnings, fmt.Sprintf("%d sweeps: drawing the last %d", len(curves), plot.MaxSeries))
		curves = curves[len(curves)-plot.MaxSeries:]
	}
	if len(curves) == 1 {
		curves[0].Name = "" // the figure's title names the run
	}
	return curves, warnings
}

// sidesFigure draws a comparison: a series per side and load point, and a
// curve per side when the sides swept several load points.
func sidesFigure(sides []side, sampled [2][]Sampled) (*plot.Figure, []string) {
	var warnings []string
	fig := &plot.Figure{Title: fmt.Sprintf("servebench: %s vs %s", sides[0].name, sides[1].name)}
	var pooled [2][]Sampled
	var names [2][]string
	for i := range sides {
		pooled[i], names[i] = poolByPoint(sampled[i])
	}
	if len(pooled[0])+len(pooled[1]) > plot.MaxSeries {
		warnings = append(warnings, fmt.Sprintf("%d load points: drawing the first %d of each side", len(pooled[0]), plot.MaxSeries/2))
	}
	for i := range sides {
		var curve plot.Curve
		for j := range pooled[i] {
			if j < plot.MaxSeries/2 {
				name := sides[i].name
				if len(pooled[0]) > 1 || len(pooled[1]) > 1 {
					name += " " + names[i][j]
				}
				fig.Series = append(fig.Series, series(name, &pooled[i][j]))
			}
			curve.Points = append(curve.Points, point(&pooled[i][j]))
		}
		if len(curve.Points) > 1 {
			curve.Name = sides[i].name
			fig.Curves = append(fig.Curves, curve)
		}
	}
	return fig, warnings
}

func series(name string, g *Sampled) plot.Series {
	return plot.Series{Name: name, TTFT: g.Samples[report.TTFT], Latency: g.Samples[report.Latency], ITLs: g.Samples[report.ITL]}
}

// point is a group as a point of a sweep: its output throughput and the
// median and p99 of its TTFT and TPOT, as the report computes them.
func point(g *Sampled) plot.Point {
	pt := plot.Point{Concurrency: g.Concurrency, Rate: g.Rate, OutputTokPerS: g.OutputTokPerS}
	pt.TTFTP50, pt.TTFTP99 = medianP99(g.Samples[report.TTFT])
	pt.TPOTP50, pt.TPOTP99 = medianP99(g.Samples[report.TPOT])
	return pt
}

func medianP99(sorted []float64) (float64, float64) {
	return stats.Median(sorted), stats.Percentile(sorted, 99)
}

// poolByPoint merges the groups of each load point (label, concurrency,
// rate) into one, in the order the points first ran: their samples are
// pooled, and the throughput is the median over the runs.
func poolByPoint(groups []Sampled) ([]Sampled, []string) {
	var out []Sampled
	var tput [][]float64
	index := make(map[compare.Point]int)
	for i := range groups {
		g := &groups[i]
		k := compare.Point{Label: g.Label, Concurrency: g.Concurrency, Rate: g.Rate}
		j, ok := index[k]
		if !ok {
			j = len(out)
			index[k] = j
			out = append(out, Sampled{Group: g.Group})
			tput = append(tput, nil)
		}
		for m := range g.Samples {
			out[j].Samples[m] = append(out[j].Samples[m], g.Samples[m]...)
		}
		tput[j] = append(tput[j], g.OutputTokPerS)
	}
	names := make([]string, len(out))
	for j := range out {
		for m := range out[j].Samples {
			slices.Sort(out[j].Samples[m])
		}
		out[j].OutputTokPerS, _, _ = stats.MedianCI(tput[j])
		out[j].RunID = out[j].Label // a pooled group stands for its load point
		names[j] = pointName(&out[j].Group)
	}
	return out, names
}

// seriesNames names each group by what tells it apart from the others:
// its label, concurrency and rate when they differ, its run id when those
// do not tell the groups apart.
func seriesNames(groups []Sampled) []string {
	differ := func(f func(*report.Group) string) bool {
		for i := range groups {
			if f(&groups[i].Group) != f(&groups[0].Group) {
				return true
			}
		}
		return false
	}
	label := differ(func(g *report.Group) string { return g.Label })
	conc := differ(func(g *report.Group) string { return strconv.Itoa(g.Concurrency) })
	rate := differ(func(g *report.Group) string { return strconv.FormatFloat(g.Rate, 'f', -1, 64) })
	seen := make(map[compare.Point]int)
	for i := range groups {
		g := &groups[i]
		seen[compare.Point{Label: g.Label, Concurrency: g.Concurrency, Rate: g.Rate}]++
	}
	names := make([]string, len(groups))
	for i := range groups {
		g := &groups[i].Group
		var parts []string
		if seen[compare.Point{Label: g.Label, Concurrency: g.Concurrency, Rate: g.Rate}] > 1 || len(groups) == 1 && g.Label == "" {
			parts = append(parts, g.RunID)
		}
		if label || len(groups) == 1 {
			parts = append(parts, g.Label)
		}
		if conc {
			parts = append(parts, "c="+strconv.Itoa(g.Concurrency))
		}
		if rate {
			parts = append(parts, rateName(g.Rate))
		}
		names[i] = strings.TrimSpace(strings.Join(parts, " "))
		if names[i] == "" {
			names[i] = g.RunID
		}
	}
	return names
}

// pointName names a load point: "throughput c=8", "sweep 2.5 req/s".
func pointName(g *report.Group) string {
	name := g.Label + " c=" + strconv.Itoa(g.Concurrency)
	if g.Rate != 0 {
		name += " " + rateName(g.Rate)
	}
	return strings.TrimSpace(name)
}

func rateName(rate float64) string {
	if rate == 0 {
		return "unpaced"
	}
	return strconv.FormatFloat(rate, 'f', -1, 64) + " req/s"
}

// runsTitle names the runs of a figure: their ids when few, else a count.
func runsTitle(groups []Sampled) string {
	var ids []string
	seen := make(map[string]bool)
	for i := range groups {
		if id := groups[i].RunID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) <= 2 {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%d runs, %s to %s", len(ids), ids[0], ids[len(ids)-1])
}
