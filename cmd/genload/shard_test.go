package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"servebench/internal/cmdline"
)

// TestShardAndURLFlags: --shard, --start-at, --url lists and --url-mix,
// wrong and right, through the whole program.
func TestShardAndURLFlags(t *testing.T) {
	a, b := newSim(t, nil), newSim(t, nil)
	soon := time.Now().Add(300 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	tests := []struct {
		name    string
		args    []string
		code    cmdline.ExitCode
		records int
		stderr  string // a substring
	}{
		{"shard of a closed loop", []string{"--url", a, "--shard", "1/2", "--run-id", "r", "-c", "2", "-n", "5", "--max-tokens", "2"}, cmdline.ExitOK, 2, "without --start-at"},
		{"shard at a start", []string{"--url", a, "--shard", "0/2", "--start-at", soon, "-r", "50", "-n", "4", "--max-tokens", "2"}, cmdline.ExitOK, 2, "waiting"},
		{"K out of range", []string{"--url", a, "--shard", "2/2", "--run-id", "r"}, cmdline.ExitUsage, 0, `--shard "2/2": want K/N`},
		{"no common run id", []string{"--url", a, "--shard", "0/2", "-c", "2"}, cmdline.ExitUsage, 0, "--shard needs a run id common to every shard: give --run-id, or --start-at"},
		{"fewer workers than shards", []string{"--url", a, "--shard", "0/3", "--run-id", "r", "-c", "2"}, cmdline.ExitUsage, 0, "--concurrency 2 cannot be split into 3 shards"},
		{"bad start", []string{"--url", a, "--start-at", "noon"}, cmdline.ExitUsage, 0, `--start-at "noon": want an RFC 3339 time`},
		{"stale start", []string{"--url", a, "--start-at", "2020-01-01T00:00:00Z"}, cmdline.ExitUsage, 0, "a stale value"},
		{"two replicas", []string{"--url", a + "," + b, "-n", "4", "-c", "2", "--max-tokens", "2"}, cmdline.ExitOK, 4, "4 requests"},
		{"repeated --url", []string{"--url", a, "--url", b, "--url-mix", "least-inflight", "-n", "2", "--max-tokens", "2"}, cmdline.ExitOK, 2, ""},
		{"empty replica", []string{"--url", a + ",,", "-n", "1"}, cmdline.ExitUsage, 0, "an empty URL in the list"},
		{"bad mix", []string{"--url", a + "," + b, "--url-mix", "fastest"}, cmdline.ExitUsage, 0, `--url-mix "fastest": want round-robin, least-inflight or random`},
	}
	for _, tt := range tests {
		stdout, stderr, code := genloadRun(context.Background(), tt.args...)
		lines := strings.Count(stdout, "\n")
		if code != tt.code || lines != tt.records || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: exit %d, %d records, stderr %q; want exit %d, %d records, %q", tt.name, code, lines, stderr, tt.code, tt.records, tt.stderr)
		}
	}
}
