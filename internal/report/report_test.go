package report

import (
	"bytes"
	"encoding/csv"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
	"servebench/internal/stats"
	"servebench/internal/summary"
)

func testGroup(label string) summary.Group {
	s := &stats.Summary{N: 2, Mean: 1.5, Median: 1.5, Std: 0.5, Min: 1, Max: 2, Percentiles: []float64{1.99}}
	return summary.Group{
		RunID: "r", StartTime: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC),
		Point: summary.Point{Label: label, Concurrency: 1, Rate: 0.5}, Model: "m", Endpoint: "/v1/completions", Stream: true, MaxTokens: 8,
		Requests: 2, OK: 2, Errors: make([]int, len(record.ErrorKinds)),
		DurationS: 1, ReqPerS: 2, OutputTokPerS: 10, TotalTokPerS: 20,
		MeanPromptTokens: math.NaN(), MeanOutputTokens: 5,
		Metrics: [summary.NumMetrics]*stats.Summary{summary.Latency: s},
	}
}

func csvCells(t *testing.T, rep *summary.Report) (header, row []string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep, true); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("not RFC 4180: %v\n%s", err, buf.String())
	}
	return rows[0], rows[1]
}

func cell(t *testing.T, header, row []string, name string) string {
	t.Helper()
	for i, h := range header {
		if h == name {
			return row[i]
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return ""
}

func TestCSVInjection(t *testing.T) {
	tests := []struct{ label, want string }{
		{"=cmd()", "'=cmd()"},        // formula
		{"+1", "'+1"},                // also a formula in most spreadsheets
		{"-2+3", "'-2+3"},            // likewise
		{"@SUM(A1)", "'@SUM(A1)"},    // Lotus-style function
		{"\tx", "'\tx"},              // tab
		{"\rx", "'\rx"},              // carriage return
		{"a,b", "a,b"},               // comma: quoted, not changed
		{`say "hi"`, `say "hi"`},     // quotes: doubled in the file, not changed
		{"two\nlines", "two\nlines"}, // newline: quoted
		{"latency", "latency"},       // plain text
		{"", ""},                     // empty
		{"x=1", "x=1"},               // only the first character matters
	}
	for _, tt := range tests {
		rep := &summary.Report{Groups: []summary.Group{testGroup(tt.label)}, Percentiles: []float64{99}}
		header, row := csvCells(t, rep)
		if got := cell(t, header, row, "label"); got != tt.want {
			t.Errorf("label %q became %q, want %q", tt.label, got, tt.want)
		}
	}
}

func TestCSVNumbersNeverNeutralised(t *testing.T) {
	g := testGroup("l")
	g.Metrics[summary.Queue] = &stats.Summary{N: 1, Mean: -1.5, Median: -1.5, Min: -1.5, Max: -1.5, Percentiles: []float64{-1.5}}
	header, row := csvCells(t, &summary.Report{Groups: []summary.Group{g}, Percentiles: []float64{99}})
	if got := cell(t, header, row, "queue_min_ms"); got != "-1.500" {
		t.Errorf("negative number written as %q", got)
	}
	if got := cell(t, header, row, "rate"); got != "0.5" {
		t.Errorf("rate %q, want 0.5", got)
	}
	if got := cell(t, header, row, "mean_prompt_tokens"); got != "" {
		t.Errorf("NaN written as %q, want empty", got)
	}
	if got := cell(t, header, row, "latency_p99_ms"); got != "1.990" {
		t.Errorf("latency_p99_ms %q", got)
	}
	if got := cell(t, header, row, "ttft_mean_ms"); got != "" {
		t.Errorf("metric without samples written as %q", got)
	}
}

func TestErrorColumnsFollowRecordKinds(t *testing.T) {
	header := Header(nil)
	var got []string
	for _, h := range header {
		if strings.HasPrefix(h, "errors_") && h != "errors_other" {
			got = append(got, strings.TrimPrefix(h, "errors_"))
		}
	}
	if strings.Join(got, ",") != strings.Join(record.ErrorKinds, ",") {
		t.Errorf("error columns %v, record.ErrorKinds %v: add the new kind to row", got, record.ErrorKinds)
	}
	g := testGroup("l")
	for i := range g.Errors {
		g.Errors[i] = i + 1
	}
	header, row := csvCells(t, &summary.Report{Groups: []summary.Group{g}})
	for i, kind := range record.ErrorKinds {
		if got := cell(t, header, row, "errors_"+kind); got != string(rune('1'+i)) {
			t.Errorf("errors_%s = %s, want %d", kind, got, i+1)
		}
	}
}

func TestPercentileColumnNames(t *testing.T) {
	h := strings.Join(Header([]float64{50, 99.9, 99.99}), ",")
	for _, want := range []string{"ttft_p50_ms", "ttft_p99_9_ms", "sched_latency_p99_99_ms"} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %s", want)
		}
	}
}

func TestJSONNulls(t *testing.T) {
	var buf bytes.Buffer
	g := testGroup("=x")
	g.StartTime = time.Time{}
	if err := WriteJSON(&buf, &summary.Report{Groups: []summary.Group{g}, Percentiles: []float64{99}, BadLines: 3}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"label": "=x"`, `"start_time": null`, `"mean_prompt_tokens": null`, `"ttft_p99_ms": null`,
		`"latency_p99_ms": 1.99`, `"bad_lines": 3`, `"warnings": []`, `"rate": 0.5`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
}

func TestTextColour(t *testing.T) {
	g := testGroup("l")
	g.Failed, g.Errors[0] = 1, 1
	rep := &summary.Report{Groups: []summary.Group{g}, Percentiles: []float64{99}}
	var plain, coloured bytes.Buffer
	WriteText(&plain, rep, TextOptions{})
	WriteText(&coloured, rep, TextOptions{Color: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape codes without colour")
	}
	if !strings.Contains(coloured.String(), "\x1b[31m  connect:") || !strings.Contains(coloured.String(), "\x1b[1m====") {
		t.Errorf("no red failure or bold banner:\n%q", coloured.String())
	}
	if !strings.Contains(plain.String(), "P99 E2EL (ms):                           1.99\n") {
		t.Errorf("text:\n%s", plain.String())
	}
}

func TestBanner(t *testing.T) {
	// Python: "{:=^50}".format(" Serving Benchmark Result ") and "{:-^50}".format("Time to First Token")
	for s, want := range map[string]string{
		" Serving Benchmark Result ": "============ Serving Benchmark Result ============",
		"Time to First Token":        "---------------Time to First Token----------------",
	} {
		fill := byte('-')
		if strings.HasPrefix(s, " ") {
			fill = '='
		}
		if got := banner(s, fill); got != want {
			t.Errorf("banner(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestGoodputColumns: the goodput columns are always in the header (one
// header for an append-only file, --slo or not), empty without --slo; the
// text report shows goodput only with it.
func TestGoodputColumns(t *testing.T) {
	without := testGroup("l")
	without.GoodputReqPerS, without.SLOMetRatio = math.NaN(), math.NaN()
	with := testGroup("l")
	with.SLO, with.SLOMet, with.GoodputReqPerS, with.SLOMetRatio = "ttft=300ms e2e=5s", 1, 1, 0.5
	tests := []struct {
		name                string
		g                   summary.Group
		slo, goodput, ratio string // CSV cells
		text                []string
	}{
		{"without --slo", without, "", "", "", nil},
		{"with --slo", with, "ttft=300ms e2e=5s", "1.000", "0.500", []string{
			"Request throughput (req/s):              2.00\n" +
				"Goodput SLO:                             ttft=300ms e2e=5s\n" +
				"Request goodput (req/s):                 1.00\n" +
				"SLO met (% of requests):                 50.00 (1 of 2)\n" +
				"Output token throughput (tok/s):         10.00\n",
		}},
	}
	for _, tt := range tests {
		rep := &summary.Report{Groups: []summary.Group{tt.g}, Percentiles: []float64{99}}
		header, row := csvCells(t, rep)
		if !slices.Equal(header, Header(rep.Percentiles)) {
			t.Errorf("%s: header changes with the data", tt.name)
		}
		for col, want := range map[string]string{"slo": tt.slo, "goodput_req_per_s": tt.goodput, "slo_met_ratio": tt.ratio} {
			if got := cell(t, header, row, col); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.name, col, got, want)
			}
		}
		var text bytes.Buffer
		WriteText(&text, rep, TextOptions{})
		for _, want := range tt.text {
			if !strings.Contains(text.String(), want) {
				t.Errorf("%s: text lacks\n%s\nin\n%s", tt.name, want, text.String())
			}
		}
		if tt.text == nil && strings.Contains(text.String(), "goodput") {
			t.Errorf("%s: goodput lines without an SLO:\n%s", tt.name, text.String())
		}
	}
	var js bytes.Buffer
	WriteJSON(&js, &summary.Report{Groups: []summary.Group{without}})
	for _, want := range []string{`"slo": ""`, `"goodput_req_per_s": null`, `"slo_met_ratio": null`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
}
