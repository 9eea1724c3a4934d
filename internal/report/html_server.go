package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	sm "servebench/internal/servermetrics"
	"servebench/internal/summary"
)

// htmlServer is a side's server-metrics table: per load point what the
// server published during its window (summary.ServerStats), the client's
// figure beside the server's where both measure the same thing. Nothing
// when no group has samples.
func htmlServer(b *strings.Builder, s *HTMLSide) {
	rep := s.Report
	if !slices.ContainsFunc(rep.Groups, func(g summary.Group) bool { return g.ServerMetrics != nil }) {
		return
	}
	fmt.Fprintf(b, "<section class=\"server\" id=\"server-metrics\"><h2>Server metrics%s</h2>\n", esc(sideTitle(s)))
	b.WriteString("<p class=\"hint\">What the server published on /metrics during each load point's window (genload --server-metrics); client figures in brackets. The difference between the client's TTFT and the server's is the network and the client.</p>\n<table class=\"headline\">\n")
	b.WriteString("<tr><th>load point</th><th>samples</th><th>running mean / max</th><th>waiting mean / max</th><th>KV cache usage mean / max</th><th>prefix-cache hit rate</th><th>preemptions</th><th>gen tok/s (client)</th><th>TTFT ms (client)</th><th>queue ms</th><th>ITL ms (client)</th></tr>\n")
	names := rowNames(rep.Groups)
	for i := range rep.Groups {
		g := &rep.Groups[i]
		sv := g.ServerMetrics
		if sv == nil {
			continue
		}
		client := func(m summary.Metric) string {
			if st := g.Metrics[m]; st != nil {
				return " (" + num(st.Mean, 2) + ")"
			}
			return ""
		}
		fmt.Fprintf(b, "<tr><td title=\"%s\">%s</td><td class=\"n\">%d</td><td class=\"n\">%s / %s</td><td class=\"n\">%s / %s</td><td class=\"n\">%s / %s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s (%s)</td><td class=\"n\">%s%s</td><td class=\"n\">%s</td><td class=\"n\">%s%s</td></tr>\n",
			esc(g.String()), esc(names[i]), sv.Samples, num(sv.RunningMean, 2), num(sv.RunningMax, 2), num(sv.WaitingMean, 2), num(sv.WaitingMax, 2),
			num(sv.KVCacheUsageMean, 2), num(sv.KVCacheUsageMax, 2), num(sv.PrefixCacheHitRate, 3), num(sv.Preemptions, 0),
			num(sv.GenTokPerS, 1), num(g.OutputTokPerS, 1), num(sv.TTFTMeanMs, 2), client(summary.TTFT), num(sv.QueueMeanMs, 2), num(sv.ITLMeanMs, 2), client(summary.ITL))
	}
	b.WriteString("</table></section>\n")
}

// serverTimeline draws the server's running and waiting requests over
// each run's time (seconds from the run's first sample), one line each per
// run and side; false without samples.
func serverTimeline(h *HTML) (chart, bool) {
	c := chart{id: "server-timeline", title: "Server: requests running and waiting over time", xLabel: "s from the run's first sample", yLabel: "requests"}
	for i := range h.Sides {
		s := &h.Sides[i]
		runs, byRun := sm.ByRun(s.Server)
		for _, id := range runs {
			ls := byRun[id]
			for _, gauge := range []string{sm.Running, sm.Waiting} {
				name := strings.TrimSpace(s.Name + " " + runTail(id) + " " + gauge)
				cs := chartSeries{name: name}
				for _, l := range thin(ls, curvePoints) {
					v, ok := l.Gauges[gauge]
					if !ok {
						continue
					}
					x := l.At.Sub(ls[0].At).Seconds()
					cs.xs, cs.ys = append(cs.xs, x), append(cs.ys, v)
					cs.tips = append(cs.tips, fmt.Sprintf("%s: %s at %.3f ms from the run's first sample", name, strconv.FormatFloat(v, 'f', -1, 64), x*1000))
				}
				if len(cs.xs) > 0 {
					c.series = append(c.series, cs)
				}
			}
		}
	}
	if n := len(seriesColours); len(c.series) > n {
		c.series = c.series[len(c.series)-n:]
		c.title += fmt.Sprintf(", the last %d lines", n)
	}
	return c, len(c.series) > 0
}

// thin keeps at most n samples, evenly spaced, the first and last
// included: a long run's timeline stays small.
func thin(ls []sm.Line, n int) []sm.Line {
	if len(ls) <= n {
		return ls
	}
	out := make([]sm.Line, 0, n)
	for i := range n {
		out = append(out, ls[int(math.Round(float64(i)*float64(len(ls)-1)/float64(n-1)))])
	}
	return out
}
