package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/record"
)

func TestGolden(t *testing.T) {
	inFixtures(t)
	tests := []struct {
		name string
		args []string
	}{
		{"mixed.text", []string{mixedFile}},
		{"mixed.csv", []string{mixedFile, "--format", "csv"}},
		{"mixed.json", []string{mixedFile, "--format", "json"}},
		// fractional percentiles name columns p99_9 and lines P99.9
		{"p999.csv", []string{mixedFile, "--format", "csv", "--percentiles", "50,99.9"}},
		{"p999.text", []string{mixedFile, "--percentiles", "99.9"}},
		// goodput: r1 meets ttft<=100ms and e2e<=400ms 2 times in 5, r2 all
		// its successes, r3 never (not streamed: no TTFT to check)
		{"slo.text", []string{mixedFile, "--slo", "ttft=100ms,e2e=400"}},
		{"slo.csv", []string{mixedFile, "--format", "csv", "--slo", "ttft=100ms,e2e=400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runArgs(t, "", tt.args...)
			if code != cmdline.ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, tt.name+".golden", stdout)
			golden(t, "mixed.stderr.golden", stderr) // the same bad lines every time
		})
	}
}

// TestGoldenReasoning: a reasoning model's run, whose TTFO is not its
// TTFT: the table's TTFO column, the blocks' TTFO section and token totals,
// the CSV's columns, and a ttfo objective.
func TestGoldenReasoning(t *testing.T) {
	inFixtures(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"reasoning.text", []string{"testdata/reasoning.jsonl", "--slo", "ttfo=75ms"}},
		{"reasoning.csv", []string{"testdata/reasoning.jsonl", "--format", "csv", "--slo", "ttfo=75ms"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runArgs(t, "", tt.args...)
			if code != cmdline.ExitOK || stderr != "" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, tt.name+".golden", stdout)
		})
	}
}

// TestGoldenServerMetrics: a metrics file beside the records: its lines
// are samples, not bad lines, and the group gets the server's figures
// (worked by hand in internal/summary's TestJoinServerMetrics).
func TestGoldenServerMetrics(t *testing.T) {
	inFixtures(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"servermetrics.text", []string{"testdata/reasoning.jsonl", "testdata/reasoning.metrics.jsonl"}},
		{"servermetrics.csv", []string{"testdata/reasoning.metrics.jsonl", "testdata/reasoning.jsonl", "--format", "csv"}},
		{"servermetrics.json", []string{"testdata/reasoning.jsonl", "testdata/reasoning.metrics.jsonl", "--format", "json"}},
		// time slices of 500 ms: the window of 1.087 s makes three, the last 87 ms
		{"slices.text", []string{"testdata/reasoning.jsonl", "testdata/reasoning.metrics.jsonl", "--slice", "500ms", "--brief"}},
		{"slices.csv", []string{"testdata/reasoning.jsonl", "testdata/reasoning.metrics.jsonl", "--slice", "500ms", "--format", "csv", "--percentiles", "50,99"}},
		{"slices.json", []string{"testdata/reasoning.jsonl", "--slice", "500ms", "--format", "json", "--percentiles", "99"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runArgs(t, "", append(tt.args, "--strict")...)
			if code != cmdline.ExitOK || stderr != "" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, tt.name+".golden", stdout)
		})
	}
	// A sample line that is broken is a bad line like any other.
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(path, []byte(`{"kind":"server_metrics","run_id":"x"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runArgs(t, "", "testdata/reasoning.jsonl", path, "--strict")
	if code != cmdline.ExitBadInput || !strings.Contains(stderr, "no at") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestGoldenLog(t *testing.T) {
	inFixtures(t)
	path := filepath.Join(t.TempDir(), "bench.log")
	if _, stderr, code := runArgs(t, "", mixedFile, "--log", path, "--format", "json"); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "mixed.log.golden", string(log))
}

func TestCSVRoundTrip(t *testing.T) {
	inFixtures(t)
	stdout, _, _ := runArgs(t, "", mixedFile, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatalf("output is not RFC 4180 CSV: %v", err)
	}
	if len(rows) != 5 { // header + 4 groups
		t.Fatalf("%d rows, want 5", len(rows))
	}
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	last := rows[4]
	if got := last[col("label")]; got != "'=cmd()" {
		t.Errorf("label %q, want the formula neutralised as '=cmd()", got)
	}
	if got := last[col("model")]; got != `org/model, "quoted"` {
		t.Errorf("model %q: comma and quotes must survive quoting", got)
	}
	if got := last[col("ttft_mean_ms")]; got != "" {
		t.Errorf("non-streaming ttft_mean_ms = %q, want empty", got)
	}
}

func TestJSONShape(t *testing.T) {
	inFixtures(t)
	stdout, _, _ := runArgs(t, "", mixedFile, "--format", "json")
	var doc struct {
		Groups   []map[string]any `json:"groups"`
		BadLines int              `json:"bad_lines"`
		Records  int              `json:"records"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.BadLines != 2 || doc.Records != 17 || len(doc.Groups) != 4 {
		t.Fatalf("bad_lines %d records %d groups %d", doc.BadLines, doc.Records, len(doc.Groups))
	}
	g := doc.Groups[3]
	if g["label"] != "=cmd()" {
		t.Errorf("JSON label %v: JSON carries text unchanged", g["label"])
	}
	if v, ok := g["ttft_p99_ms"]; !ok || v != nil {
		t.Errorf("ttft_p99_ms = %v (present %v), want null", v, ok)
	}
	if _, ok := g["latency_p99_ms"].(float64); !ok {
		t.Errorf("latency_p99_ms = %v, want a number", g["latency_p99_ms"])
	}
}

func TestBadLines(t *testing.T) {
	good := lines(t, okRecord("r", 0, 100))
	input := strings.Join([]string{
		strings.TrimSuffix(good, "\n"), // line 1
		"",                             // line 2: blank, skipped silently
		"not json",                     // line 3
		`{"schema":1,"run_id":"r",`,    // line 4: truncated
		strings.TrimSuffix(good, "\n"), // line 5
	}, "\n")
	stdout, stderr, code := runArgs(t, input, "--format", "json")
	if code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"summarize: stdin:3: not a JSON object", "summarize: stdin:4: bad JSON"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, `"bad_lines": 2`) || !strings.Contains(stdout, `"records": 2`) {
		t.Errorf("counts missing from JSON:\n%s", stdout)
	}
	// --strict: the same bad lines are reported, then exit 8 and no report.
	stdout, stderr, code = runArgs(t, input, "--strict")
	if code != cmdline.ExitBadInput || stdout != "" || !strings.Contains(stderr, "stdin:3:") || !strings.Contains(stderr, "2 bad input lines (--strict)") {
		t.Errorf("--strict: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestBadLineCap(t *testing.T) {
	input := strings.Repeat("garbage\n", maxBadLineMessages+5) + lines(t, okRecord("r", 0, 100))
	_, stderr, code := runArgs(t, input)
	if code != cmdline.ExitOK {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(stderr, "not a JSON object"); n != maxBadLineMessages {
		t.Errorf("%d bad line messages, want %d", n, maxBadLineMessages)
	}
	if !strings.Contains(stderr, "summarize: ... 5 more bad lines") {
		t.Errorf("no summary of the rest:\n%s", stderr)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		stdin     string
		args      []string
		code      cmdline.ExitCode
		errSubstr string
	}{
		{"no records at all", "", nil, cmdline.ExitFailure, "no records"},
		{"only bad lines", "x\ny\n", nil, cmdline.ExitFailure, "no records in the input (2 bad lines)"},
		{"missing file is named", "", []string{filepath.Join(dir, "nope.jsonl")}, cmdline.ExitFailure, "nope.jsonl"},
		{"a directory is a usage error that says what to give", "", []string{dir}, cmdline.ExitUsage, dir + " is a directory: give the record files in it, such as " + filepath.Join(dir, "*.jsonl")},
		{"a missing baseline is a usage error before anything is read", "", []string{"--baseline", filepath.Join(dir, "nope.jsonl")}, cmdline.ExitUsage, "--baseline " + filepath.Join(dir, "nope.jsonl") + ": no such file or directory"},
		{"an empty baseline is a usage error", "", []string{"--baseline", emptyFile(t)}, cmdline.ExitUsage, "is empty: nothing to compare with"},
		{"unknown format", "", []string{"--format", "xml"}, cmdline.ExitUsage, `--format "xml"`},
		{"bad percentiles", "", []string{"--percentiles", "50,abc"}, cmdline.ExitUsage, "--percentiles"},
		// cmdline.FlagsFirst moves flags before the files; what still starts
		// with a dash came after "--" and is a file name.
		{"dash file that does not exist", "", []string{"--", "--format"}, cmdline.ExitUsage, "--format: no such file, and not a flag"},
		{"strict with clean input", lines(t, okRecord("r", 0, 100)), []string{"--strict"}, cmdline.ExitOK, ""},
	}
	for _, tt := range tests {
		_, stderr, code := runArgs(t, tt.stdin, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.errSubstr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tt.name, code, stderr, tt.code, tt.errSubstr)
		}
	}
}

func TestNewerSchemaWarnsOnce(t *testing.T) {
	a, b := okRecord("r", 0, 100), okRecord("r", 1, 100)
	a.Schema, b.Schema = record.Schema+1, record.Schema+1
	stdout, stderr, code := runArgs(t, lines(t, a, b), "--format", "json")
	if code != cmdline.ExitOK || strings.Count(stderr, "newer than this build") != 1 || !strings.Contains(stderr, "stdin:1:") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, `"records": 2`) || !strings.Contains(stdout, "newer than this build") {
		t.Errorf("newer records must still be summarized, with the warning in the report:\n%s", stdout)
	}
}

func TestCSVFileAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.csv")
	in := lines(t, okRecord("r1", 0, 100), okRecord("r1", 1, 200))
	// New file: header and one row.
	if _, stderr, code := runArgs(t, in, "--csv", path); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Same columns: one more row, no second header.
	if _, stderr, code := runArgs(t, in, "--csv", path, "--format", "json"); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := readCSV(t, path)
	if len(rows) != 3 || rows[0][0] != "run_id" || rows[1][0] != "r1" || rows[2][0] != "r1" {
		t.Fatalf("rows after two appends: %q", rows)
	}
	before, _ := os.ReadFile(path)
	// Other percentiles, other columns: refuse, touch nothing, not even
	// stdout, and say what to do.
	stdout, stderr, code := runArgs(t, in, "--csv", path, "--percentiles", "50,99.9")
	if code != cmdline.ExitFailure || stdout != "" || !strings.Contains(stderr, "header differs") || !strings.Contains(stderr, "ttft_p99_9_ms") ||
		!strings.Contains(stderr, "; write to a new file or summarize with the file's --percentiles\n") {
		t.Errorf("mismatch: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the CSV file changed after a header mismatch")
	}
	// An empty existing file gets the header.
	empty := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	runArgs(t, in, "--csv", empty)
	if rows := readCSV(t, empty); len(rows) != 2 || rows[0][0] != "run_id" {
		t.Errorf("empty file: %q", rows)
	}
	// A file whose last row is unfinished is refused rather than glued to.
	broken := filepath.Join(t.TempDir(), "broken.csv")
	os.WriteFile(broken, append(before, "r9,lab"...), 0o644)
	if _, stderr, code := runArgs(t, in, "--csv", broken); code != cmdline.ExitFailure || !strings.Contains(stderr, "newline") {
		t.Errorf("unfinished file: exit %d, %s", code, stderr)
	}
}

// TestCSVFileOlderColumns: a file an older summarize wrote, without the
// goodput columns, is refused with advice that fits.
func TestCSVFileOlderColumns(t *testing.T) {
	in := lines(t, okRecord("r1", 0, 100))
	path := filepath.Join(t.TempDir(), "runs.csv")
	if _, stderr, code := runArgs(t, in, "--csv", path); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	header := readCSV(t, path)[0]
	var old []string
	for _, col := range header {
		if col != "slo" && col != "goodput_req_per_s" && col != "slo_met_ratio" {
			old = append(old, col)
		}
	}
	os.WriteFile(path, []byte(strings.Join(old, ",")+"\n"), 0o644)
	want := "; an older summarize wrote it, without the columns slo, goodput_req_per_s, slo_met_ratio: move it aside and start a new file\n"
	if _, stderr, code := runArgs(t, in, "--csv", path); code != cmdline.ExitFailure || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want %q", code, stderr, want)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.log")
	in := lines(t, okRecord("r1", 0, 100))
	for range 2 {
		if _, stderr, code := runArgs(t, in+"junk\n", "--log", path, "--format", "csv"); code != cmdline.ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	log, _ := os.ReadFile(path)
	const header = "=== 2026-11-27T12:00:00Z summarize: 1 group, 1 record, 1 bad line ===\n"
	if strings.Count(string(log), header) != 2 || !strings.HasPrefix(string(log), header) {
		t.Fatalf("log headers:\n%s", log)
	}
	if !strings.Contains(string(log), "============ Serving Benchmark Result ============\n") ||
		!strings.HasSuffix(string(log), "==================================================\n\n") {
		t.Errorf("log block not a text report ending in a blank line:\n%s", log)
	}
	if strings.Contains(string(log), "\x1b[") {
		t.Error("colour codes in the log")
	}
}

func TestGoodputGate(t *testing.T) {
	inFixtures(t)
	// Group a: 1 of 2 within e2e=150ms (50%). Group b (label fast): 2 of 2.
	fast := func(r record.Record) record.Record { r.Label = "fast"; return r }
	in := lines(t, okRecord("a", 0, 100), okRecord("a", 1, 200), fast(okRecord("b", 2, 100)), fast(okRecord("b", 3, 100)))
	tests := []struct {
		name   string
		args   []string
		code   cmdline.ExitCode
		stderr []string // substrings, in order
	}{
		{"below: exit 9, the group and the shortfall named", []string{"--slo", "e2e=150ms", "--min-goodput-ratio", "0.9"}, cmdline.ExitGoodput, []string{
			"summarize: goodput: run a, lab, concurrency 1, unpaced: slo_met_ratio 0.500 (1 of 2 requests met e2e=150ms) is 0.400 below --min-goodput-ratio 0.9: 1 more good request needed\n",
			"summarize: 1 of 2 groups below --min-goodput-ratio 0.9\n",
		}},
		{"at the limit passes", []string{"--slo", "e2e=150ms", "--min-goodput-ratio", "0.5"}, cmdline.ExitOK, nil},
		{"every request must be good", []string{"--slo", "e2e=150ms", "--min-goodput-ratio", "1"}, cmdline.ExitGoodput, []string{"run a, lab", "1 of 2 groups below"}},
		{"both below", []string{"--slo", "e2e=50ms", "--min-goodput-ratio", "0.1"}, cmdline.ExitGoodput, []string{
			"run a, lab, concurrency 1, unpaced: slo_met_ratio 0.000 (0 of 2 requests met e2e=50ms) is 0.100 below --min-goodput-ratio 0.1: 1 more good request needed",
			"run b, fast, concurrency 1, unpaced: slo_met_ratio 0.000",
			"2 of 2 groups below",
		}},
		{"--slo alone reports and never fails", []string{"--slo", "e2e=1ms"}, cmdline.ExitOK, nil},
		{"gate without --slo", []string{"--min-goodput-ratio", "0.9"}, cmdline.ExitUsage, []string{"--min-goodput-ratio needs --slo"}},
		{"ratio 0 gates nothing", []string{"--slo", "e2e=1s", "--min-goodput-ratio", "0"}, cmdline.ExitUsage, []string{"--min-goodput-ratio 0: want a share of requests above 0 and at most 1"}},
		{"ratio above 1", []string{"--slo", "e2e=1s", "--min-goodput-ratio", "90"}, cmdline.ExitUsage, []string{"--min-goodput-ratio 90: want a share"}},
		{"ratio NaN", []string{"--slo", "e2e=1s", "--min-goodput-ratio", "NaN"}, cmdline.ExitUsage, []string{"--min-goodput-ratio NaN"}},
		{"bad --slo", []string{"--slo", "itl=5ms"}, cmdline.ExitUsage, []string{`--slo "itl=5ms": no ITL objective`}},
		{"not with a comparison", []string{"--slo", "e2e=1s", "--baseline", "testdata/old.jsonl"}, cmdline.ExitUsage, []string{"not a comparison"}},
		{"gate not with a comparison", []string{"--slo", "e2e=1s", "--min-goodput-ratio", "0.9", "old=testdata/old.jsonl", "new=testdata/new.jsonl"}, cmdline.ExitUsage, []string{"not a comparison"}},
	}
	for _, tt := range tests {
		stdout, stderr, code := runArgs(t, in, tt.args...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", tt.name, code, tt.code, stderr)
			continue
		}
		rest := stderr
		for _, want := range tt.stderr {
			i := strings.Index(rest, want)
			if i < 0 {
				t.Errorf("%s: stderr lacks %q (in order):\n%s", tt.name, want, stderr)
				break
			}
			rest = rest[i+len(want):]
		}
		switch {
		case tt.code == cmdline.ExitUsage && stdout != "":
			t.Errorf("%s: a usage error wrote %q", tt.name, stdout)
		case tt.code != cmdline.ExitUsage && !strings.Contains(stdout, "Request goodput (req/s):"):
			t.Errorf("%s: the report must be written, gate or not:\n%s", tt.name, stdout)
		}
	}
}

// TestGoodputGateWritesFirst: a failed gate still appends the CSV row and
// the log block, and its message follows them.
func TestGoodputGateWritesFirst(t *testing.T) {
	dir := t.TempDir()
	csvPath, logPath := filepath.Join(dir, "runs.csv"), filepath.Join(dir, "runs.log")
	in := lines(t, okRecord("r", 0, 100), failed(okRecord("r", 1, 100), record.ErrTimeout))
	stdout, stderr, code := runArgs(t, in, "--slo", "e2e=1s", "--min-goodput-ratio", "0.9", "--csv", csvPath, "--log", logPath, "--format", "json")
	if code != cmdline.ExitGoodput || !strings.Contains(stderr, "slo_met_ratio 0.500 (1 of 2 requests met e2e=1s) is 0.400 below") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var doc struct{ Groups []map[string]any }
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Groups) != 1 {
		t.Fatalf("%v: %s", err, stdout)
	}
	if g := doc.Groups[0]; g["slo"] != "e2e=1s" || g["slo_met_ratio"] != 0.5 || g["goodput_req_per_s"] != 1/1.1 {
		t.Errorf("JSON goodput keys: slo %v, ratio %v, goodput %v", g["slo"], g["slo_met_ratio"], g["goodput_req_per_s"])
	}
	rows := readCSV(t, csvPath)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if len(rows) != 2 || rows[1][col["slo"]] != "e2e=1s" || rows[1][col["goodput_req_per_s"]] != "0.909" || rows[1][col["slo_met_ratio"]] != "0.500" {
		t.Errorf("CSV rows %q", rows)
	}
	if log, _ := os.ReadFile(logPath); !strings.Contains(string(log), "SLO met (% of requests):                 50.00 (1 of 2)\n") {
		t.Errorf("log block:\n%s", log)
	}
}

// TestGoodputGateNeedsEvidence: a group without measured requests (warmup
// only, an interrupted run) fails the gate rather than pass unjudged.
func TestGoodputGateNeedsEvidence(t *testing.T) {
	w := okRecord("w", 0, 100)
	w.Phase = record.PhaseWarmup
	_, stderr, code := runArgs(t, lines(t, okRecord("r", 0, 100), w), "--slo", "e2e=1s", "--min-goodput-ratio", "0.5")
	if code != cmdline.ExitGoodput || !strings.Contains(stderr, "summarize: goodput: run w, lab, concurrency 1, unpaced: no measured requests to judge against --min-goodput-ratio 0.5") ||
		!strings.Contains(stderr, "1 of 2 groups below") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestGoodNeeded(t *testing.T) {
	tests := []struct {
		n     int
		least float64
		want  int
	}{
		{10, 0.9, 9}, {2, 0.9, 2}, {2, 0.5, 1}, {3, 2.0 / 3, 2}, {10000, 0.9, 9000}, {7, 1, 7}, {1, 0.01, 1}, {3, 0.7, 3},
	}
	for _, tt := range tests {
		if got := goodNeeded(tt.n, tt.least); got != tt.want {
			t.Errorf("goodNeeded(%d, %v) = %d, want %d", tt.n, tt.least, got, tt.want)
		}
		if k := goodNeeded(tt.n, tt.least); float64(k)/float64(tt.n) < tt.least || k > 0 && float64(k-1)/float64(tt.n) >= tt.least {
			t.Errorf("goodNeeded(%d, %v) = %d is not the least k with k/n >= least", tt.n, tt.least, k)
		}
	}
}

// TestAlertsOnStderr: the warnings that question a run are repeated on
// stderr, naming the group, and stay in the report (JSON) with the others.
func TestAlertsOnStderr(t *testing.T) {
	ms := time.Millisecond
	// paced: 10 requests at 10 req/s, scheduled every 100 ms and each sent
	// 50 ms later than the one before it.
	var late []record.Record
	for i := range 10 {
		r := okRecord("r", i, 20)
		r.Rate = 10
		r.ScheduledAt = t0.Add(time.Duration(i) * 100 * ms)
		r.SentAt = r.ScheduledAt.Add(time.Duration(i) * 50 * ms)
		r.QueueMs = record.Ms(time.Duration(i) * 50 * ms)
		late = append(late, r)
	}
	stdout, stderr, code := runArgs(t, lines(t, late...), "--format", "json")
	if code != cmdline.ExitOK || !strings.Contains(stderr, "summarize: warning: run r, lab, concurrency 1, 10 req/s: achieved rate 6.67 req/s is 33.3% below the target 10 req/s") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `"achieved rate 6.67 req/s`) || !strings.Contains(stdout, `"requests left late: p99 client queue delay`) {
		t.Errorf("JSON warnings must hold the rate warning and keep the lag warning:\n%s", stdout)
	}

	short := okRecord("r", 0, 100)
	short.IgnoreEOS, short.MaxTokens, short.OutputTokens, short.FinishReason = true, 5, 3, "stop"
	_, stderr, _ = runArgs(t, lines(t, short), "--format", "csv")
	if !strings.Contains(stderr, "summarize: warning: run r, lab, concurrency 1, unpaced: 1 of 1 successful requests with ignore_eos have fewer output tokens") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// emptyFile is an empty file, such as a baseline that was never filled.
func emptyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSliceUsage: --slice wants a length, and one input, not a comparison.
func TestSliceUsage(t *testing.T) {
	inFixtures(t)
	for _, args := range [][]string{
		{"testdata/reasoning.jsonl", "--slice", "-1s"},
		{"testdata/reasoning.jsonl", "--slice", "1us"},
		{"--baseline", "testdata/old.jsonl", "testdata/new.jsonl", "--slice", "1s"},
		{"old=testdata/old.jsonl", "new=testdata/new.jsonl", "--slice", "1s"},
	} {
		stdout, stderr, code := runArgs(t, "", args...)
		if code != cmdline.ExitUsage || stdout != "" || !strings.Contains(stderr, "--slice") {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
}
