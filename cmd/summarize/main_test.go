package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary act as summarize, so the tests below run the
// real command (flags, exit codes, streams) in a pipe without a go build.
func TestMain(m *testing.M) {
	if os.Getenv("SUMMARIZE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func summarize(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
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

const (
	input   = "../../internal/summary/testdata/mixed.jsonl"
	oldFile = "../../internal/summary/testdata/old.jsonl"
	newFile = "../../internal/summary/testdata/new.jsonl"
)

func TestCommand(t *testing.T) {
	data, err := os.ReadFile(input)
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
		{"file and dash", string(data), []string{"--format", "csv", input, "-"}, 0, "run_id,label", "", false},
		{"strict fails after reporting", string(data), []string{"--strict", input}, 8, "", "mixed.jsonl:11:", true},
		{"no records", "", nil, 1, "", "summarize: no records", true},
		{"missing file", "", []string{"missing.jsonl"}, 1, "", "missing.jsonl", true},
		{"unknown flag", "", []string{"--bogus"}, 2, "", "summarize: unknown flag --bogus (see --help)", true},
		{"bad format", string(data), []string{"--format", "xml"}, 2, "", `--format "xml"`, true},
		{"flags after files, as a glob puts them", "", []string{input, "--format", "csv"}, 0, "run_id,label", "", false},
		{"-- ends the flags", "", []string{"--", "--format"}, 2, "", "--format: no such file", true},
		{"comparison past a gate", "", []string{"--baseline", oldFile, newFile, "--fail-on", "ttft_median_ms>+10%"}, 10, "per-run test", "summarize: regression: latency", false},
		{"benchstat-style sides", "", []string{"old=" + oldFile, "--format", "json", "new=" + newFile}, 0, `"verdict": "worse"`, "per request, which is weaker", false},
		{"gate without a comparison", "", []string{"--fail-on", "ttft_p99_ms>+1%", input}, 2, "", "needs a comparison", true},
		{"bad gate", "", []string{"--baseline", oldFile, newFile, "--fail-on", "ttft>1"}, 2, "", `unknown metric "ttft"`, true},
		{"help goes to stdout", "", []string{"--help"}, 0, "EXIT CODES", "", false},
		{"help names the regression code", "", []string{"--help"}, 0, " 10  regression past --fail-on", "", false},
		{"help names the goodput gate", "", []string{"--help"}, 0, "  9  goodput gate: slo_met_ratio below --min-goodput-ratio", "", false},
		{"goodput below the gate: exit 9 after the report", "", []string{input, "--slo", "e2e=1ms", "--min-goodput-ratio", "0.9"}, 9, "Request goodput (req/s):", "summarize: goodput: run r1, latency, concurrency 1, unpaced: slo_met_ratio 0.000 (0 of 5 requests met e2e=1ms) is 0.900 below --min-goodput-ratio 0.9: 5 more good requests needed", false},
		{"goodput within the gate", "", []string{input, "--slo", "e2e=1h", "--min-goodput-ratio", "0.5", "--format", "csv"}, 0, "e2e=1h0m0s,", "", false},
		{"gate without --slo", "", []string{input, "--min-goodput-ratio", "0.9"}, 2, "", "--min-goodput-ratio needs --slo", true},
		{"unquoted objectives", "", []string{input, "--slo", "ttft=1s", "e2e=2s"}, 2, "", "e2e=2s: an objective, not a file", true},
	}
	for _, tt := range tests {
		stdout, stderr, code := summarize(t, tt.stdin, tt.args...)
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
