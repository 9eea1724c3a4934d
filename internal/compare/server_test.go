package compare

import (
	"math"
	"strings"
	"testing"

	"servebench/internal/summary"
)

// TestServerBuildsNamed: the sides said different builds and weights: the
// table warns; one side silent (older records) says nothing.
func TestServerBuildsNamed(t *testing.T) {
	run := func(id, version, root string) summary.Group {
		return summary.Group{RunID: id, Point: summary.Point{Label: "l", Concurrency: 1}, Server: "http://h:8000", Model: "m",
			ServerVersion: version, ModelRoot: root, Requests: 10, OK: 10}
	}
	res := Compare([]summary.Group{run("a", "0.10.1", "/w/a")}, []summary.Group{run("b", "0.11.0", "/w/b")}, Options{Old: "old", New: "new"})
	got := strings.Join(res.Tables[0].Warnings, "\n")
	for _, want := range []string{`server build (server_version) differs: "0.10.1" in old, "0.11.0" in new`, `model weights (model_root) differs: "/w/a" in old, "/w/b" in new`} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings %q lack %q", got, want)
		}
	}
	res = Compare([]summary.Group{run("a", "", "")}, []summary.Group{run("b", "0.11.0", "/w/b")}, Options{Old: "old", New: "new"})
	if got := strings.Join(res.Tables[0].Warnings, "\n"); strings.Contains(got, "server_version") || strings.Contains(got, "model_root") {
		t.Errorf("one side silent: %q", got)
	}
}

// TestServerRows: the server figures of each side are the medians of its
// runs, untested; a metric neither side has is left out.
func TestServerRows(t *testing.T) {
	nan := math.NaN()
	run := func(id string, waiting float64) summary.Group {
		return summary.Group{RunID: id, Point: summary.Point{Label: "l", Concurrency: 1}, Requests: 10, OK: 10,
			ServerMetrics: &summary.ServerStats{WaitingMean: waiting, RunningMean: nan, RunningMax: nan, WaitingMax: nan, KVCacheUsageMean: nan, KVCacheUsageMax: nan,
				PrefixCacheHitRate: nan, Preemptions: nan, GenTokPerS: nan, SpecAcceptance: nan, TTFTMeanMs: nan, QueueMeanMs: nan, ITLMeanMs: nan, E2EMeanMs: nan}}
	}
	res := Compare([]summary.Group{run("a", 1), run("b", 3), run("c", 2)}, []summary.Group{run("d", 6), {RunID: "e", Point: summary.Point{Label: "l", Concurrency: 1}, Requests: 10, OK: 10}}, Options{})
	rows := res.Tables[0].Server
	if len(rows) != 1 || rows[0].Name != "server_waiting_mean" || rows[0].Old != 2 || rows[0].New != 6 || rows[0].Delta != 4 || rows[0].DeltaRel != 2 {
		t.Errorf("server rows %+v", rows)
	}
	if res := Compare([]summary.Group{{RunID: "a", Point: summary.Point{Label: "l"}, Requests: 1}}, []summary.Group{{RunID: "b", Point: summary.Point{Label: "l"}, Requests: 1}}, Options{}); len(res.Tables[0].Server) != 0 {
		t.Errorf("no samples: %+v", res.Tables[0].Server)
	}
}
