package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in internal/summary/testdata")

// TestMain lets the test binary act as summarize, so the tests below run the
// real command (flags, exit codes, streams) in a pipe without a go build.
func TestMain(m *testing.M) {
	if os.Getenv("SUMMARIZE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	now = fixedNow
	os.Exit(m.Run())
}

// fixedNow is the clock of every test that writes a log.
func fixedNow() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }

// runArgs runs the program in-process with args, as the shell would
// pass them, and returns its outputs and exit code.
func runArgs(t *testing.T, stdin string, args ...string) (stdout, stderr string, code cmdline.ExitCode) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"summarize"}, args...), strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// fixtures is the directory of the record fixtures and golden files.
var fixtures, _ = filepath.Abs("../../internal/summary")

// inFixtures makes fixtures the test's working directory: the golden files
// hold the fixtures' names as given, testdata/old.jsonl.
func inFixtures(t *testing.T) { t.Chdir(fixtures) }

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

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// okRecord is a successful streamed request of run, scheduled seq seconds
// after t0 and sent on time, with 10 prompt and 5 output tokens.
func okRecord(run string, seq int, latencyMs float64) record.Record {
	at := t0.Add(time.Duration(seq) * time.Second)
	return record.Record{
		Schema: record.Schema, RunID: run, Label: "lab", Seq: seq, Phase: record.PhaseMeasure,
		Model: "m", Endpoint: "/v1/completions", Stream: true, Concurrency: 1, MaxTokens: 5,
		ScheduledAt: at, SentAt: at, TTFTMs: record.Float(10), LatencyMs: latencyMs,
		ITLMs: []float64{1, 2}, TPOTMs: record.Float((latencyMs - 10) / 4),
		PromptTokens: 10, OutputTokens: 5, TokensFrom: record.TokensFromUsage, Status: 200, OK: true,
	}
}

// failed turns r into a failure of kind.
func failed(r record.Record, kind string) record.Record {
	r.OK, r.ErrorKind, r.Status = false, kind, 0
	r.TTFTMs, r.TPOTMs, r.ITLMs, r.OutputTokens = nil, nil, nil, 0
	return r
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

// summarizeProcess runs the test binary as summarize, in a pipe.
func summarizeProcess(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SUMMARIZE_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// The fixtures, as named from the fixtures directory (inFixtures).
const (
	mixedFile = "testdata/mixed.jsonl"
	oldFile   = "testdata/old.jsonl"
	newFile   = "testdata/new.jsonl"
)

func TestCommand(t *testing.T) {
	inFixtures(t)
	data, err := os.ReadFile(mixedFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		stdin          string
		args           []string
		code           int
		stdout, stderr string // substrings; "" checks nothing
		noStdout       bool
	}{
		{"pipe in, text out", string(data), nil, 0, "Serving Benchmark Result", "stdin:6: not a JSON object", false},
		{"file and dash", string(data), []string{"--format", "csv", mixedFile, "-"}, 0, "run_id,label", "", false},
		{"strict fails after reporting", string(data), []string{"--strict", mixedFile}, 8, "", "mixed.jsonl:11:", true},
		{"no records", "", nil, 1, "", "summarize: no records", true},
		{"missing file", "", []string{"missing.jsonl"}, 1, "", "missing.jsonl", true},
		{"unknown flag", "", []string{"--bogus"}, 2, "", "summarize: unknown flag --bogus (see --help)", true},
		{"bad format", string(data), []string{"--format", "xml"}, 2, "", `--format "xml"`, true},
		{"flags after files, as a glob puts them", "", []string{mixedFile, "--format", "csv"}, 0, "run_id,label", "", false},
		{"-- ends the flags", "", []string{"--", "--format"}, 2, "", "--format: no such file", true},
		{"comparison past a gate", "", []string{"--baseline", oldFile, newFile, "--fail-on", "ttft_median_ms>+10%"}, 10, "per-run test", "summarize: regression: latency", false},
		{"benchstat-style sides", "", []string{"old=" + oldFile, "--format", "json", "new=" + newFile}, 0, `"verdict": "worse"`, "per request, which is weaker", false},
		{"gate without a comparison", "", []string{"--fail-on", "ttft_p99_ms>+1%", mixedFile}, 2, "", "needs a comparison", true},
		{"bad gate", "", []string{"--baseline", oldFile, newFile, "--fail-on", "ttft>1"}, 2, "", `unknown metric "ttft"`, true},
		{"help goes to stdout", "", []string{"--help"}, 0, "EXIT CODES", "", false},
		{"help names the regression code", "", []string{"--help"}, 0, " 10  regression past --fail-on", "", false},
		{"help names the goodput gate", "", []string{"--help"}, 0, "  9  goodput gate: slo_met_ratio below --min-goodput-ratio", "", false},
		// the flags' own help gives the table's codes
		{"help: --strict's code", "", []string{"--help"}, 0, "fail with exit code 8 on any bad input line", "", false},
		{"help: --min-goodput-ratio's code", "", []string{"--help"}, 0, "with --slo, exit 9 when a group's share", "", false},
		{"help: --fail-on's code", "", []string{"--help"}, 0, "with a comparison, exit 10 when a significant change", "", false},
		{"goodput below the gate: exit 9 after the report", "", []string{mixedFile, "--slo", "e2e=1ms", "--min-goodput-ratio", "0.9"}, 9, "Request goodput (req/s):", "summarize: goodput: run r1, latency, concurrency 1, unpaced: slo_met_ratio 0.000 (0 of 5 requests met e2e=1ms) is 0.900 below --min-goodput-ratio 0.9: 5 more good requests needed", false},
		{"goodput within the gate", "", []string{mixedFile, "--slo", "e2e=1h", "--min-goodput-ratio", "0.5", "--format", "csv"}, 0, "e2e=1h0m0s,", "", false},
		{"gate without --slo", "", []string{mixedFile, "--min-goodput-ratio", "0.9"}, 2, "", "--min-goodput-ratio needs --slo", true},
		{"unquoted objectives", "", []string{mixedFile, "--slo", "ttft=1s", "e2e=2s"}, 2, "", "e2e=2s: an objective, not a file", true},
	}
	for _, tt := range tests {
		stdout, stderr, code := summarizeProcess(t, tt.stdin, tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) || (tt.noStdout && stdout != "") {
			t.Errorf("%s: exit %d (want %d)\nstdout: %.300s\nstderr: %s", tt.name, code, tt.code, stdout, stderr)
		}
		if code != 0 && code != 2 && strings.Contains(stdout+stderr, "USAGE:") {
			t.Errorf("%s: usage text on a runtime error", tt.name)
		}
		if strings.Contains(stdout, "\x1b[") {
			t.Errorf("%s: colour codes in a pipe", tt.name)
		}
	}
}
