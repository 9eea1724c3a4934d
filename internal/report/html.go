package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"servebench/internal/compare"
	"servebench/internal/openai"
	"servebench/internal/record"
	"servebench/internal/servermetrics"
	"servebench/internal/summary"
)

// HTML is what WriteHTML draws: the runs of one input, or the two sides of
// a comparison and its result.
type HTML struct {
	Generated  time.Time
	Sides      []HTMLSide      // one when summarizing; old, then new, when comparing
	Comparison *compare.Result // nil unless comparing
}

// HTMLSide is one input: its report (groups with Samples, for the
// pictures) and the first distinct error messages of each group's
// failures, keyed by Group.String().
type HTMLSide struct {
	Name, From string // a comparison's side; "" when summarizing
	Report     *summary.Report
	Failures   map[string][]string
	// Server are the side's genload --server-metrics samples, for the
	// timeline; nil without.
	Server []servermetrics.Line
}

// curvePoints caps the points of a CDF line: a 1M-record run draws as
// many points as a 100-record one. The statistics in the tables come from
// every sample.
const curvePoints = 200

// histogramBins is the number of bars of the ITL histogram.
const histogramBins = 40

// WriteHTML writes one self-contained page: inline CSS, inline SVG and a
// little inline script for the hover tooltip, nothing fetched from
// anywhere, readable without the script and printable. The sections come
// in the order a reader needs them: the warnings that question the run,
// what was run, the headline table (and the comparison's verdicts), the
// server's metrics (when given), the pictures, then the failures with
// their first messages.
func WriteHTML(w io.Writer, h *HTML) error {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<style>%s</style></head><body>\n", esc(htmlTitle(h)), htmlCSS)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p class=\"when\">generated %s by servebench summarize</p>\n", esc(htmlTitle(h)), h.Generated.UTC().Format(time.RFC3339))
	htmlWarnings(&b, h)
	htmlRuns(&b, h)
	if h.Comparison != nil {
		htmlComparison(&b, h.Comparison)
	}
	for i := range h.Sides {
		htmlHeadline(&b, &h.Sides[i])
		htmlCapacities(&b, h.Sides[i].Report)
	}
	for i := range h.Sides {
		htmlServer(&b, &h.Sides[i])
	}
	htmlCharts(&b, h)
	htmlFailures(&b, h)
	fmt.Fprintf(&b, "<div id=\"tip\" hidden></div>\n<script>%s</script>\n</body></html>\n", htmlScript)
	_, err := io.WriteString(w, b.String())
	return err
}

func htmlTitle(h *HTML) string {
	if c := h.Comparison; c != nil {
		return "servebench comparison: " + c.Old + " vs " + c.New
	}
	groups := h.Sides[0].Report.Groups
	if len(groups) == 0 {
		return "servebench report"
	}
	return "servebench report: " + tableTitle(groups)
}

// sideTitle heads a side's sections in a comparison.
func sideTitle(s *HTMLSide) string {
	if s.Name == "" {
		return ""
	}
	return fmt.Sprintf(" — %s (%s)", s.Name, s.From)
}

// htmlWarnings puts every caveat at the top, where it cannot be missed:
// the input's, each group's (alerts first) and the comparison's.
func htmlWarnings(b *strings.Builder, h *HTML) {
	var items []string
	for i := range h.Sides {
		s := &h.Sides[i]
		prefix := ""
		if s.Name != "" {
			prefix = s.Name + ": "
		}
		for _, w := range s.Report.Warnings {
			items = append(items, prefix+w)
		}
		for j := range s.Report.Groups {
			g := &s.Report.Groups[j]
			for _, w := range g.Warnings {
				items = append(items, prefix+g.String()+": "+w)
			}
		}
	}
	if h.Comparison != nil {
		items = append(items, CompareWarnings(h.Comparison)...)
	}
	if len(items) == 0 {
		return
	}
	b.WriteString("<section id=\"warnings\" class=\"warnings\"><h2>Warnings: read these first</h2><ul>\n")
	for _, it := range items {
		fmt.Fprintf(b, "<li>%s</li>\n", esc(it))
	}
	b.WriteString("</ul></section>\n")
}

// htmlRuns says what was run: a row per run with its model, server,
// endpoint, load points, start, measured time and requests.
func htmlRuns(b *strings.Builder, h *HTML) {
	b.WriteString("<section id=\"runs\"><h2>What was run</h2>\n")
	for i := range h.Sides {
		s := &h.Sides[i]
		fmt.Fprintf(b, "<table class=\"runs\"><caption>%d records read, %d bad lines%s</caption>\n", s.Report.Records, s.Report.BadLines, esc(sideTitle(s)))
		b.WriteString("<tr><th>run id</th><th>model</th><th>server</th><th>endpoint</th><th>max tokens</th><th>load points</th><th>started (UTC)</th><th>measured s</th><th>requests</th><th>warmup</th></tr>\n")
		for _, run := range runsOf(s.Report.Groups) {
			g := run[0]
			mode := map[bool]string{true: "streaming", false: "not streaming"}[g.Stream]
			var points []string
			duration, requests, warmup := 0.0, 0, 0
			for _, pg := range run {
				points = append(points, pointName(pg))
				if !math.IsNaN(pg.DurationS) {
					duration += pg.DurationS
				}
				requests += pg.Requests
				warmup += pg.Warmup
			}
			fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s (%s)</td><td class=\"n\">%d</td><td>%s</td><td>%s</td><td class=\"n\">%.2f</td><td class=\"n\">%d</td><td class=\"n\">%d</td></tr>\n",
				esc(g.RunID), esc(orDash(g.Model)), esc(orDash(g.Server)), esc(orDash(g.Endpoint)), mode, g.MaxTokens, esc(strings.Join(points, ", ")), instantText(g.StartTime), duration, requests, warmup)
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</section>\n")
}

// runsOf groups the load points by run, in the order the runs start.
func runsOf(groups []summary.Group) [][]*summary.Group {
	var runs [][]*summary.Group
	index := map[string]int{}
	for i := range groups {
		g := &groups[i]
		j, ok := index[g.RunID]
		if !ok {
			j = len(runs)
			index[g.RunID] = j
			runs = append(runs, nil)
		}
		runs[j] = append(runs[j], g)
	}
	return runs
}

// htmlHeadline is the answer-first table of one side: a row per load point.
func htmlHeadline(b *strings.Builder, s *HTMLSide) {
	rep := s.Report
	fmt.Fprintf(b, "<section class=\"headline\"><h2>Load points%s</h2>\n<table class=\"headline\">\n", esc(sideTitle(s)))
	// TTFO joins TTFT when it is not a copy of it (a reasoning model), as
	// in the text table.
	metrics := []summary.Metric{summary.TTFT, summary.TPOT, summary.ITL, summary.Latency}
	heads := "<th colspan=\"2\">TTFT ms</th>"
	if cols, _ := columns(rep.Groups); len(cols) > len(tableColumns) {
		metrics = slices.Insert(metrics, 1, summary.TTFO)
		heads += "<th colspan=\"2\">TTFO ms</th>"
	}
	b.WriteString("<tr><th rowspan=\"2\">load point</th><th rowspan=\"2\">requests</th><th rowspan=\"2\">failures</th><th rowspan=\"2\">req/s</th><th rowspan=\"2\">output tok/s</th>" +
		heads + "<th colspan=\"2\">TPOT ms</th><th colspan=\"2\">ITL ms</th><th colspan=\"2\">latency ms</th></tr>\n<tr>" +
		strings.Repeat("<th>p50</th><th>p99</th>", len(metrics)) + "</tr>\n")
	names := rowNames(rep.Groups)
	for i := range rep.Groups {
		g := &rep.Groups[i]
		class := ""
		if g.Failed > 0 {
			class = ` class="failed"`
		}
		fmt.Fprintf(b, "<tr%s><td title=\"%s\">%s</td><td class=\"n\">%d</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
			class, esc(g.String()), esc(names[i]), g.Requests, esc(failureText(g)), num(g.ReqPerS, 2), num(tokPerSOf(g), 1))
		for _, m := range metrics {
			fmt.Fprintf(b, "<td class=\"n\">%s</td><td class=\"n\">%s</td>", pick(m, 50)(g, rep.Percentiles), pick(m, 99)(g, rep.Percentiles))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table></section>\n")
}

// failureText counts a group's failures by kind: "3 (2 timeout, 1 http)".
func failureText(g *summary.Group) string {
	if g.Failed == 0 {
		return "0"
	}
	var kinds []string
	for i, n := range g.Errors {
		if n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, record.ErrorKinds[i]))
		}
	}
	if g.ErrorsOther > 0 {
		kinds = append(kinds, fmt.Sprintf("%d other", g.ErrorsOther))
	}
	return fmt.Sprintf("%d (%s)", g.Failed, strings.Join(kinds, ", "))
}

// htmlComparison writes the verdict per load point, then a table per load
// point with the same cells as the text report: old, new, the change and
// the verdict, regressions marked.
func htmlComparison(b *strings.Builder, res *compare.Result) {
	fmt.Fprintf(b, "<section id=\"comparison\"><h2>Comparison: %s vs %s</h2>\n<p>old: %s (%s); new: %s (%s). alpha %s; p-values Holm-adjusted within each table; ~ no significant difference, ? too few values to test.</p>\n",
		esc(res.Old), esc(res.New), esc(res.Old), esc(res.OldFrom), esc(res.New), esc(res.NewFrom), strconv.FormatFloat(res.Alpha, 'f', -1, 64))
	b.WriteString("<table class=\"verdicts\"><tr><th>load point</th><th>runs</th><th>verdict</th><th>significant changes</th></tr>\n")
	for i := range res.Tables {
		t := &res.Tables[i]
		verdict, changes := tableVerdict(t)
		fmt.Fprintf(b, "<tr><td>%s</td><td>%d vs %d</td><td class=\"verdict %s\">%s</td><td>%s</td></tr>\n",
			esc(t.Point.String()), t.OldRuns, t.NewRuns, verdictClass(verdict), esc(verdict), esc(changes))
	}
	b.WriteString("</table>\n<div class=\"cmpgrid\">\n")
	for i := range res.Tables {
		t := &res.Tables[i]
		test := "per-run test"
		if !t.PerRun {
			test = "per-request test (weaker, see warnings)"
		}
		fmt.Fprintf(b, "<table class=\"compare\"><caption>%s: %d %s vs %d, %s</caption>\n<tr><th>metric</th><th>old</th><th>new</th><th>delta</th><th>verdict</th></tr>\n",
			esc(t.Point.String()), t.OldRuns, plural(t.OldRuns, "run"), t.NewRuns, esc(test))
		for j := range t.Rows {
			r := &t.Rows[j]
			v := verdictText(r, newPalette(false))
			class := verdictClass(string(r.Verdict))
			if len(r.Crossed) > 0 {
				class = "regression"
			}
			fmt.Fprintf(b, "<tr class=\"%s\"><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"delta\">%s</td><td class=\"verdict\">%s</td></tr>\n",
				class, esc(r.Metric.Name), esc(estimateText(r, r.Old)), esc(estimateText(r, r.New)), esc(changeText(r)), esc(v))
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</div></section>\n")
}

func verdictClass(v string) string {
	switch v {
	case "REGRESSION":
		return "regression"
	case "worse", "better":
		return v
	}
	return "same"
}

// series is one group's lines in the pictures, named for the legend.
type htmlSeries struct {
	name string
	g    *summary.Group
}

// htmlSeriesOf names every group of every side: by load point (and run
// when two would read the same), prefixed by the side in a comparison;
// pooled says the runs of each load point were pooled (pooledSeries).
func htmlSeriesOf(h *HTML) (series []htmlSeries, pooled bool) {
	var out []htmlSeries
	for i := range h.Sides {
		s := &h.Sides[i]
		names := rowNames(s.Report.Groups)
		for j := range s.Report.Groups {
			name := names[j]
			if s.Name != "" {
				name = s.Name + " " + name
			}
			out = append(out, htmlSeries{name, &s.Report.Groups[j]})
		}
	}
	if len(out) > len(seriesColours) {
		return pooledSeries(h), true
	}
	return out, false
}

// pooledSeries is a line per side and load point, its runs' samples
// pooled, for inputs with more runs than colours (a cron history): the
// lines stay tellable apart and the page stays small. The tables keep a
// row per run.
func pooledSeries(h *HTML) []htmlSeries {
	var out []htmlSeries
	for i := range h.Sides {
		s := &h.Sides[i]
		base := len(out) // this side's first line
		index := map[summary.Point]int{}
		var runs []int
		for j := range s.Report.Groups {
			g := &s.Report.Groups[j]
			k, ok := index[g.Point]
			if !ok {
				k = len(runs)
				index[g.Point] = k
				out = append(out, htmlSeries{g: &summary.Group{Point: g.Point}})
				runs = append(runs, 0)
			}
			p := out[base+k].g
			for m := range p.Samples {
				p.Samples[m] = append(p.Samples[m], g.Samples[m]...)
			}
			runs[k]++
		}
		for k, n := range runs {
			p := out[base+k].g
			for m := range p.Samples {
				slices.Sort(p.Samples[m])
			}
			name := fmt.Sprintf("%s (%d runs)", pointName(p), n)
			if s.Name != "" {
				name = s.Name + " " + name
			}
			out[base+k].name = name
		}
	}
	return out
}

// htmlCharts draws the TTFT and latency CDFs, the ITL histogram and, when a
// side has several load points, the throughput-latency curve.
func htmlCharts(b *strings.Builder, h *HTML) {
	all, pooled := htmlSeriesOf(h)
	b.WriteString("<section id=\"charts\"><h2>Pictures</h2><p class=\"hint\">Hover a point for its exact value.</p>\n")
	if pooled {
		b.WriteString("<p>More runs than colours: each line pools the runs of one load point.</p>\n")
	}
	b.WriteString("<div class=\"charts\">\n")
	charts := []chart{
		cdfChart("ttft-cdf", "TTFT: cumulative distribution", "TTFT ms", all, summary.TTFT),
		cdfChart("latency-cdf", "Latency: cumulative distribution", "end-to-end latency ms", all, summary.Latency),
		itlChart(all),
	}
	if c, ok := sweepChart(h); ok {
		charts = append(charts, c)
	}
	if c, ok := serverTimeline(h); ok {
		charts = append(charts, c)
	}
	for i := range charts {
		b.WriteString("<figure>" + charts[i].svg() + "</figure>\n")
	}
	b.WriteString("</div></section>\n")
}

// cdfChart draws each series' samples of m as a CDF of at most curvePoints
// points, each at an exact sample: the q-th quantile by order statistic.
func cdfChart(id, title, xLabel string, all []htmlSeries, m summary.Metric) chart {
	c := chart{id: id, title: title, xLabel: xLabel, yLabel: "share of requests %"}
	for _, s := range all {
		xs := s.g.Samples[m]
		if len(xs) == 0 {
			continue
		}
		cs := chartSeries{name: s.name}
		n := len(xs)
		k := min(n, curvePoints)
		for i := range k {
			idx := i * (n - 1) / max(1, k-1)
			share := 100 * float64(idx+1) / float64(n)
			cs.xs = append(cs.xs, xs[idx])
			cs.ys = append(cs.ys, share)
			cs.tips = append(cs.tips, fmt.Sprintf("%s: %.1f%% of requests at or under %.3f ms", s.name, share, xs[idx]))
		}
		c.series = append(c.series, cs)
	}
	return c
}

// itlChart is a histogram of the gaps between tokens, over zero to the
// largest p99.9 of the series (a few outliers would squeeze the rest into
// one bar); the last bar holds everything above.
func itlChart(all []htmlSeries) chart {
	c := chart{id: "itl-hist", title: "ITL: histogram of gaps between tokens", xLabel: "ITL ms", yLabel: "share of gaps %", bars: true}
	hi := 0.0
	for _, s := range all {
		if xs := s.g.Samples[summary.ITL]; len(xs) > 0 {
			hi = math.Max(hi, xs[min(len(xs)-1, int(0.999*float64(len(xs))))])
		}
	}
	if hi <= 0 {
		return c
	}
	width := hi / histogramBins
	for _, s := range all {
		xs := s.g.Samples[summary.ITL]
		if len(xs) == 0 {
			continue
		}
		counts := make([]int, histogramBins)
		for _, x := range xs {
			counts[min(histogramBins-1, max(0, int(x/width)))]++
		}
		cs := chartSeries{name: s.name}
		for i, n := range counts {
			share := 100 * float64(n) / float64(len(xs))
			cs.xs = append(cs.xs, (float64(i)+0.5)*width)
			cs.ys = append(cs.ys, share)
			cs.tips = append(cs.tips, fmt.Sprintf("%s: %d gaps (%.2f%%) in %.3f–%.3f ms", s.name, n, share, float64(i)*width, float64(i+1)*width))
		}
		c.series = append(c.series, cs)
	}
	return c
}

// sweepChart draws, for each side (and run) with several load points,
// output throughput against median latency, a point per load point; false
// when no side swept.
func sweepChart(h *HTML) (chart, bool) {
	c := chart{id: "sweep", title: "Throughput against latency (median), one point per load point", xLabel: "output tok/s", yLabel: "latency p50 ms", markers: true}
	inputs, outputs := 0, 0 // the points of embeddings groups (input tok/s), and the others
	for i := range h.Sides {
		s := &h.Sides[i]
		byRun := map[string][]*summary.Group{}
		var runs []string
		for j := range s.Report.Groups {
			g := &s.Report.Groups[j]
			if g.Metrics[summary.Latency] == nil {
				continue
			}
			if _, ok := byRun[g.RunID]; !ok {
				runs = append(runs, g.RunID)
			}
			byRun[g.RunID] = append(byRun[g.RunID], g)
		}
		for _, id := range runs {
			gs := byRun[id]
			if len(gs) < 2 {
				continue
			}
			slices.SortFunc(gs, func(x, y *summary.Group) int { return compareFloat(tokPerSOf(x), tokPerSOf(y)) })
			name := strings.TrimSpace(s.Name + " " + runTail(id))
			cs := chartSeries{name: name}
			for _, g := range gs {
				p50 := g.Metrics[summary.Latency].Median
				unit := "tok/s"
				if g.Endpoint == openai.EndpointEmbeddings {
					inputs++
					unit = "input tok/s"
				} else {
					outputs++
				}
				cs.xs = append(cs.xs, tokPerSOf(g))
				cs.ys = append(cs.ys, p50)
				cs.labels = append(cs.labels, strings.TrimPrefix(pointName(g), g.Label+" "))
				cs.tips = append(cs.tips, fmt.Sprintf("%s %s: %.1f %s, latency p50 %.3f ms", name, pointName(g), tokPerSOf(g), unit, p50))
			}
			c.series = append(c.series, cs)
		}
	}
	switch {
	case inputs > 0 && outputs == 0:
		c.xLabel = "input tok/s"
	case inputs > 0:
		c.xLabel = "tok/s (input for embeddings)"
	}
	if n := len(seriesColours); len(c.series) > n {
		c.series = c.series[len(c.series)-n:] // a history of sweeps: the newest
		c.title += fmt.Sprintf(", the last %d sweeps", n)
	}
	return c, len(c.series) > 0
}

func compareFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// htmlFailures lists each group's failures by kind with the first distinct
// messages.
func htmlFailures(b *strings.Builder, h *HTML) {
	var body strings.Builder
	for i := range h.Sides {
		s := &h.Sides[i]
		for j := range s.Report.Groups {
			g := &s.Report.Groups[j]
			if g.Failed == 0 {
				continue
			}
			fmt.Fprintf(&body, "<h3>%s%s: %s failed</h3>\n", esc(g.String()), esc(sideTitle(s)), esc(failureText(g)))
			if msgs := s.Failures[g.String()]; len(msgs) > 0 {
				body.WriteString("<ul class=\"messages\">")
				for _, m := range msgs {
					fmt.Fprintf(&body, "<li><code>%s</code></li>", esc(m))
				}
				body.WriteString("</ul>\n")
			}
		}
	}
	if body.Len() == 0 {
		b.WriteString("<section id=\"failures\"><h2>Failures</h2><p>No request failed.</p></section>\n")
		return
	}
	b.WriteString("<section id=\"failures\"><h2>Failures</h2>\n" + body.String() + "</section>\n")
}

// htmlCSS is the page's whole style: light and dark (prefers-color-scheme),
// and print (no tooltip, no page breaks inside a chart).
const htmlCSS = `
:root{--bg:#fff;--fg:#1a1a1a;--muted:#666;--line:#ccc;--grid:#eee;--warn-bg:#fff4e5;--warn-fg:#7a4100;--bad:#b00020;--good:#1b7f3b;--row:#f6f6f6}
@media (prefers-color-scheme: dark){:root{--bg:#161616;--fg:#e8e8e8;--muted:#aaa;--line:#555;--grid:#2a2a2a;--warn-bg:#3a2a10;--warn-fg:#ffd08a;--bad:#ff6b7d;--good:#6fdc8c;--row:#202020}}
body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid var(--line);padding-bottom:.2em;margin-top:1.6em}h3{font-size:1em}
.when,.hint,caption{color:var(--muted)}caption{text-align:left;padding:.3em 0}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid var(--line);padding:.2em .5em;text-align:left}
th{background:var(--row)}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{color:var(--bad)}
.warnings{background:var(--warn-bg);color:var(--warn-fg);border:2px solid var(--warn-fg);padding:.2em 1em;border-radius:6px}
.warnings h2{border:none}
.worse,.regression,tr.worse td.verdict{color:var(--bad);font-weight:600}.better,tr.better td.verdict{color:var(--good);font-weight:600}
tr.regression td{background:var(--warn-bg)}
.cmpgrid{display:grid;grid-template-columns:repeat(auto-fill,minmax(34em,1fr));gap:0 1em;align-items:start}.cmpgrid table{margin-top:0}.cmpgrid td.n{white-space:nowrap}td.delta{text-align:right}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1em}
figure{margin:0}svg.chart{width:100%;height:auto;font-size:11px;fill:var(--fg)}
svg .axis line{stroke:var(--fg)}svg .axis line.grid{stroke:var(--grid)}svg .ctitle{font-size:13px;font-weight:600}
svg .plabel{font-size:10px}svg .pt:hover{stroke:var(--fg);stroke-width:2}
#tip{position:fixed;pointer-events:none;background:var(--fg);color:var(--bg);padding:.25em .5em;border-radius:4px;font-size:12px;max-width:28em}
code{word-break:break-all}
@media print{#tip,.hint{display:none}figure,table{break-inside:avoid}body{max-width:none}}
`

// htmlScript shows a point's value (its <title>, which a browser shows on
// hover without the script, only later and smaller) in a tooltip beside
// the pointer.
const htmlScript = `
(function(){
  var tip=document.getElementById("tip");
  document.querySelectorAll("svg .pt").forEach(function(el){
    el.addEventListener("mouseenter",function(e){tip.textContent=el.querySelector("title").textContent;tip.hidden=false;move(e);});
    el.addEventListener("mousemove",move);
    el.addEventListener("mouseleave",function(){tip.hidden=true;});
  });
  function move(e){tip.style.left=(e.clientX+12)+"px";tip.style.top=(e.clientY+12)+"px";}
})();
`
