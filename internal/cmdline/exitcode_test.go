package cmdline

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestExitTableIsOneToOne: no two meanings share a number and no meaning
// has two numbers.
func TestExitTableIsOneToOne(t *testing.T) {
	codes, meanings := map[ExitCode]bool{}, map[string]bool{}
	for _, row := range exitMeanings {
		if codes[row.Code] || meanings[row.Meaning] || row.Meaning == "" {
			t.Errorf("row %d %q repeats a code or a meaning, or has none", row.Code, row.Meaning)
		}
		codes[row.Code], meanings[row.Meaning] = true, true
	}
}

// docRow is a row of docs/exit-codes.md's table: | code | name | ... |.
var docRow = regexp.MustCompile("(?m)^\\| *([0-9]+) *\\| *`([A-Za-z]+)` *\\|")

// TestExitTableMatchesDocs: docs/exit-codes.md lists exactly the table's
// codes, under the constants' names.
func TestExitTableMatchesDocs(t *testing.T) {
	data, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	names := map[ExitCode]string{ExitOK: "ExitOK", ExitFailure: "ExitFailure", ExitUsage: "ExitUsage",
		ExitUnreachable: "ExitUnreachable", ExitNotReady: "ExitNotReady", ExitNoModel: "ExitNoModel",
		ExitAuth: "ExitAuth", ExitSmoke: "ExitSmoke", ExitBadInput: "ExitBadInput", ExitGoodput: "ExitGoodput",
		ExitRegression: "ExitRegression", ExitTestFailed: "ExitTestFailed", ExitLocked: "ExitLocked", ExitFailedReqs: "ExitFailedReqs", ExitStopRule: "ExitStopRule",
		ExitSIGINT: "ExitSIGINT", ExitSIGTERM: "ExitSIGTERM"}
	if len(names) != len(exitMeanings) {
		t.Fatalf("the test names %d codes, the table has %d", len(names), len(exitMeanings))
	}
	documented := map[ExitCode]bool{}
	for _, m := range docRow.FindAllStringSubmatch(string(data), -1) {
		n, _ := strconv.Atoi(m[1])
		c := ExitCode(n)
		if names[c] != m[2] {
			t.Errorf("docs/exit-codes.md: %d is %s, the code says %q", n, m[2], names[c])
		}
		documented[c] = true
	}
	for _, row := range exitMeanings {
		if !documented[row.Code] {
			t.Errorf("docs/exit-codes.md lacks %d (%s)", row.Code, row.Meaning)
		}
	}
}

// TestScriptsUseTheTable: every EXIT_NAME=N the shell scripts define is
// the table's number for that name.
func TestScriptsUseTheTable(t *testing.T) {
	byName := map[string]ExitCode{"FAILURE": ExitFailure, "USAGE": ExitUsage, "REGRESSION": ExitRegression,
		"TEST_FAILED": ExitTestFailed, "LOCKED": ExitLocked, "NOT_READY": ExitNotReady}
	def := regexp.MustCompile(`EXIT_([A-Z_]+)=([0-9]+)`)
	for _, script := range []string{"../../scripts/run_benchmarks.sh", "../../scripts/real_engine.sh"} {
		data, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range def.FindAllStringSubmatch(string(data), -1) {
			n, _ := strconv.Atoi(m[2])
			want, ok := byName[m[1]]
			if !ok || want != ExitCode(n) {
				t.Errorf("%s: EXIT_%s=%d, the table says %d (%s)", script, m[1], n, want, strings.ToLower(m[1]))
			}
		}
	}
}

func TestExitHelp(t *testing.T) {
	got := ExitHelp(ExitOK, ExitRegression)
	if !strings.Contains(got, "\n    0  success") || !strings.Contains(got, "\n   10  regression past --fail-on") {
		t.Errorf("ExitHelp: %q", got)
	}
}
