package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// TestShardsSplitTracesAndSessions: a trace's lines and a conversation
// run's sessions split across 3 shards as one process sends them: line i
// (session i, all its turns) to shard i mod 3, at the single run's offsets
// within 1 ms, every shard leading its prompts with the run's one salt.
func TestShardsSplitTracesAndSessions(t *testing.T) {
	url := startSim(t, "--ttft", "5ms", "--itl", "1ms")
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.jsonl")
	var lines strings.Builder
	for i := range 9 {
		fmt.Fprintf(&lines, `{"timestamp": %d, "input_length": 40, "output_length": 3, "hash_ids": [%d]}`+"\n", 15*i, i%2)
	}
	if err := os.WriteFile(trace, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, flags string
		records     int
		// key names what one process sends once: a trace line, a
		// session's turn; first marks the records whose scheduled_at is
		// the schedule's (a session's first turn; every trace line).
		key   func(r record.Record) string
		first func(r record.Record) bool
	}{
		{"trace", "--trace " + quote(trace) + " --ignore-eos -q", 9,
			func(r record.Record) string { return strconv.Itoa(r.Seq) }, func(record.Record) bool { return true }},
		{"sessions", "--turns 2 --input-tokens 10 --max-tokens 3 --ignore-eos -r 30 -n 6 --seed 3 -q", 12,
			func(r record.Record) string {
				return r.SessionID[strings.LastIndex(r.SessionID, "-s"):] + "/" + strconv.Itoa(r.Turn)
			}, func(r record.Record) bool { return r.Turn == 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := filepath.Join(dir, c.name)
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			out, stderr, code := sh(t, time.Minute, "genload --url "+url+" "+c.flags+" --run-id single")
			if code != 0 {
				t.Fatalf("single run: exit %d: %s", code, stderr)
			}
			single := readRecords(t, strings.NewReader(out))
			shards, errs := runShards(t, d, "--url "+url+" "+c.flags)
			if strings.Contains(errs, "after --start-at") {
				t.Logf("a shard started late (a busy machine): %s", errs)
			}
			offsets := func(recs []record.Record) map[string]time.Duration {
				var t0 time.Time
				for _, r := range recs {
					if c.first(r) && (t0.IsZero() || r.ScheduledAt.Before(t0)) {
						t0 = r.ScheduledAt
					}
				}
				m := map[string]time.Duration{}
				for _, r := range recs {
					m[c.key(r)] = r.ScheduledAt.Sub(t0)
				}
				return m
			}
			var merged []record.Record
			for k, recs := range shards {
				for _, r := range recs {
					if !r.OK || r.Shard != fmt.Sprintf("%d/3", k) {
						t.Fatalf("shard %d: %+v", k, r)
					}
					n := r.Seq
					if c.name == "sessions" {
						id, _ := strconv.Atoi(r.SessionID[strings.LastIndex(r.SessionID, "-s")+2:])
						n = id - 1 // session ids count from 1
					}
					if n%3 != k {
						t.Errorf("shard %d sent %s, which is shard %d's", k, c.key(r), n%3)
					}
				}
				merged = append(merged, recs...)
			}
			if len(merged) != c.records || len(single) != c.records {
				t.Fatalf("the shards sent %d requests, one process %d; want %d", len(merged), len(single), c.records)
			}
			want, got := offsets(single), offsets(merged)
			for key, w := range want {
				g, ok := got[key]
				if !ok {
					t.Fatalf("%s: no shard sent it", key)
				}
				if c.name == "trace" && (g-w).Abs() > time.Millisecond {
					t.Errorf("%s scheduled at +%v by the shards, +%v by one process", key, g, w)
				}
			}
			for _, r := range merged {
				if c.first(r) {
					if g, w := got[c.key(r)], want[c.key(r)]; (g - w).Abs() > time.Millisecond {
						t.Errorf("%s scheduled at +%v by the shards, +%v by one process", c.key(r), g, w)
					}
				}
			}
			// One run, one salt: a trace's shared hash block is cached across shards.
			if c.name == "trace" {
				hits := 0
				for _, r := range merged {
					if r.CachedTokens > 0 {
						hits++
					}
				}
				if hits < 6 { // lines 2..8 share block 0 or 1 with an earlier line
					t.Errorf("%d of 9 trace lines found their shared block in the cache: the shards salted differently?", hits)
				}
			}
		})
	}
}
