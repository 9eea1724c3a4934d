package report

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"servebench/internal/openai"
	"servebench/internal/summary"
)

// tableColumns are the answer-first table's columns after the load
// point's name: what a person asks first of every load point, in at most
// 100 columns.
var tableColumns = []tableColumn{
	{"req", 6, func(g *summary.Group, _ []float64) string { return strconv.Itoa(g.Requests) }},
	{"fail", 5, func(g *summary.Group, _ []float64) string { return strconv.Itoa(g.Failed) }},
	{"req/s", 8, func(g *summary.Group, _ []float64) string { return num(g.ReqPerS, 2) }},
	{"tok/s", 8, tokPerS},
	{"TTFT p50", 9, pick(summary.TTFT, 50)},
	{"p99", 7, pick(summary.TTFT, 99)},
	{"TPOT p50", 9, pick(summary.TPOT, 50)},
	{"ITL p99", 8, pick(summary.ITL, 99)},
	{"E2E p50", 8, pick(summary.Latency, 50)},
	{"p99", 8, pick(summary.Latency, 99)},
}

type tableColumn struct {
	head  string
	width int
	value func(g *summary.Group, ps []float64) string
}

// tokPerS is the table's tok/s cell: tokPerSOf, rounded.
func tokPerS(g *summary.Group, _ []float64) string { return num(tokPerSOf(g), 0) }

// tokPerSOf is the throughput in tokens a report shows for g: output
// tokens per second, or for embeddings (which generate nothing) input
// tokens per second.
func tokPerSOf(g *summary.Group) float64 {
	if g.Endpoint == openai.EndpointEmbeddings {
		return g.InputTokPerS
	}
	return g.OutputTokPerS
}

// ttfoColumn joins the table, after TTFT's, when some group's TTFO is not
// a copy of its TTFT (a reasoning model); the name column then gives up
// its width, so that rows stay within 100 columns.
var ttfoColumn = tableColumn{"TTFO p50", 9, pick(summary.TTFO, 50)}

// tableNameWidth is the width of the first column, the load point's name.
const tableNameWidth = 24

// columns are the table's columns for groups, and the width of the name
// column.
func columns(groups []summary.Group) ([]tableColumn, int) {
	for i := range groups {
		if groups[i].TTFODiffers() {
			cols := slices.Clone(tableColumns)
			at := slices.IndexFunc(cols, func(c tableColumn) bool { return c.head == "TPOT p50" })
			return slices.Insert(cols, at, ttfoColumn), tableNameWidth - ttfoColumn.width
		}
	}
	return tableColumns, tableNameWidth
}

// pick is a column of metric m's percentile p, in ms; "-" when the group
// has no samples or the report did not compute that percentile.
func pick(m summary.Metric, p float64) func(*summary.Group, []float64) string {
	return func(g *summary.Group, ps []float64) string {
		s := g.Metrics[m]
		if s == nil {
			return "-"
		}
		if p == 50 {
			return num(s.Median, 2)
		}
		for i, q := range ps {
			if q == p && i < len(s.Percentiles) {
				return num(s.Percentiles[i], 2)
			}
		}
		return "-"
	}
}

// writeTable writes the answer first: one row per group with its counts,
// throughput and the latencies people look at (milliseconds), under a
// header naming the model and server once when all groups share them.
func writeTable(buf *bytes.Buffer, rep *summary.Report, p palette) {
	if len(rep.Groups) == 0 {
		return
	}
	fmt.Fprintln(buf, p.bold.Sprint(tableTitle(rep.Groups)))
	cols, nameWidth := columns(rep.Groups)
	var head strings.Builder
	fmt.Fprintf(&head, "%-*s", nameWidth, "load point")
	for _, c := range cols {
		fmt.Fprintf(&head, "%*s", c.width, c.head)
	}
	fmt.Fprintln(buf, p.bold.Sprint(head.String()))
	names := rowNames(rep.Groups)
	for i := range rep.Groups {
		g := &rep.Groups[i]
		var row strings.Builder
		fmt.Fprintf(&row, "%-*s", nameWidth, clip(names[i], nameWidth-1))
		for _, c := range cols {
			fmt.Fprintf(&row, "%*s", c.width, c.value(g, rep.Percentiles))
		}
		line := row.String()
		if g.Failed > 0 {
			line = p.red.Sprint(line)
		}
		fmt.Fprintln(buf, line)
	}
	if len(cols) > len(tableColumns) {
		fmt.Fprintln(buf, "(ms: TTFT to the first token, TTFO to the first answer token, TPOT per output token after the first,")
		fmt.Fprintln(buf, " ITL between tokens, E2E whole request)")
	} else {
		fmt.Fprintln(buf, "(ms: TTFT to the first token, TPOT per output token after it, ITL between tokens, E2E whole request)")
	}
	if slices.ContainsFunc(rep.Groups, func(g summary.Group) bool { return g.Endpoint == openai.EndpointEmbeddings }) {
		fmt.Fprintln(buf, "(embeddings: tok/s counts input tokens, since nothing is generated; TTFT, TPOT and ITL do not apply)")
	}
	fmt.Fprintln(buf)
}

// tableTitle names what the groups share: "llmsim/tiny on
// http://127.0.0.1:8000, completions (streaming)".
func tableTitle(groups []summary.Group) string {
	g := groups[0]
	same := func(f func(*summary.Group) string) string {
		v := f(&groups[0])
		for i := range groups {
			if f(&groups[i]) != v {
				return "(several)"
			}
		}
		return orDash(v)
	}
	model := same(func(g *summary.Group) string { return g.Model })
	server := same(func(g *summary.Group) string { return g.Server })
	mode := map[bool]string{true: "streaming", false: "not streaming"}[g.Stream]
	return fmt.Sprintf("%s on %s, %s (%s)", model, server, same(func(g *summary.Group) string { return g.Endpoint }), mode)
}

// rowNames name each group by its label and load point ("latency c=1",
// "sweep 4 req/s"), with the run's id when two rows would read the same.
func rowNames(groups []summary.Group) []string {
	names := make([]string, len(groups))
	count := map[string]int{}
	for i := range groups {
		names[i] = pointName(&groups[i])
		count[names[i]]++
	}
	for i := range groups {
		if count[names[i]] > 1 {
			names[i] = runTail(groups[i].RunID) + " " + names[i]
		}
	}
	return names
}

func pointName(g *summary.Group) string {
	var pt string
	switch {
	case g.Rate > 0 && g.Concurrency > 0:
		pt = fmt.Sprintf("%s/s c<=%d", strconv.FormatFloat(g.Rate, 'f', -1, 64), g.Concurrency)
	case g.Rate > 0:
		pt = strconv.FormatFloat(g.Rate, 'f', -1, 64) + "/s"
	default:
		pt = fmt.Sprintf("c=%d", g.Concurrency)
	}
	if g.Model != "" && g.Point.Model != "" { // a run that mixed models
		pt += " " + g.Model
	}
	if g.By != "" { // summarize --by
		pt += " " + g.By
	}
	if g.Label == "" {
		return pt
	}
	return g.Label + " " + pt
}

// runTail is the distinguishing end of a run id (genload's end in a
// random suffix): "#e1866c".
func runTail(id string) string {
	if len(id) <= 7 {
		return id
	}
	return "#" + id[len(id)-6:]
}

// clip cuts s to n bytes, marking the cut with "~" (ASCII, so that the
// columns stay aligned).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "~"
}

// num formats v with d decimals; "-" for none.
func num(v float64, d int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}
