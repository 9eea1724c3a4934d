package plot

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"servebench/internal/openai"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

// GroupsFigure draws summarized groups (with their Samples): one series per
// group, and one curve per run that swept several load points. More groups
// than a plot has colours (a cron history) are pooled per load point
// instead. The warnings say what was pooled or left out.
func GroupsFigure(groups []summary.Group) (*Figure, []string) {
	var warnings []string
	fig := &Figure{Title: "servebench: " + runsTitle(groups)}
	names := seriesNames(groups)
	if len(groups) > MaxSeries {
		pooled, pooledNames := poolByPoint(groups)
		warnings = append(warnings, fmt.Sprintf("%d groups are too many lines for one plot: drawing one per load point (%d), pooled over runs", len(groups), len(pooled)))
		groups, names = pooled, pooledNames
		if len(groups) > MaxSeries {
			warnings = append(warnings, fmt.Sprintf("still %d load points: drawing the first %d", len(groups), MaxSeries))
			groups, names = groups[:MaxSeries], names[:MaxSeries]
		}
	}
	for i := range groups {
		fig.Series = append(fig.Series, series(names[i], &groups[i]))
	}
	fig.Curves, warnings = sweeps(groups, warnings)
	return fig, warnings
}

// sweeps returns a curve per run with several load points, in run order.
func sweeps(groups []summary.Group, warnings []string) ([]Curve, []string) {
	var order []string
	points := make(map[string][]Point)
	for i := range groups {
		id := groups[i].RunID
		if _, ok := points[id]; !ok {
			order = append(order, id)
		}
		points[id] = append(points[id], point(&groups[i]))
	}
	var curves []Curve
	for _, id := range order {
		if len(points[id]) > 1 {
			curves = append(curves, Curve{Name: id, Points: points[id]})
		}
	}
	if len(curves) > MaxSeries {
		warnings = append(warnings, fmt.Sprintf("%d sweeps: drawing the last %d", len(curves), MaxSeries))
		curves = curves[len(curves)-MaxSeries:]
	}
	if len(curves) == 1 {
		curves[0].Name = "" // the figure's title names the run
	}
	return curves, warnings
}

// SidesFigure draws a comparison of the sides named names, each its
// groups (with their Samples): a series per side and load point, and a
// curve per side when the sides swept several load points.
func SidesFigure(names [2]string, sides [2][]summary.Group) (*Figure, []string) {
	var warnings []string
	fig := &Figure{Title: fmt.Sprintf("servebench: %s vs %s", names[0], names[1])}
	var pooled [2][]summary.Group
	var pointNames [2][]string
	for i := range sides {
		pooled[i], pointNames[i] = poolByPoint(sides[i])
	}
	if len(pooled[0])+len(pooled[1]) > MaxSeries {
		warnings = append(warnings, fmt.Sprintf("%d load points: drawing the first %d of each side", len(pooled[0]), MaxSeries/2))
	}
	for i := range sides {
		var curve Curve
		for j := range pooled[i] {
			if j < MaxSeries/2 {
				name := names[i]
				if len(pooled[0]) > 1 || len(pooled[1]) > 1 {
					name += " " + pointNames[i][j]
				}
				fig.Series = append(fig.Series, series(name, &pooled[i][j]))
			}
			curve.Points = append(curve.Points, point(&pooled[i][j]))
		}
		if len(curve.Points) > 1 {
			curve.Name = names[i]
			fig.Curves = append(fig.Curves, curve)
		}
	}
	return fig, warnings
}

func series(name string, g *summary.Group) Series {
	return Series{Name: name, TTFT: g.Samples[summary.TTFT], Latency: g.Samples[summary.Latency], ITLs: g.Samples[summary.ITL]}
}

// point is a group as a point of a sweep: its throughput (output tokens,
// or input tokens for embeddings, as the report's table shows it) and the
// median and p99 of its TTFT and TPOT, as the report computes them.
func point(g *summary.Group) Point {
	pt := Point{Point: g.Point, OutputTokPerS: throughput(g), Input: embeddings(g)}
	pt.TTFTP50, pt.TTFTP99 = medianP99(g.Samples[summary.TTFT])
	pt.TPOTP50, pt.TPOTP99 = medianP99(g.Samples[summary.TPOT])
	return pt
}

// embeddings says whether g is an embeddings group, which generates
// nothing: its throughput is its input tokens'.
func embeddings(g *summary.Group) bool { return g.Endpoint == openai.EndpointEmbeddings }

// throughput is g's tokens per second: output, or input for embeddings.
func throughput(g *summary.Group) float64 {
	if embeddings(g) {
		return g.InputTokPerS
	}
	return g.OutputTokPerS
}

func medianP99(sorted []float64) (float64, float64) {
	return stats.Median(sorted), stats.Percentile(sorted, 99)
}

// poolByPoint merges the groups of each load point (label, concurrency,
// rate) into one, in the order the points first ran: their samples are
// pooled, and the throughput is the median over the runs.
func poolByPoint(groups []summary.Group) ([]summary.Group, []string) {
	var out []summary.Group
	var tput [][]float64
	index := make(map[summary.Point]int)
	for i := range groups {
		g := &groups[i]
		j, ok := index[g.Point]
		if !ok {
			j = len(out)
			index[g.Point] = j
			pooled := *g
			pooled.Samples = [summary.NumMetrics][]float64{} // filled below, from every run
			out = append(out, pooled)
			tput = append(tput, nil)
		}
		for m := range g.Samples {
			out[j].Samples[m] = append(out[j].Samples[m], g.Samples[m]...)
		}
		tput[j] = append(tput[j], throughput(g))
	}
	names := make([]string, len(out))
	for j := range out {
		for m := range out[j].Samples {
			slices.Sort(out[j].Samples[m])
		}
		median, _, _ := stats.MedianCI(tput[j])
		if embeddings(&out[j]) {
			out[j].InputTokPerS = median
		} else {
			out[j].OutputTokPerS = median
		}
		out[j].RunID = out[j].Label // a pooled group stands for its load point
		names[j] = pointName(&out[j])
	}
	return out, names
}

// seriesNames names each group by what tells it apart from the others:
// its label, concurrency and rate when they differ, its run id when those
// do not tell the groups apart.
func seriesNames(groups []summary.Group) []string {
	differ := func(f func(*summary.Group) string) bool {
		for i := range groups {
			if f(&groups[i]) != f(&groups[0]) {
				return true
			}
		}
		return false
	}
	label := differ(func(g *summary.Group) string { return g.Label })
	conc := differ(func(g *summary.Group) string { return strconv.Itoa(g.Concurrency) })
	rate := differ(func(g *summary.Group) string { return strconv.FormatFloat(g.Rate, 'f', -1, 64) })
	seen := make(map[summary.Point]int)
	for i := range groups {
		seen[groups[i].Point]++
	}
	runs := runNames(groups)
	names := make([]string, len(groups))
	for i := range groups {
		g := &groups[i]
		var parts []string
		if seen[g.Point] > 1 || len(groups) == 1 && g.Label == "" {
			parts = append(parts, runs[g.RunID])
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

// runNames names each run by the part of its id that differs: genload's
// ids share their time stamp's head and end in a random suffix, which a
// legend cut in the middle would hide. The suffix ("#6d2fe2") when the
// runs' suffixes all differ, else the whole id.
func runNames(groups []summary.Group) map[string]string {
	names := make(map[string]string)
	tails := make(map[string]bool)
	short := true
	for i := range groups {
		id := groups[i].RunID
		if _, ok := names[id]; ok {
			continue
		}
		names[id] = id
		if len(id) <= 7 || tails[id[len(id)-6:]] {
			short = false
			continue
		}
		tails[id[len(id)-6:]] = true
	}
	if short && len(names) > 1 {
		for id := range names {
			names[id] = "#" + id[len(id)-6:]
		}
	}
	return names
}

// pointName names a load point: "throughput c=8", "sweep 2.5 req/s".
func pointName(g *summary.Group) string {
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
func runsTitle(groups []summary.Group) string {
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
