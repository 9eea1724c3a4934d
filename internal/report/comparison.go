package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fatih/color"
	"github.com/gocarina/gocsv"

	"servebench/internal/compare"
	"servebench/internal/stats"
)

// WriteCompareText writes a comparison the way benchstat does: per load
// point a header saying how many runs each side has and which test ran,
// then one line per metric with the old and new values (± the 95%
// confidence interval of a per-run median) and the change:
//
//	ttft_median_ms  50.21 ± 1%  60.24 ± 0%  +19.98% (p=0.002 n=6)  worse  FAIL >+10%
//	tpot_median_ms  5.02 ± 0%   5.03 ± 0%   ~ (p=1.000 n=6)
//
// "~" means no significant difference; "?" that the test could not run
// (too few values). p is Holm-adjusted within the table. Warnings are not
// part of it: summarize prints them on stderr.
func WriteCompareText(w io.Writer, res *compare.Result, colored bool) error {
	var buf bytes.Buffer
	writeComparison(&buf, res, newPalette(colored))
	_, err := w.Write(buf.Bytes())
	return err
}

// CompareLogBlock is the text appended to a --log file for a comparison:
// a timestamped header that says whether anything regressed, the tables,
// then every regression and warning, so that a log read months later still
// says what failed and with which caveats.
func CompareLogBlock(res *compare.Result, now time.Time) []byte {
	var buf bytes.Buffer
	verdict := "no regression"
	switch n := len(res.Regressions); {
	case n == 1:
		verdict = "1 REGRESSION"
	case n > 1:
		verdict = fmt.Sprintf("%d REGRESSIONS", n)
	}
	fmt.Fprintf(&buf, "=== %s summarize compare: %s vs %s: %s ===\n", now.UTC().Format(time.RFC3339), res.Old, res.New, verdict)
	writeComparison(&buf, res, newPalette(false))
	for _, reg := range res.Regressions {
		fmt.Fprintln(&buf, "regression: "+RegressionText(reg))
	}
	for _, warn := range CompareWarnings(res) {
		fmt.Fprintln(&buf, "warning: "+warn)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// RegressionText says what regressed and by how much: "latency,
// concurrency 1, unpaced: ttft_p99_ms +19.80% (50.90 -> 60.93 ms,
// p=0.002 n=6) crossed >+10%".
func RegressionText(reg compare.Regression) string {
	r := reg.Row
	values := strings.TrimSpace(valueText(r.Metric, r.Old.Center) + " -> " + valueText(r.Metric, r.New.Center) + " " + r.Metric.Unit)
	return fmt.Sprintf("%s: %s %s (%s, %s) crossed %s", reg.Point, r.Metric.Name, deltaText(r), values, testText(r), reg.Threshold.Condition())
}

// CompareWarnings lists every warning of a comparison, the comparison's
// own first, then each table's.
func CompareWarnings(res *compare.Result) []string {
	ws := append([]string(nil), res.Warnings...)
	for _, t := range res.Tables {
		ws = append(ws, t.Warnings...)
	}
	return ws
}

func writeComparison(buf *bytes.Buffer, res *compare.Result, p palette) {
	start := buf.Len()
	fmt.Fprintf(buf, "%s (%s)\n%s (%s)\n", p.bold.Sprint("old: "+res.Old), res.OldFrom, p.bold.Sprint("new: "+res.New), res.NewFrom)
	fmt.Fprintf(buf, "alpha %s; p-values Holm-adjusted within each table; ~ no significant difference, ? too few values to test\n",
		strconv.FormatFloat(res.Alpha, 'f', -1, 64))
	writeVerdicts(buf, res, p)
	for i := range res.Tables {
		t := &res.Tables[i]
		buf.WriteByte('\n')
		test := "per-run test"
		if !t.PerRun {
			test = "per-request test (weaker, see warnings)"
		}
		fmt.Fprintln(buf, p.bold.Sprintf("%s: %d %s vs %d, %s", t.Point, t.OldRuns, plural(t.OldRuns, "run"), t.NewRuns, test))
		tw := tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "metric\told\tnew\tdelta\t")
		for j := range t.Rows {
			r := &t.Rows[j]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Metric.Name, estimateText(r, r.Old), estimateText(r, r.New), changeText(r), verdictText(r, p))
		}
		if len(t.Server) > 0 {
			fmt.Fprintln(tw, "server (one value per run: not tested)\t\t\t\t")
		}
		for _, r := range t.Server {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.Name, num2(r.Old), num2(r.New), serverChangeText(r))
		}
		tw.Flush()
	}
	trimLines(buf, start)
}

// trimLines drops the spaces tabwriter leaves at the ends of lines in
// buf[from:]: the last columns are often empty.
func trimLines(buf *bytes.Buffer, from int) {
	lines := bytes.Split(buf.Bytes()[from:], []byte("\n"))
	var out bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			out.WriteByte('\n')
		}
		out.Write(bytes.TrimRight(l, " "))
	}
	buf.Truncate(from)
	buf.Write(out.Bytes())
}

// estimateText is a value with its confidence interval as benchstat shows
// it: "50.21 ± 1%"; "± ∞" when there are too few runs for one. Values
// compared per request have no interval.
func estimateText(r *compare.Row, e compare.Estimate) string {
	v := valueText(r.Metric, e.Center)
	if !r.PerRun || math.IsNaN(e.Center) {
		return v
	}
	return v + " ± " + rangeText(e)
}

// rangeText is the interval's half-width relative to the center, the way
// benchmath's PctRangeString writes it.
func rangeText(e compare.Estimate) string {
	switch {
	case math.IsNaN(e.Lo) || math.IsNaN(e.Hi):
		return "?"
	case math.IsInf(e.Lo, 0) || math.IsInf(e.Hi, 0):
		return "∞"
	case e.Center == 0 && e.Lo == 0 && e.Hi == 0:
		return "0%"
	case math.Signbit(e.Center) != math.Signbit(e.Lo) || math.Signbit(e.Center) != math.Signbit(e.Hi) || e.Center == 0:
		return "?"
	}
	return fmt.Sprintf("%.0f%%", 100*math.Max(e.Hi/e.Center-1, 1-e.Lo/e.Center))
}

// changeText is benchstat's delta column: "+19.98% (p=0.002 n=6)" when
// significant, "~ (p=0.394 n=6)" when not, "? (too few values, n=1)" when
// the test could not run.
func changeText(r *compare.Row) string {
	switch {
	case r.Verdict == compare.Untested:
		return "? (" + r.Test.Why + ")"
	case !r.Test.Ran:
		return "~ (" + r.Test.Why + ")"
	case !r.Significant:
		return "~ (" + testText(r) + ")"
	}
	return deltaText(r) + " (" + testText(r) + ")"
}

// deltaText is the relative change, or the absolute one when the old value
// is 0 and a percentage would be infinite.
func deltaText(r *compare.Row) string {
	switch {
	case math.IsNaN(r.DeltaRel):
		return "-"
	case math.IsInf(r.DeltaRel, 0):
		return strings.TrimSpace(signed(valueText(r.Metric, r.Delta), r.Delta) + " " + r.Metric.Unit)
	}
	return fmt.Sprintf("%+.2f%%", 100*r.DeltaRel)
}

func signed(s string, v float64) string {
	if v >= 0 {
		return "+" + s
	}
	return s
}

func testText(r *compare.Row) string {
	return fmt.Sprintf("p=%.3f n=%s", r.P, stats.Sizes(r.Test.N1, r.Test.N2))
}

func verdictText(r *compare.Row, p palette) string {
	var s string
	var c *color.Color
	switch r.Verdict {
	case compare.Worse:
		s, c = "worse", p.red
	case compare.Better:
		s, c = "better", p.green
	}
	for _, th := range r.Crossed {
		s += "  FAIL " + th.Condition()
	}
	if c == nil || s == "" {
		return s
	}
	return c.Sprint(s)
}

// valueText writes a metric's value: milliseconds and rates with two
// decimals as the text report does, an error rate (a fraction) with four.
func valueText(m compare.Metric, v float64) string {
	if m.Unit == "" {
		if math.IsNaN(v) {
			return "-"
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return num2(v)
}

// compareRow is one metric of one table in CSV and JSON, like row for the
// per-run report: gocsv writes the csv tags, encoding/json the json tags.
type compareRow struct {
	Label       text   `csv:"label" json:"label"`
	Concurrency int    `csv:"concurrency" json:"concurrency"`
	Rate        exact  `csv:"rate" json:"rate"`
	Metric      string `csv:"metric" json:"metric"`
	Unit        string `csv:"unit" json:"unit"`
	Test        string `csv:"test" json:"test"` // per-run or per-request
	OldRuns     int    `csv:"old_runs" json:"old_runs"`
	NewRuns     int    `csv:"new_runs" json:"new_runs"`
	OldN        int    `csv:"old_n" json:"old_n"`
	NewN        int    `csv:"new_n" json:"new_n"`
	Old         fixed  `csv:"old" json:"old"`
	OldLo       fixed  `csv:"old_lo" json:"old_lo"`
	OldHi       fixed  `csv:"old_hi" json:"old_hi"`
	New         fixed  `csv:"new" json:"new"`
	NewLo       fixed  `csv:"new_lo" json:"new_lo"`
	NewHi       fixed  `csv:"new_hi" json:"new_hi"`
	Delta       fixed  `csv:"delta" json:"delta"`
	DeltaPct    fixed  `csv:"delta_pct" json:"delta_pct"`
	P           fixed  `csv:"p" json:"p"`         // Holm-adjusted
	PRaw        fixed  `csv:"p_raw" json:"p_raw"` // before adjustment
	Significant bool   `csv:"significant" json:"significant"`
	Verdict     string `csv:"verdict" json:"verdict"`
	Failed      string `csv:"failed" json:"failed"` // --fail-on thresholds crossed, ";"-separated
	Note        string `csv:"note" json:"note"`     // why the test did not run
}

// fixed is a comparison's number: six significant decimals in CSV (p-values
// and error rates are small), the full float in JSON, empty or null when
// NaN or infinite.
type fixed float64

// MarshalCSV implements gocsv.TypeMarshaller.
func (f fixed) MarshalCSV() (string, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return "", nil
	}
	return strconv.FormatFloat(float64(f), 'f', 6, 64), nil
}

// MarshalJSON writes null for a missing value.
func (f fixed) MarshalJSON() ([]byte, error) { return jsonFloat(float64(f)), nil }

func compareRows(res *compare.Result) []compareRow {
	var rows []compareRow
	for i := range res.Tables {
		t := &res.Tables[i]
		for j := range t.Rows {
			r := &t.Rows[j]
			test := "per-run"
			if !r.PerRun {
				test = "per-request"
			}
			var crossed []string
			for _, th := range r.Crossed {
				crossed = append(crossed, th.String())
			}
			p, pRaw := r.P, r.Test.P
			if !r.Test.Ran {
				p, pRaw = math.NaN(), math.NaN()
			}
			rows = append(rows, compareRow{
				Label: text(t.Point.Label), Concurrency: t.Point.Concurrency, Rate: exact(t.Point.Rate),
				Metric: r.Metric.Name, Unit: r.Metric.Unit, Test: test, OldRuns: t.OldRuns, NewRuns: t.NewRuns,
				OldN: r.Old.N, NewN: r.New.N,
				Old: fixed(r.Old.Center), OldLo: fixed(r.Old.Lo), OldHi: fixed(r.Old.Hi),
				New: fixed(r.New.Center), NewLo: fixed(r.New.Lo), NewHi: fixed(r.New.Hi),
				Delta: fixed(r.Delta), DeltaPct: fixed(100 * r.DeltaRel), P: fixed(p), PRaw: fixed(pRaw),
				Significant: r.Significant, Verdict: string(r.Verdict), Failed: strings.Join(crossed, ";"), Note: r.Test.Why,
			})
		}
		rows = append(rows, serverCompareRows(t)...)
	}
	return rows
}

// serverChangeText is a server row's change: "+3.50 (+25.0%)".
func serverChangeText(r compare.ServerRow) string {
	if math.IsNaN(r.Delta) {
		return ""
	}
	d := signed(num2(r.Delta), r.Delta)
	if math.IsInf(r.DeltaRel, 0) || math.IsNaN(r.DeltaRel) {
		return d
	}
	return d + " (" + signed(strconv.FormatFloat(100*r.DeltaRel, 'f', 1, 64), r.DeltaRel) + "%)"
}

// serverCompareRows are a table's server rows in CSV and JSON: test
// "server", no p-value and no verdict.
func serverCompareRows(t *compare.Table) []compareRow {
	var rows []compareRow
	nan := fixed(math.NaN())
	for _, r := range t.Server {
		rows = append(rows, compareRow{
			Label: text(t.Point.Label), Concurrency: t.Point.Concurrency, Rate: exact(t.Point.Rate),
			Metric: r.Name, Unit: r.Unit, Test: "server", OldRuns: t.OldRuns, NewRuns: t.NewRuns,
			Old: fixed(r.Old), OldLo: nan, OldHi: nan, New: fixed(r.New), NewLo: nan, NewHi: nan,
			Delta: fixed(r.Delta), DeltaPct: fixed(100 * r.DeltaRel), P: nan, PRaw: nan,
			Note: "the server's own figure: one value per run, not tested",
		})
	}
	return rows
}

// WriteCompareCSV writes a header and one row per metric of every table.
func WriteCompareCSV(w io.Writer, res *compare.Result) error {
	var buf bytes.Buffer
	cw := gocsv.NewSafeCSVWriter(csv.NewWriter(&buf))
	rows := compareRows(res)
	if len(rows) == 0 {
		header, _ := gocsv.MarshalString([]compareRow{{}})
		buf.WriteString(strings.SplitN(header, "\n", 2)[0] + "\n")
	} else if err := gocsv.MarshalCSV(rows, cw); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// compareJSON is the JSON document of a comparison: the sides, the rows
// (the CSV columns as keys), the regressions and every warning.
type compareJSON struct {
	Old         string           `json:"old"`
	OldFrom     string           `json:"old_from"`
	New         string           `json:"new"`
	NewFrom     string           `json:"new_from"`
	Alpha       float64          `json:"alpha"`
	Rows        []compareRow     `json:"rows"`
	Regressions []regressionJSON `json:"regressions"`
	Warnings    []string         `json:"warnings"`
}

type regressionJSON struct {
	Label       string `json:"label"`
	Concurrency int    `json:"concurrency"`
	Rate        exact  `json:"rate"`
	Metric      string `json:"metric"`
	Threshold   string `json:"threshold"`
	Delta       fixed  `json:"delta"`
	DeltaPct    fixed  `json:"delta_pct"`
	P           fixed  `json:"p"`
	Message     string `json:"message"`
}

// WriteCompareJSON writes res as one indented JSON document.
func WriteCompareJSON(w io.Writer, res *compare.Result) error {
	doc := compareJSON{Old: res.Old, OldFrom: res.OldFrom, New: res.New, NewFrom: res.NewFrom, Alpha: res.Alpha, Rows: compareRows(res),
		Regressions: []regressionJSON{}, Warnings: nonNil(CompareWarnings(res))}
	if doc.Rows == nil {
		doc.Rows = []compareRow{}
	}
	for _, reg := range res.Regressions {
		doc.Regressions = append(doc.Regressions, regressionJSON{
			Label: reg.Point.Label, Concurrency: reg.Point.Concurrency, Rate: exact(reg.Point.Rate),
			Metric: reg.Row.Metric.Name, Threshold: reg.Threshold.String(),
			Delta: fixed(reg.Row.Delta), DeltaPct: fixed(100 * reg.Row.DeltaRel), P: fixed(reg.Row.P),
			Message: RegressionText(reg),
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// writeVerdicts is a comparison's answer first: a line per load point with
// its verdict (REGRESSION when a --fail-on limit was crossed, else worse,
// better or ~) and the significant changes, worst first.
func writeVerdicts(buf *bytes.Buffer, res *compare.Result, p palette) {
	buf.WriteByte('\n')
	tw := tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "load point\truns\tverdict\tsignificant changes\t")
	for i := range res.Tables {
		t := &res.Tables[i]
		verdict, changes := tableVerdict(t)
		word := verdict
		switch verdict {
		case "REGRESSION", "worse":
			word = p.red.Sprint(verdict)
		case "better":
			word = p.green.Sprint(verdict)
		}
		fmt.Fprintf(tw, "%s\t%d vs %d\t%s\t%s\t\n", t.Point, t.OldRuns, t.NewRuns, word, changes)
	}
	tw.Flush()
}

// tableVerdict sums a table up in a word and its significant changes
// ("ttft_median_ms +19.84%, req_per_s -2.10%"), worse ones first.
func tableVerdict(t *compare.Table) (verdict, changes string) {
	var worse, better []string
	crossed := false
	for j := range t.Rows {
		r := &t.Rows[j]
		crossed = crossed || len(r.Crossed) > 0
		switch r.Verdict {
		case compare.Worse:
			worse = append(worse, r.Metric.Name+" "+deltaText(r))
		case compare.Better:
			better = append(better, r.Metric.Name+" "+deltaText(r))
		}
	}
	switch {
	case crossed:
		verdict = "REGRESSION"
	case len(worse) > 0:
		verdict = "worse"
	case len(better) > 0:
		verdict = "better"
	default:
		verdict = "~"
	}
	if all := append(worse, better...); len(all) > 0 {
		return verdict, strings.Join(all, ", ")
	}
	return verdict, "none"
}
