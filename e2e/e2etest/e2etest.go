// Package e2etest holds what the end-to-end suites share: running a bash
// pipeline of the built binaries as a user would, and reading the records it
// wrote. It is imported by tests only.
package e2etest

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// Sh runs script with bash -o pipefail, binDir first on PATH, NO_COLOR set
// and env added, and returns stdout, stderr and the exit code. A script
// still running at timeout fails the test.
func Sh(t *testing.T, binDir string, env []string, timeout time.Duration, script string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"), "NO_COLOR=1")
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q timed out after %v; stderr: %s", script, timeout, errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// ReadRecords parses JSON lines, failing the test on a bad one.
func ReadRecords(t *testing.T, r io.Reader, name string) []record.Record {
	t.Helper()
	var recs []record.Record
	rd := record.NewReader(r, name)
	for rd.Scan() {
		if bad := rd.BadLine(); bad != nil {
			t.Fatalf("bad record line: %v", bad)
		}
		recs = append(recs, *rd.Record())
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// Quote makes s one single-quoted shell word.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
