package summary

import (
	"strings"
	"testing"

	"servebench/internal/record"
)

// sharded is r as shard name of a split run, on host with the given clock
// skew against the server (errMs its precision; errMs < 0: not measured).
func sharded(r record.Record, name, host string, skewMs, errMs float64) record.Record {
	r.Shard, r.Host = name, host
	if errMs >= 0 {
		r.ClockSkewMs, r.ClockSkewErrMs = record.Float(skewMs), record.Float(errMs)
	}
	return r
}

func TestShardsMergeIntoOneGroup(t *testing.T) {
	tests := []struct {
		name  string
		recs  []record.Record
		warns []string // expected in the warnings; none when empty
	}{{
		name: "three shards, clocks agree within their precision",
		recs: []record.Record{
			sharded(okRecord("r", 0, 100), "0/3", "a", 2, 1.5),
			sharded(okRecord("r", 1, 100), "1/3", "b", -2, 1.5),
			sharded(okRecord("r", 2, 100), "2/3", "c", 1000, 1000), // whole seconds only: cannot tell
		},
	}, {
		name: "a missing shard",
		recs: []record.Record{
			sharded(okRecord("r", 0, 100), "0/3", "a", 0, -1),
			sharded(okRecord("r", 2, 100), "2/3", "c", 0, -1),
		},
		warns: []string{"records of 2 shards (0/3, 2/3) where the run was split into 3"},
	}, {
		name: "clocks 40 ms apart",
		recs: []record.Record{
			sharded(okRecord("r", 0, 100), "0/2", "a", 30, 2),
			sharded(okRecord("r", 1, 100), "1/2", "b", -10, 2),
		},
		warns: []string{"the shards' clocks disagree by 40 ms (±4)", "shard 1/2 on b -10 ms, shard 0/2 on a +30 ms"},
	}, {
		name: "clocks 7 ms apart, measured to ±2 ms each: within the bound",
		recs: []record.Record{
			sharded(okRecord("r", 0, 100), "0/2", "a", 7, 2),
			sharded(okRecord("r", 1, 100), "1/2", "b", 0, 2),
		},
	}}
	for _, tt := range tests {
		gs := summarizeRecords(nil, tt.recs...)
		if len(gs) != 1 || gs[0].Requests != len(tt.recs) {
			t.Fatalf("%s: %d groups", tt.name, len(gs))
		}
		got := strings.Join(gs[0].Alerts, "\n") // they question the run: on stderr too
		for _, w := range tt.warns {
			if !strings.Contains(got, w) {
				t.Errorf("%s: warnings %q lack %q", tt.name, got, w)
			}
		}
		if len(tt.warns) == 0 && strings.Contains(got, "shard") {
			t.Errorf("%s: unexpected warnings %q", tt.name, got)
		}
	}
}
