package summary

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/record"
)

var update = flag.Bool("update", false, "rewrite the fixtures (from their generators) and the golden files in testdata")

// fixedNow is the clock of every test that writes a log.
func fixedNow() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }

// run calls Main in-process and returns its outputs and exit code.
func run(t *testing.T, stdin string, cfg Config) (stdout, stderr string, code cmdline.ExitCode) {
	t.Helper()
	var out, errOut bytes.Buffer
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	err := Main(&out, &errOut, strings.NewReader(stdin), cfg)
	if err != nil {
		fmt.Fprintf(&errOut, "summarize: %v\n", err) // what cmd/summarize prints
	}
	return out.String(), errOut.String(), cmdline.Code(err)
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"mixed.text", Config{Files: []string{"testdata/mixed.jsonl"}}},
		{"mixed.csv", Config{Files: []string{"testdata/mixed.jsonl"}, Format: "csv"}},
		{"mixed.json", Config{Files: []string{"testdata/mixed.jsonl"}, Format: "json"}},
		// fractional percentiles name columns p99_9 and lines P99.9
		{"p999.csv", Config{Files: []string{"testdata/mixed.jsonl"}, Format: "csv", Percentiles: "50,99.9"}},
		{"p999.text", Config{Files: []string{"testdata/mixed.jsonl"}, Percentiles: "99.9"}},
		// goodput: r1 meets ttft<=100ms and e2e<=400ms 2 times in 5, r2 all
		// its successes, r3 never (not streamed: no TTFT to check)
		{"slo.text", Config{Files: []string{"testdata/mixed.jsonl"}, SLO: "ttft=100ms,e2e=400"}},
		{"slo.csv", Config{Files: []string{"testdata/mixed.jsonl"}, Format: "csv", SLO: "ttft=100ms,e2e=400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tt.cfg)
			if code != cmdline.ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, tt.name+".golden", stdout)
			golden(t, "mixed.stderr.golden", stderr) // the same bad lines every time
		})
	}
}

func TestGoldenLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.log")
	if _, stderr, code := run(t, "", Config{Files: []string{"testdata/mixed.jsonl"}, LogFile: path, Format: "json"}); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "mixed.log.golden", string(log))
}

func TestCSVRoundTrip(t *testing.T) {
	stdout, _, _ := run(t, "", Config{Files: []string{"testdata/mixed.jsonl"}, Format: "csv"})
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
	stdout, _, _ := run(t, "", Config{Files: []string{"testdata/mixed.jsonl"}, Format: "json"})
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

// lines joins records into JSON lines.
func lines(t *testing.T, recs ...record.Record) string {
	t.Helper()
	var buf bytes.Buffer
	w := record.NewWriter(&buf)
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
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
	stdout, stderr, code := run(t, input, Config{Format: "json"})
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
	// --strict: the same bad lines are reported, then exit 3 and no report.
	stdout, stderr, code = run(t, input, Config{Strict: true})
	if code != ExitBadInput || stdout != "" || !strings.Contains(stderr, "stdin:3:") || !strings.Contains(stderr, "2 bad input lines (--strict)") {
		t.Errorf("--strict: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestBadLineCap(t *testing.T) {
	input := strings.Repeat("garbage\n", maxBadLineMessages+5) + lines(t, okRecord("r", 0, 100))
	_, stderr, code := run(t, input, Config{})
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
		cfg       Config
		code      cmdline.ExitCode
		errSubstr string
	}{
		{"no records at all", "", Config{}, cmdline.ExitFailure, "no records"},
		{"only bad lines", "x\ny\n", Config{}, cmdline.ExitFailure, "no records in the input (2 bad lines)"},
		{"missing file is named", "", Config{Files: []string{filepath.Join(dir, "nope.jsonl")}}, cmdline.ExitFailure, "nope.jsonl"},
		{"directory is unreadable", "", Config{Files: []string{dir}}, cmdline.ExitFailure, "read " + dir},
		{"unknown format", "", Config{Format: "xml"}, cmdline.ExitUsage, `--format "xml"`},
		{"bad percentiles", "", Config{Percentiles: "50,abc"}, cmdline.ExitUsage, "--percentiles"},
		// cmd/summarize moves flags before the files; what still starts with
		// a dash came after "--" and is a file name.
		{"dash file that does not exist", "", Config{Files: []string{"--format"}}, cmdline.ExitUsage, "--format: no such file, and not a flag"},
		{"strict with clean input", lines(t, okRecord("r", 0, 100)), Config{Strict: true}, cmdline.ExitOK, ""},
	}
	for _, tt := range tests {
		_, stderr, code := run(t, tt.stdin, tt.cfg)
		if code != tt.code || !strings.Contains(stderr, tt.errSubstr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tt.name, code, stderr, tt.code, tt.errSubstr)
		}
	}
}

func TestNewerSchemaWarnsOnce(t *testing.T) {
	a, b := okRecord("r", 0, 100), okRecord("r", 1, 100)
	a.Schema, b.Schema = record.Schema+1, record.Schema+1
	stdout, stderr, code := run(t, lines(t, a, b), Config{Format: "json"})
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
	if _, stderr, code := run(t, in, Config{CSVFile: path}); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Same columns: one more row, no second header.
	if _, stderr, code := run(t, in, Config{CSVFile: path, Format: "json"}); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := readCSV(t, path)
	if len(rows) != 3 || rows[0][0] != "run_id" || rows[1][0] != "r1" || rows[2][0] != "r1" {
		t.Fatalf("rows after two appends: %q", rows)
	}
	before, _ := os.ReadFile(path)
	// Other percentiles, other columns: refuse, touch nothing, not even stdout.
	stdout, stderr, code := run(t, in, Config{CSVFile: path, Percentiles: "50,99.9"})
	if code != cmdline.ExitFailure || stdout != "" || !strings.Contains(stderr, "header differs") || !strings.Contains(stderr, "ttft_p99_9_ms") {
		t.Errorf("mismatch: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the CSV file changed after a header mismatch")
	}
	// An empty existing file gets the header.
	empty := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	run(t, in, Config{CSVFile: empty})
	if rows := readCSV(t, empty); len(rows) != 2 || rows[0][0] != "run_id" {
		t.Errorf("empty file: %q", rows)
	}
	// A file whose last row is unfinished is refused rather than glued to.
	broken := filepath.Join(t.TempDir(), "broken.csv")
	os.WriteFile(broken, append(before, "r9,lab"...), 0o644)
	if _, stderr, code := run(t, in, Config{CSVFile: broken}); code != cmdline.ExitFailure || !strings.Contains(stderr, "newline") {
		t.Errorf("unfinished file: exit %d, %s", code, stderr)
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
		if _, stderr, code := run(t, in+"junk\n", Config{LogFile: path, Format: "csv"}); code != cmdline.ExitOK {
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
