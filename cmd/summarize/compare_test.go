package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"servebench/internal/cmdline"
	"servebench/internal/plot"
	"servebench/internal/record"
)

// The comparison fixture (compareSide in internal/summary/fixtures_test.go):
// the latency point has six runs a side and 10 ms more TTFT in new; the
// throughput point one run a side with 10 of 40 requests failed in new; a
// third point only in new.
const gates = "ttft_median_ms>+10%,ttft_p99_ms>+25%,req_per_s<-5%,error_rate>+0.05"

func TestCompareGolden(t *testing.T) {
	inFixtures(t)
	for _, format := range []string{"text", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := runArgs(t, "", "--baseline", oldFile, newFile, "--fail-on", gates, "--format", format)
			if code != cmdline.ExitRegression {
				t.Fatalf("exit %d, want %d: %s", code, cmdline.ExitRegression, stderr)
			}
			golden(t, "compare."+format+".golden", stdout)
			golden(t, "compare.stderr.golden", stderr) // the same on every format
		})
	}
}

func TestCompareLogGolden(t *testing.T) {
	inFixtures(t)
	path := filepath.Join(t.TempDir(), "bench.log")
	_, stderr, code := runArgs(t, "", "--baseline", oldFile, newFile, "--fail-on", gates, "--log", path, "--format", "json")
	if code != cmdline.ExitRegression {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.log.golden", string(log))
}

// TestCompareShapes checks the parts of the golden output that matter by
// name, so a reviewer need not read the golden files to trust them.
func TestCompareShapes(t *testing.T) {
	inFixtures(t)
	stdout, _, _ := runArgs(t, "", "--baseline", oldFile, newFile, "--fail-on", gates, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cell := func(label, metric, col string) string {
		for _, r := range rows[1:] {
			if r[0] == label && r[3] == metric {
				for i, h := range rows[0] {
					if h == col {
						return r[i]
					}
				}
			}
		}
		t.Fatalf("no %s %s %s", label, metric, col)
		return ""
	}
	checks := []struct{ label, metric, col, want string }{
		{"latency", "ttft_median_ms", "test", "per-run"},
		{"latency", "ttft_median_ms", "verdict", "worse"},
		{"latency", "ttft_median_ms", "failed", "ttft_median_ms>+10%"},
		{"latency", "ttft_median_ms", "old", "50.400000"},
		{"latency", "ttft_median_ms", "new", "60.400000"},
		{"latency", "ttft_p99_ms", "failed", ""}, // +19.7% is under 25%
		{"latency", "tpot_median_ms", "verdict", "~"},
		{"throughput", "ttft_median_ms", "test", "per-request"},
		{"throughput", "req_per_s", "verdict", "untested"},
		{"throughput", "req_per_s", "note", "too few values, n=1"},
		{"throughput", "error_rate", "new", "0.250000"},
		{"throughput", "error_rate", "failed", "error_rate>+0.05"},
	}
	for _, c := range checks {
		if got := cell(c.label, c.metric, c.col); got != c.want {
			t.Errorf("%s %s %s = %q, want %q", c.label, c.metric, c.col, got, c.want)
		}
	}
}

// TestCompareLabelled: benchstat's NAME=FILE arguments compare the same as
// --baseline, and a name may collect several files.
func TestCompareLabelled(t *testing.T) {
	inFixtures(t)
	want, _, _ := runArgs(t, "", "--baseline", oldFile, newFile, "--format", "json")
	got, stderr, code := runArgs(t, "", "before="+oldFile, "after="+newFile, "--format", "json")
	if code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	norm := func(s string) string {
		return strings.NewReplacer("before", "baseline", "after", "new").Replace(s)
	}
	if norm(got) != norm(want) {
		t.Errorf("labelled comparison differs from --baseline:\n%s", got)
	}
	// Stdin as the new side.
	data, _ := os.ReadFile(newFile)
	stdout, stderr, code := runArgs(t, string(data), "--baseline", oldFile)
	if code != cmdline.ExitOK || !strings.Contains(stdout, "old: baseline (testdata/old.jsonl)") ||
		!strings.Contains(stdout, "new: new (stdin)") || !strings.Contains(stdout, "6 runs vs 6") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestSidesOf(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "a=b.jsonl") // a real file whose name has "="
	os.WriteFile(odd, nil, 0o644)
	tests := []struct {
		name    string
		cfg     config
		want    string // sides as "name:file,file name:file"; "" for none
		wantErr string
	}{
		{"plain files", config{Files: []string{"a.jsonl", "b.jsonl"}}, "", ""},
		{"baseline and files", config{Baseline: []string{"o.jsonl"}, Files: []string{"n1", "n2"}}, "baseline:o.jsonl new:n1,n2", ""},
		{"baseline and stdin", config{Baseline: []string{"o.jsonl"}}, "baseline:o.jsonl new:-", ""},
		{"benchstat style", config{Files: []string{"old=a.jsonl", "new=b.jsonl"}}, "old:a.jsonl new:b.jsonl", ""},
		{"a name collects files", config{Files: []string{"old=a", "new=b", "old=c"}}, "old:a,c new:b", ""},
		{"an existing file is a file", config{Files: []string{odd}}, "", ""},
		{"a path is not a name", config{Files: []string{"dir/x=a.jsonl"}}, "", ""},
		{"three sides", config{Files: []string{"a=1", "b=2", "c=3"}}, "", "two sides"},
		{"one side", config{Files: []string{"a=1", "a=2"}}, "", "got 1 (a)"},
		{"mixed", config{Files: []string{"old=a", "b.jsonl"}}, "", "needs a NAME="},
		{"both ways", config{Baseline: []string{"o"}, Files: []string{"old=a", "new=b"}}, "", "not both"},
		{"stdin twice", config{Files: []string{"old=-", "new=-"}}, "", "only one side"},
	}
	for _, tt := range tests {
		sides, err := sidesOf(tt.cfg)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || cmdline.Code(err) != cmdline.ExitUsage {
				t.Errorf("%s: error %v, want usage error %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		var got []string
		for _, s := range sides {
			got = append(got, s.name+":"+strings.Join(s.files, ","))
		}
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestCompareErrors(t *testing.T) {
	inFixtures(t)
	other := lines(t, okRecord("x", 0, 100), func() record.Record { r := okRecord("y", 1, 100); r.Label = "other"; return r }())
	path := filepath.Join(t.TempDir(), "other.jsonl")
	os.WriteFile(path, []byte(other), 0o644)
	tests := []struct {
		name      string
		stdin     string
		args      []string
		code      cmdline.ExitCode
		errSubstr string
	}{
		{"fail-on without a comparison", "", []string{oldFile, "--fail-on", "ttft_p99_ms>+10%"}, cmdline.ExitUsage, "--fail-on needs a comparison"},
		{"alpha without a comparison", "", []string{oldFile, "--alpha", "0.01"}, cmdline.ExitUsage, "--alpha needs a comparison"},
		{"unknown metric", "", []string{"--baseline", oldFile, newFile, "--fail-on", "ttft_p90_ms>+10%"}, cmdline.ExitUsage, "unknown metric"},
		{"alpha out of range", "", []string{"--baseline", oldFile, newFile, "--alpha", "5"}, cmdline.ExitUsage, "--alpha 5"},
		{"csv file with a comparison", "", []string{"--baseline", oldFile, newFile, "--csv", "x.csv"}, cmdline.ExitUsage, "--csv appends per-run rows"},
		{"empty new side", "", []string{"--baseline", oldFile}, cmdline.ExitFailure, "no records in new (stdin)"},
		{"strict names the side", "junk\n", []string{"--baseline", oldFile, "--strict"}, cmdline.ExitBadInput, "1 bad input line in new (stdin) (--strict)"},
		// Two load points a side, none shared: nothing to compare.
		{"nothing shared", "", []string{"--baseline", oldFile, path}, cmdline.ExitFailure, "share no load point"},
	}
	for _, tt := range tests {
		stdout, stderr, code := runArgs(t, tt.stdin, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.errSubstr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tt.name, code, stderr, tt.code, tt.errSubstr)
		}
		if code != cmdline.ExitOK && stdout != "" {
			t.Errorf("%s: stdout on failure: %q", tt.name, stdout)
		}
	}
}

// TestCompareSameIsQuiet: a side against itself is "~" everywhere, fails no
// gate and exits 0.
func TestCompareSameIsQuiet(t *testing.T) {
	inFixtures(t)
	stdout, stderr, code := runArgs(t, "", "a="+oldFile, "b="+oldFile, "--fail-on", gates, "--format", "json")
	if code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Rows []struct {
			Metric, Verdict string
			Significant     bool
		}
		Regressions []any
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Rows {
		if r.Significant || (r.Verdict != "~" && r.Verdict != "untested") {
			t.Errorf("%s: %s", r.Metric, r.Verdict)
		}
	}
	if len(doc.Regressions) != 0 || len(doc.Rows) != 22 {
		t.Errorf("%d rows, regressions %v", len(doc.Rows), doc.Regressions)
	}
}

func TestPlotFlag(t *testing.T) {
	inFixtures(t)
	dir := t.TempDir()
	// Summaries: the mixed fixture, a sweep of two load points in r2.
	path := filepath.Join(dir, "runs.png")
	if _, stderr, code := runArgs(t, "", mixedFile, "--plot", path, "--format", "csv"); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkPNG(t, path, 3) // TTFT, latency, ITL; the two sweep panels
	// Comparisons, as SVG.
	svg := filepath.Join(dir, "cmp.svg")
	if _, stderr, code := runArgs(t, "", "--baseline", oldFile, newFile, "--plot", svg); code != cmdline.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(svg)
	for _, want := range []string{"<svg", "baseline latency c=1", "new throughput c=8", "Output throughput vs TTFT"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	// A wrong extension is a usage error before anything is read.
	if _, stderr, code := runArgs(t, "", "missing.jsonl", "--plot", "x.gif"); code != cmdline.ExitUsage || !strings.Contains(stderr, ".png or .svg") {
		t.Errorf("gif: exit %d, %s", code, stderr)
	}
	// Every request failed: nothing to draw is a warning, not a failure.
	none := filepath.Join(dir, "none.png")
	_, stderr, code := runArgs(t, lines(t, failed(okRecord("r", 0, 100), record.ErrConnect)), "--plot", none)
	if code != cmdline.ExitOK || !strings.Contains(stderr, "nothing to plot") {
		t.Errorf("all failed: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(none); err == nil {
		t.Error("a plot of nothing was written")
	}
	// A CSV file that refuses the rows leaves no picture behind either.
	csvFile := filepath.Join(dir, "other.csv")
	os.WriteFile(csvFile, []byte("a,b\n"), 0o644)
	refused := filepath.Join(dir, "refused.png")
	if _, _, code := runArgs(t, "", mixedFile, "--plot", refused, "--csv", csvFile); code != cmdline.ExitFailure {
		t.Errorf("CSV mismatch: exit %d", code)
	}
	if _, err := os.Stat(refused); err == nil {
		t.Error("a plot was written although the CSV append failed")
	}
}

func checkPNG(t *testing.T, path string, rows int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != 2*plot.PanelWidth || b.Dy() != rows*plot.PanelHeight+40 {
		t.Errorf("%s: %dx%d, want %dx%d", path, b.Dx(), b.Dy(), 2*plot.PanelWidth, rows*plot.PanelHeight+40)
	}
}
