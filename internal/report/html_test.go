package report

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"servebench/internal/compare"
	"servebench/internal/record"
	"servebench/internal/summary"
)

// htmlGroup is a group with samples, as summarize --html gets it.
func htmlGroup(conc int, n int) summary.Group {
	g := tableGroup("sweep", conc, 0, 0, float64(conc))
	for m := range g.Samples {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(conc)*10 + float64(i)/float64(n)
		}
		g.Samples[m] = xs
	}
	return g
}

// TestHTMLSelfContained: the page fetches nothing (no src or href to
// anywhere, no @import or url()), has every section and chart, and its
// tick labels are distinct on every axis.
func TestHTMLSelfContained(t *testing.T) {
	rep := &summary.Report{Percentiles: []float64{50, 99}, Records: 40}
	for _, c := range []int{1, 2, 4, 8} {
		rep.Groups = append(rep.Groups, htmlGroup(c, 1000))
	}
	rep.Groups[1].Failed, rep.Groups[1].Errors = 2, make([]int, len(record.ErrorKinds))
	rep.Groups[1].Errors[0] = 2
	rep.Groups[2].Alerts = []string{"achieved rate low"}
	rep.Groups[2].Warnings = rep.Groups[2].Alerts
	var b strings.Builder
	err := WriteHTML(&b, &HTML{Generated: time.Unix(0, 0), Sides: []HTMLSide{{Report: rep, Failures: map[string][]string{rep.Groups[1].String(): {"connect: refused <x>"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if m := regexp.MustCompile(`(?i)(src|href)=|@import|url\(`).FindString(page); m != "" {
		t.Errorf("page refers to something outside itself: %q", m)
	}
	for _, want := range []string{`id="warnings"`, "achieved rate low", `id="runs"`, `id="ttft-cdf"`, `id="latency-cdf"`, `id="itl-hist"`, `id="sweep"`, "connect: refused &lt;x&gt;", "prefers-color-scheme", "@media print"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	checkTicks(t, page)
}

// checkTicks fails when two tick labels of one axis of one chart read the
// same.
func checkTicks(t *testing.T, page string) {
	t.Helper()
	charts := regexp.MustCompile(`(?s)<svg id="([^"]+)".*?</svg>`).FindAllStringSubmatch(page, -1)
	if len(charts) == 0 {
		t.Fatal("no chart")
	}
	tick := regexp.MustCompile(`class="(xtick|ytick)"[^>]*>([^<]*)<`)
	for _, c := range charts {
		seen := map[string]bool{}
		for _, m := range tick.FindAllStringSubmatch(c[0], -1) {
			if seen[m[1]+m[2]] {
				t.Errorf("chart %s: %s label %q twice", c[1], m[1], m[2])
			}
			seen[m[1]+m[2]] = true
		}
	}
}

// TestTicksDistinct: for spreads from 1e-4 to 1e6, every axis's labels
// differ and the axis starts at zero.
func TestTicksDistinct(t *testing.T) {
	for _, hi := range []float64{1e-4, 0.3, 1, 9.99, 10.3, 13.7, 99, 127, 1e3, 3.3e4, 1e6} {
		ts := ticks(hi)
		if ts[0] != 0 || ts[len(ts)-1] < hi {
			t.Errorf("ticks(%v) = %v: want 0 up to at least %v", hi, ts, hi)
		}
		seen := map[string]bool{}
		for _, v := range ts {
			s := tickText(v, ts)
			if seen[s] {
				t.Errorf("ticks(%v): label %q twice in %v", hi, s, ts)
			}
			seen[s] = true
		}
	}
}

// TestHTMLComparisonVerdicts: the verdict cells are the text report's.
func TestHTMLComparisonVerdicts(t *testing.T) {
	res := testComparison()
	var b strings.Builder
	rep := &summary.Report{}
	if err := WriteHTML(&b, &HTML{Sides: []HTMLSide{{Name: "old", Report: rep}, {Name: "new", Report: rep}}, Comparison: res}); err != nil {
		t.Fatal(err)
	}
	for i := range res.Tables {
		for j := range res.Tables[i].Rows {
			r := &res.Tables[i].Rows[j]
			if want := esc(changeText(r)); !strings.Contains(b.String(), want) {
				t.Errorf("no cell %q", want)
			}
			if r.Verdict == compare.Worse && !strings.Contains(b.String(), `<td class="verdict">worse`) {
				t.Error("no worse verdict cell")
			}
		}
	}
}

// TestHTMLHistoryPooled: a history of 200 runs of two load points draws a
// line per load point, its runs pooled, and the page stays small; the
// table keeps a row per run.
func TestHTMLHistoryPooled(t *testing.T) {
	rep := &summary.Report{Percentiles: []float64{50, 99}}
	for i := range 200 {
		g := htmlGroup(1+i%2, 1000)
		g.RunID = fmt.Sprintf("20261201T%06dZ-%06x", i, i)
		rep.Groups = append(rep.Groups, g)
	}
	var b strings.Builder
	if err := WriteHTML(&b, &HTML{Sides: []HTMLSide{{Report: rep}}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, "sweep c=1 (100 runs)") || !strings.Contains(page, "each line pools the runs") {
		t.Error("the runs are not pooled per load point")
	}
	if n := strings.Count(page, "<polyline"); n != 2*2 {
		t.Errorf("%d CDF lines, want 2 a chart", n)
	}
	if len(page) > 2<<20 {
		t.Errorf("page of %d bytes", len(page))
	}
	checkTicks(t, page)
}

// TestHTMLHeadlineTTFO: the headline gets TTFO columns for a reasoning
// model's group, and none when TTFO is a copy of TTFT.
func TestHTMLHeadlineTTFO(t *testing.T) {
	page := func(ttfoMedian float64) string {
		g := htmlGroup(1, 10)
		ttft := *g.Metrics[summary.TTFT]
		ttfo := ttft
		ttfo.Median = ttfoMedian
		g.Metrics[summary.TTFO] = &ttfo
		var b strings.Builder
		rep := &summary.Report{Percentiles: []float64{50, 90, 95, 99}, Groups: []summary.Group{g}}
		if err := WriteHTML(&b, &HTML{Generated: time.Unix(0, 0), Sides: []HTMLSide{{Report: rep}}}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if p := page(61.5); !strings.Contains(p, "TTFO ms") || !strings.Contains(p, ">61.50<") {
		t.Error("a reasoning model's headline lacks TTFO")
	}
	if p := page(20); strings.Contains(p, "TTFO ms") {
		t.Error("TTFO columns for a TTFO that is a copy of TTFT")
	}
}

// TestHTMLSweepEmbeddings: an embeddings sweep's curve is drawn against
// input tok/s (its output tok/s is 0 everywhere), and its axis says so.
func TestHTMLSweepEmbeddings(t *testing.T) {
	rep := &summary.Report{Percentiles: []float64{50, 99}}
	for _, c := range []int{1, 2, 4} {
		g := htmlGroup(c, 100)
		g.Endpoint, g.OutputTokPerS, g.InputTokPerS = "embeddings", 0, 1000*float64(c)
		rep.Groups = append(rep.Groups, g)
	}
	var b strings.Builder
	if err := WriteHTML(&b, &HTML{Generated: time.Unix(0, 0), Sides: []HTMLSide{{Report: rep}}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, "input tok/s") || !strings.Contains(page, "4000.0 input tok/s") {
		t.Error("the sweep of an embeddings run is not drawn against input tok/s")
	}
	checkTicks(t, page)
}
