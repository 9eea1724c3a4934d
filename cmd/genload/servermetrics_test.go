package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"servebench/internal/cmdline"
	"servebench/internal/servermetrics"
	"servebench/internal/sim"
)

// TestServerMetrics: samples go to FILE (appended), never to stdout; the
// first is taken before the first request and the last after the last, so
// the counters' rise is the run's work; the flags are checked.
func TestServerMetrics(t *testing.T) {
	url := newSim(t, func(c *sim.Config) { c.MaxNumSeqs = 2 })
	file := filepath.Join(t.TempDir(), "m.jsonl")
	for range 2 {
		stdout, stderr, code := genloadRun(context.Background(), "--url", url, "-n", "6", "-c", "3", "--max-tokens", "5", "--ignore-eos", "-q", "--server-metrics", file, "--server-metrics-interval", "10ms")
		if code != cmdline.ExitOK || strings.Count(stdout, "\n") != 6 || strings.Contains(stdout, servermetrics.Kind) || stderr != "" {
			t.Fatalf("code %d stderr %q stdout %q", code, stderr, stdout)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	byRun := map[string][]servermetrics.Line{}
	var runs []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		l, err := servermetrics.DecodeLine([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if byRun[l.RunID] == nil {
			runs = append(runs, l.RunID)
		}
		byRun[l.RunID] = append(byRun[l.RunID], l)
	}
	if len(runs) != 2 {
		t.Fatalf("runs %v: the second run appends", runs)
	}
	for i, id := range runs {
		ls := byRun[id]
		first, last := ls[0], ls[len(ls)-1]
		if got := last.Counters[servermetrics.GenerationTokens] - first.Counters[servermetrics.GenerationTokens]; got != 30 {
			t.Errorf("run %d: generation tokens rose by %v, want 6 requests x 5", i, got)
		}
		if first.Concurrency != 0 || last.Concurrency != 3 || last.MaxTokens != 5 {
			t.Errorf("run %d: first %+v last %+v", i, first, last)
		}
	}
	for _, args := range [][]string{
		{"--server-metrics-interval", "1s"},
		{"--server-metrics", file, "--server-metrics-interval", "1ms"},
		{"--server-metrics", file, "--server-metrics-url", "localhost:9/metrics"},
		{"--server-metrics", filepath.Join(t.TempDir(), "no", "such", "dir")},
	} {
		stdout, stderr, code := genloadRun(context.Background(), append([]string{"--url", url, "-n", "1"}, args...)...)
		if code != cmdline.ExitUsage || stdout != "" || !strings.Contains(stderr, "--server-metrics") {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
}

// TestServerMetricsKey: the API key goes to /metrics of the server under
// load, never to a metrics URL elsewhere.
func TestServerMetricsKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"http://h:8000/metrics", "http://h:8000", true},
		{"http://H:8000/metrics", "http://h:8000/x", true},
		{"http://h:9090/metrics", "http://h:8000", false},
		{"https://h:8000/metrics", "http://h:8000", false},
		{"http://other:8000/metrics", "http://h:8000", false},
	} {
		if got := sameOrigin(tc.a, tc.b); got != tc.same {
			t.Errorf("sameOrigin(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
