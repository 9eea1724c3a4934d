// Package e2e runs the built binaries the way a user does: in shell pipes,
// against llmsim (whose latencies are known) and against an independent
// vLLM-shaped server written here.
package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"servebench/e2e/e2etest"
	"servebench/internal/record"
)

// binDir holds the binaries built once for all tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "servebench-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	build := exec.Command("go", "build", "-o", dir+"/", "../cmd/probe", "../cmd/genload", "../cmd/summarize", "../cmd/llmsim")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func bin(name string) string { return filepath.Join(binDir, name) }

var simURL = regexp.MustCompile(`http://[^ ]+`)

// startSim starts llmsim on a free port and returns its base URL; it is
// stopped when the test ends.
func startSim(t *testing.T, flags ...string) string {
	t.Helper()
	args := append([]string{"--addr", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(bin("llmsim"), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, cmd)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if u := simURL.FindString(sc.Text()); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("llmsim did not print its URL")
	}
	return ""
}

// stopAtCleanup stops a started server when the test ends: SIGINT, then
// a kill if it has not exited within 5 s.
func stopAtCleanup(t *testing.T, cmd *exec.Cmd) {
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
}

// sh runs a bash pipeline with the binaries first on PATH.
func sh(t *testing.T, timeout time.Duration, script string) (string, string, int) {
	t.Helper()
	return e2etest.Sh(t, binDir, nil, timeout, script)
}

// readRecords parses JSON lines, failing the test on a bad one.
func readRecords(t *testing.T, r io.Reader) []record.Record {
	t.Helper()
	return e2etest.ReadRecords(t, r, "output")
}

func quote(s string) string { return e2etest.Quote(s) }

// deadURL is a loopback URL where nothing listens: a port just freed.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
