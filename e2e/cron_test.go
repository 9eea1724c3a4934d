package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// suite is the command line of a small, quick run of the standard suite.
func suite(results string, flags ...string) string {
	return "SERVEBENCH_BIN=" + quote(binDir) + " ../scripts/run_benchmarks.sh --results " + quote(results) +
		" --latency-requests 3 --throughput-requests 6 --concurrency 3 --max-tokens 8 " + strings.Join(flags, " ")
}

type result struct {
	stdout, stderr string
	code           int
}

// together starts the scripts at the same instant and waits for all.
func together(t *testing.T, scripts ...string) []result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmds := make([]*exec.Cmd, len(scripts))
	outs := make([]result, len(scripts))
	bufs := make([][2]bytes.Buffer, len(scripts))
	for i, s := range scripts {
		cmd := exec.CommandContext(ctx, "bash", "-c", s)
		cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"), "NO_COLOR=1")
		cmd.Stdout, cmd.Stderr = &bufs[i][0], &bufs[i][1]
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			outs[i].code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		outs[i].stdout, outs[i].stderr = bufs[i][0].String(), bufs[i][1].String()
	}
	if ctx.Err() != nil {
		t.Fatal("the runs did not finish in 3 minutes")
	}
	return outs
}

// TestConcurrentSuiteRuns starts two real runs into one results folder at
// once, twice: without --lock-wait one refuses with exit 12 and says why;
// with it the second waits and both finish. The CSV keeps one header and
// every row whole, the log one block per run.
func TestConcurrentSuiteRuns(t *testing.T) {
	results := filepath.Join(t.TempDir(), "shared results")
	runs := together(t, suite(results, "--sim"), suite(results, "--sim"))
	codes := []int{runs[0].code, runs[1].code}
	refused := 0
	for _, r := range runs {
		switch r.code {
		case 0:
		case 12:
			refused++
			if !strings.Contains(r.stderr, "another run_benchmarks.sh holds") || !strings.Contains(r.stderr, "--lock-wait") {
				t.Errorf("refusal does not say why:\n%s", r.stderr)
			}
		default:
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
	}
	if refused != 1 {
		t.Fatalf("exit codes %v: want one run and one refusal", codes)
	}

	runs = together(t, suite(results, "--sim", "--lock-wait", "120"), suite(results, "--sim", "--lock-wait", "120"))
	for _, r := range runs {
		if r.code != 0 {
			t.Fatalf("with --lock-wait: exit %d\n%s", r.code, r.stderr)
		}
	}
	if !strings.Contains(runs[0].stderr+runs[1].stderr, "waiting up to 120s") {
		t.Errorf("neither run said it waited:\n%s\n%s", runs[0].stderr, runs[1].stderr)
	}

	rows := readCSV(t, filepath.Join(results, "benchmarks.csv"))
	if len(rows) != 1+3*2 { // three runs of two tests
		t.Fatalf("%d CSV rows, want a header and 6", len(rows))
	}
	for i, row := range rows {
		if len(row) != len(rows[0]) || (i > 0 && row[0] == "run_id") {
			t.Errorf("row %d is not whole: %q", i, row)
		}
	}
	logData, _ := os.ReadFile(filepath.Join(results, "benchmark_results.log"))
	if n := len(regexp.MustCompile(`(?m)^=== \d{4}-.* summarize: 2 groups`).FindAll(logData, -1)); n != 3 {
		t.Errorf("%d log blocks, want 3", n)
	}
	plots, _ := filepath.Glob(filepath.Join(results, "plots", "*.png"))
	if len(plots) != 3 {
		t.Errorf("plots %v, want one per run", plots)
	}
	for _, p := range plots {
		checkPNG(t, p)
	}
	reports, _ := filepath.Glob(filepath.Join(results, "reports", "*.html"))
	if len(reports) != 3 {
		t.Errorf("HTML reports %v, want one per run", reports)
	}
	for _, p := range reports {
		if page, _ := os.ReadFile(p); !strings.HasPrefix(string(page), "<!DOCTYPE html>") || !strings.Contains(string(page), `id="ttft-cdf"`) {
			t.Errorf("%s is not a report", p)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // checked by the caller
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s is not CSV: %v", path, err)
	}
	return rows
}

// TestCronBaseline: a baseline from an earlier run, then cron runs against
// it. The same settings pass; a slower server exits 6, prints nothing on
// stdout, and the log's last block says what regressed. --keep-raw prunes
// the oldest raw files and plots.
func TestCronBaseline(t *testing.T) {
	results := filepath.Join(t.TempDir(), "results")
	if _, stderr, code := sh(t, 2*time.Minute, suite(results, "--sim")); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	raws, _ := filepath.Glob(filepath.Join(results, "raw", "*.jsonl"))
	baseline := filepath.Join(t.TempDir(), "baseline.jsonl")
	if _, stderr, code := sh(t, time.Minute, "cat "+quote(raws[0])+" "+quote(raws[1])+" > "+quote(baseline)); code != 0 {
		t.Fatal(stderr)
	}

	out, stderr, code := sh(t, 2*time.Minute, suite(results, "--sim", "--cron", "--baseline", quote(baseline)))
	if code != 0 || out != "" || !strings.Contains(stderr, "no regression against") {
		t.Fatalf("same settings: exit %d, stdout %q\n%s", code, out, stderr)
	}
	if strings.Contains(stderr, "\x1b[") {
		t.Error("colour in cron mode")
	}

	out, stderr, code = sh(t, 2*time.Minute, "SERVEBENCH_SIM_FLAGS='--ttft 40ms --itl 5ms' "+suite(results, "--sim", "--cron", "--keep-raw", "4", "--baseline", quote(baseline)))
	if code != 10 || out != "" {
		t.Fatalf("slower server: exit %d (want 10), stdout %q\n%s", code, out, stderr)
	}
	// Three serial requests cannot be tested (and a warning says so); the
	// six of the throughput test can.
	for _, want := range []string{"the limit ttft_median_ms>+10% cannot fail", "summarize: regression: throughput, concurrency 3, unpaced: ttft_median_ms +",
		"REGRESSION against", "verdict: REGRESSION: 2 tests passed, but slower or worse against"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	logData, _ := os.ReadFile(filepath.Join(results, "benchmark_results.log"))
	blocks := strings.Split(string(logData), "\n=== ")
	last := blocks[len(blocks)-1]
	if !strings.Contains(last, "summarize compare: baseline vs new: ") || !strings.Contains(last, "REGRESSION") ||
		!regexp.MustCompile(`(?m)^regression: .*ttft_median_ms \+\d+\.\d\d% .* crossed >\+10%$`).MatchString(last) {
		t.Errorf("the last log block does not say what regressed:\n%s", last)
	}
	if strings.Count(string(logData), "summarize compare: ") != 2 {
		t.Errorf("want a comparison block per --baseline run:\n%s", logData)
	}
	// Three runs of two raw files each, pruned to the newest four; plots to four too.
	raws, _ = filepath.Glob(filepath.Join(results, "raw", "*.jsonl"))
	if len(raws) != 4 || strings.Contains(strings.Join(raws, " "), filepath.Base(baseline)) {
		t.Errorf("raw files after --keep-raw 4: %v", raws)
	}
	if _, err := os.Stat(baseline); err != nil {
		t.Error("the baseline was pruned")
	}
	// With --baseline the run's HTML report is the comparison's.
	reports, _ := filepath.Glob(filepath.Join(results, "reports", "*.html"))
	if len(reports) == 0 {
		t.Error("no HTML report")
	} else if page, _ := os.ReadFile(reports[len(reports)-1]); !strings.Contains(string(page), `id="comparison"`) {
		t.Errorf("%s has no comparison", reports[len(reports)-1])
	}
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"--keep-raw x", "--baseline /nonexistent", "--baseline " + quote(empty)} {
		if _, stderr, code := sh(t, time.Minute, suite(results, "--sim", bad)); code != 2 || strings.Contains(stderr, "probing") {
			t.Errorf("%s: exit %d, want 2 before anything runs\n%s", bad, code, stderr)
		}
	}
}
