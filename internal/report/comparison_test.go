package report

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"

	"servebench/internal/compare"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

// testComparison is a hand-made result: a worse, failed row; a "~" row; an
// untested row; errors appearing from zero; a row without values in new.
func testComparison() *compare.Result {
	ms := func(name string) compare.Metric {
		for _, m := range compare.Metrics {
			if m.Name == name {
				return m
			}
		}
		panic(name)
	}
	th, _ := compare.ParseThresholds("ttft_median_ms>+10%")
	inf := math.Inf(1)
	rows := []compare.Row{
		{Metric: ms("ttft_median_ms"), PerRun: true, Old: compare.Estimate{Center: 50, Lo: 49.5, Hi: 51, N: 6}, New: compare.Estimate{Center: 60, Lo: 59, Hi: 60.6, N: 6},
			Delta: 10, DeltaRel: 0.2, Test: stats.Test{P: 0.002, N1: 6, N2: 6, Ran: true}, P: 0.02, Significant: true, Verdict: compare.Worse, Crossed: th},
		{Metric: ms("tpot_median_ms"), PerRun: true, Old: compare.Estimate{Center: 5, Lo: math.Inf(-1), Hi: inf, N: 5}, New: compare.Estimate{Center: 5.1, Lo: 4, Hi: 6, N: 6},
			Delta: 0.1, DeltaRel: 0.02, Test: stats.Test{P: 0.3, N1: 5, N2: 6, Ran: true}, P: 0.9, Verdict: compare.Same},
		{Metric: ms("req_per_s"), PerRun: true, Old: compare.Estimate{Center: 10, Lo: math.NaN(), Hi: math.NaN(), N: 1}, New: compare.Estimate{Center: 8, Lo: math.NaN(), Hi: math.NaN(), N: 1},
			Delta: -2, DeltaRel: -0.2, Test: stats.Test{P: 1, N1: 1, N2: 1, Why: "too few values, n=1"}, P: math.NaN(), Verdict: compare.Untested},
		{Metric: ms("error_rate"), Old: compare.Estimate{Center: 0, Lo: math.NaN(), Hi: math.NaN(), N: 40}, New: compare.Estimate{Center: 0.25, Lo: math.NaN(), Hi: math.NaN(), N: 40},
			Delta: 0.25, DeltaRel: inf, Test: stats.Test{P: 0.0001, N1: 40, N2: 40, Ran: true}, P: 0.0003, Significant: true, Verdict: compare.Worse},
	}
	res := &compare.Result{Old: "old", OldFrom: "a.jsonl", New: "new", NewFrom: "=b.jsonl", Alpha: 0.05, Warnings: []string{"x: only in old"},
		Tables: []compare.Table{{Point: summary.Point{Label: "=cmd()", Concurrency: 1}, OldRuns: 6, NewRuns: 6, PerRun: true, Rows: rows, Warnings: []string{"t: careful"}}}}
	res.Regressions = []compare.Regression{{Point: res.Tables[0].Point, Row: &res.Tables[0].Rows[0], Threshold: th[0]}}
	return res
}

func TestCompareText(t *testing.T) {
	var plain, coloured bytes.Buffer
	WriteCompareText(&plain, testComparison(), false)
	WriteCompareText(&coloured, testComparison(), true)
	out := plain.String()
	for _, want := range []string{
		"=cmd(), concurrency 1, unpaced: 6 runs vs 6, per-run test\n",
		// ±: max(51/50-1, 1-49.5/50) = 2%; max(60.6/60-1, 1-59/60) = 2%
		"ttft_median_ms  50.00 ± 2%  60.00 ± 2%  +20.00% (p=0.020 n=6)    worse  FAIL >+10%\n",
		// n=5 has no finite interval; max(6/5.1-1, 1-4/5.1) = 22%
		"tpot_median_ms  5.00 ± ∞    5.10 ± 22%  ~ (p=0.900 n=5+6)\n",
		"req_per_s       10.00 ± ?   8.00 ± ?    ? (too few values, n=1)\n",
		// from zero: the absolute change, not an infinite percentage
		"error_rate      0.0000      0.2500      +0.2500 (p=0.000 n=40)   worse\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") || strings.Contains(out, " \n") {
		t.Errorf("escape codes or trailing spaces:\n%q", out)
	}
	if !strings.Contains(coloured.String(), "\x1b[31mworse") {
		t.Errorf("worse not red:\n%q", coloured.String())
	}
}

func TestCompareCSVAndJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCompareCSV(&buf, testComparison()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	get := func(r int, col string) string {
		for i, h := range rows[0] {
			if h == col {
				return rows[r][i]
			}
		}
		t.Fatalf("no column %s", col)
		return ""
	}
	for _, c := range []struct {
		row       int
		col, want string
	}{
		{1, "label", "'=cmd()"}, // neutralised, as in the per-run CSV
		{1, "p", "0.020000"}, {1, "p_raw", "0.002000"}, {1, "failed", "ttft_median_ms>+10%"}, {1, "delta_pct", "20.000000"},
		{2, "old_lo", ""}, // infinite bounds are empty
		{3, "p", ""}, {3, "verdict", "untested"}, {3, "note", "too few values, n=1"},
		{4, "delta_pct", ""}, {4, "delta", "0.250000"}, {4, "test", "per-request"},
	} {
		if got := get(c.row, c.col); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}
	// No rows: still a header.
	buf.Reset()
	WriteCompareCSV(&buf, &compare.Result{})
	if !strings.HasPrefix(buf.String(), "label,concurrency,rate,metric,") || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("empty CSV %q", buf.String())
	}

	buf.Reset()
	if err := WriteCompareJSON(&buf, testComparison()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"label": "=cmd()"`, `"old_lo": null`, `"delta_pct": null`, `"p": 0.02`,
		`"threshold": "ttft_median_ms>+10%"`, `"warnings": [
    "x: only in old",
    "t: careful"
  ]`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
}

func TestCompareLogBlock(t *testing.T) {
	block := string(CompareLogBlock(testComparison(), time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)))
	for _, want := range []string{
		"=== 2026-11-27T12:00:00Z summarize compare: old vs new: 1 REGRESSION ===\nold: old (a.jsonl)\nnew: new (=b.jsonl)\n",
		"regression: =cmd(), concurrency 1, unpaced: ttft_median_ms +20.00% (50.00 -> 60.00 ms, p=0.020 n=6) crossed >+10%\n",
		"warning: x: only in old\nwarning: t: careful\n\n",
	} {
		if !strings.Contains(block, want) {
			t.Errorf("log block lacks %q:\n%s", want, block)
		}
	}
}
