package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"

	"servebench/internal/openai"
	"servebench/internal/record"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

// bannerWidth is the width of vLLM's report banners.
const bannerWidth = 50

// palette holds the colours of one report, switched on or off as a whole
// (per call, never through fatih/color's process-wide setting).
type palette struct{ bold, red, yellow, green *color.Color }

func newPalette(on bool) palette {
	p := palette{color.New(color.Bold), color.New(color.FgRed), color.New(color.FgYellow), color.New(color.FgGreen)}
	for _, c := range []*color.Color{p.bold, p.red, p.yellow, p.green} {
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return p
}

// TextOptions shape the human report.
type TextOptions struct {
	Color bool // colour (the command decides: cmdline.UseColor)
	Brief bool // the answer-first table only, without the per-group blocks
}

// WriteText writes the human report: the answer first (one table row per
// group: counts, throughput, TTFT, TPOT, ITL and latency), then, unless
// Brief, one block per group in the layout of `vllm bench serve`, then a
// footer with the record and bad line counts. In a block a metric without
// samples has no section, the median is not repeated as P50, the TTFO
// section is left out when it is a copy of TTFT (a model that does not
// reason), and the queue and schedule-latency sections are left out for a
// closed loop or
// when no request queued (zeros, and a copy of E2EL); CSV and JSON always
// carry every column.
func WriteText(w io.Writer, rep *summary.Report, opts TextOptions) error {
	var buf bytes.Buffer
	p := newPalette(opts.Color)
	writeTable(&buf, rep, p)
	if opts.Brief {
		for _, warn := range rep.Warnings {
			fmt.Fprintln(&buf, p.yellow.Sprint("warning: "+warn))
		}
		for i := range rep.Groups {
			for _, warn := range rep.Groups[i].Warnings {
				fmt.Fprintln(&buf, p.yellow.Sprint("warning: "+rep.Groups[i].String()+": "+warn))
			}
		}
	} else {
		writeGroups(&buf, rep, p)
	}
	writeSlices(&buf, rep, p)
	writeCapacities(&buf, rep)
	footer := fmt.Sprintf("%d %s, %d %s, %d bad %s", len(rep.Groups), plural(len(rep.Groups), "group"),
		rep.Records, plural(rep.Records, "record"), rep.BadLines, plural(rep.BadLines, "line"))
	if rep.BadLines > 0 {
		footer = p.yellow.Sprint(footer)
	}
	fmt.Fprintln(&buf, footer)
	_, err := w.Write(buf.Bytes())
	return err
}

// LogBlock is the text appended to a --log file: a timestamped header line,
// the groups' report without colour, and a blank line.
func LogBlock(rep *summary.Report, now time.Time) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "=== %s summarize: %d %s, %d %s, %d bad %s ===\n", now.UTC().Format(time.RFC3339),
		len(rep.Groups), plural(len(rep.Groups), "group"), rep.Records, plural(rep.Records, "record"),
		rep.BadLines, plural(rep.BadLines, "line"))
	writeTable(&buf, rep, newPalette(false))
	writeGroups(&buf, rep, newPalette(false))
	buf.WriteByte('\n')
	return buf.Bytes()
}

func writeGroups(buf *bytes.Buffer, rep *summary.Report, p palette) {
	for _, warn := range rep.Warnings {
		fmt.Fprintln(buf, p.yellow.Sprint("warning: "+warn))
	}
	for i := range rep.Groups {
		if i > 0 || len(rep.Warnings) > 0 {
			buf.WriteByte('\n')
		}
		writeGroup(buf, &rep.Groups[i], rep.Percentiles, p)
	}
}

func writeGroup(buf *bytes.Buffer, g *summary.Group, ps []float64, p palette) {
	line := func(c *color.Color, name, value string) {
		s := fmt.Sprintf("%-40s %s", name, value)
		if c != nil {
			s = c.Sprint(s)
		}
		fmt.Fprintln(buf, s)
	}
	fmt.Fprintln(buf, p.bold.Sprint(banner(" Serving Benchmark Result ", '=')))
	line(p.bold, "Run:", orDash(g.RunID))
	line(p.bold, "Label:", orDash(g.Label))
	line(nil, "Start time:", instantText(g.StartTime))
	line(nil, "Model:", orDash(g.Model))
	line(nil, "Server:", orDash(g.Server))
	line(nil, "Endpoint:", orDash(g.Endpoint)+map[bool]string{true: " (streaming)", false: " (not streaming)"}[g.Stream])
	line(nil, "Maximum request concurrency:", strconv.Itoa(g.Concurrency))
	line(nil, "Request rate (req/s):", rateText(g.Rate))
	line(nil, "Max tokens:", strconv.Itoa(g.MaxTokens))
	if g.By != "" {
		line(nil, "Group (--by):", g.By)
	}
	if g.Sessions > 0 {
		line(nil, "Conversations (sessions, turns):", fmt.Sprintf("%d sessions, %d turns", g.Sessions, g.Turns))
	}
	line(nil, "Successful requests:", strconv.Itoa(g.OK))
	var failColor *color.Color
	if g.Failed > 0 {
		failColor = p.red
	}
	line(failColor, "Failed requests:", strconv.Itoa(g.Failed))
	for i, n := range g.Errors {
		if n > 0 && i < len(record.ErrorKinds) {
			line(p.red, "  "+record.ErrorKinds[i]+":", strconv.Itoa(n))
		}
	}
	if g.ErrorsOther > 0 {
		line(p.red, "  other:", strconv.Itoa(g.ErrorsOther))
	}
	line(nil, "Warmup requests (excluded):", strconv.Itoa(g.Warmup))
	line(nil, "Benchmark duration (s):", num2(g.DurationS))
	line(nil, "Total input tokens:", strconv.Itoa(g.PromptTokens))
	line(nil, "Total generated tokens:", strconv.Itoa(g.OutputTokens))
	if g.ReasoningTokens != 0 {
		line(nil, "  of which reasoning:", strconv.Itoa(g.ReasoningTokens))
	}
	if g.CachedTokens != 0 {
		line(nil, "Total cached input tokens:", strconv.Itoa(g.CachedTokens)+" ("+num2(100*g.CachedShare)+"% of input)")
	}
	if g.ToolCalls != 0 {
		line(nil, "Tool calls:", strconv.Itoa(g.ToolCalls))
	}
	line(nil, "Request throughput (req/s):", num2(g.ReqPerS))
	if g.SLO != "" { // as vLLM's report with --goodput, plus the objectives and the share
		line(nil, "Goodput SLO:", g.SLO)
		line(nil, "Request goodput (req/s):", num2(g.GoodputReqPerS))
		line(nil, "SLO met (% of requests):", sloMetText(g))
	}
	line(nil, "Output token throughput (tok/s):", num2(g.OutputTokPerS))
	line(nil, "Total token throughput (tok/s):", num2(g.TotalTokPerS))
	if g.Endpoint == openai.EndpointEmbeddings { // nothing is generated: the input is the work
		line(nil, "Input token throughput (tok/s):", num2(g.InputTokPerS))
	}
	line(nil, "Mean input tokens:", num2(g.MeanPromptTokens))
	line(nil, "Mean generated tokens:", num2(g.MeanOutputTokens))
	// Closed loop, a request is "scheduled" when a worker takes it: its
	// queue is the client's own microseconds and the schedule's latency a
	// copy of E2EL. Only an open-loop schedule makes them worth reading.
	noQueue := g.Rate == 0 || (g.Metrics[summary.Queue] != nil && g.Metrics[summary.Queue].Max == 0)
	for m := range summary.Metric(summary.NumMetrics) {
		if noQueue && (m == summary.Queue || m == summary.SchedLatency) {
			continue
		}
		if m == summary.TTFO && !g.TTFODiffers() {
			continue // a copy of TTFT: the model did not reason
		}
		if s := g.Metrics[m]; s != nil {
			fmt.Fprintln(buf, banner(metricText[m].title, '-'))
			writeMetric(line, m, s, ps)
		}
	}
	writeServer(buf, g, line)
	fmt.Fprintln(buf, p.bold.Sprint(strings.Repeat("=", bannerWidth)))
	for _, warn := range g.Warnings {
		fmt.Fprintln(buf, p.yellow.Sprint("warning: "+warn))
	}
}

func writeMetric(line func(*color.Color, string, string), m summary.Metric, s *stats.Summary, ps []float64) {
	vs := metricValues(s, len(ps))
	names := []string{"Mean", "Median", "Std", "Min", "Max"}
	for _, p := range ps {
		names = append(names, "P"+stats.FormatPercentile(p))
	}
	for i, name := range names {
		if name == "P50" {
			continue // the median, two lines up
		}
		line(nil, fmt.Sprintf("%s %s (ms):", name, metricText[m].short), num2(vs[i]))
	}
}

// banner centres s in a line of fill characters the way Python's
// "{:=^50}".format(s) does (the odd padding character goes right), so section
// rules match vLLM's report.
func banner(s string, fill byte) string {
	pad := bannerWidth - len(s)
	if pad <= 0 {
		return s
	}
	left := pad / 2
	return strings.Repeat(string(fill), left) + s + strings.Repeat(string(fill), pad-left)
}

// num2 writes a value with two decimals as vLLM's text report does; "-" when
// there is none.
func num2(v float64) string { return num(v, 2) }

// sloMetText is the share of measured requests that met the SLO, with the
// counts: "60.00 (3 of 5)".
func sloMetText(g *summary.Group) string {
	if math.IsNaN(g.SLOMetRatio) {
		return "-"
	}
	return fmt.Sprintf("%s (%d of %d)", num2(100*g.SLOMetRatio), g.SLOMet, g.Requests)
}

func rateText(rate float64) string {
	if rate == 0 {
		return "unpaced"
	}
	return strconv.FormatFloat(rate, 'f', -1, 64)
}

func instantText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(timeLayout)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
