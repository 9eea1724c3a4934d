package e2e

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai/openaitest"
	"servebench/internal/servermetrics"
)

// TestServerMetricsSaturated: genload --server-metrics against llmsim at
// known settings, through summarize, as a user pipes them. Four slots and
// eight in flight: the server runs four and queues four; its TTFT is the
// client's minus the network and the client's reading, its ITL llmsim's
// --itl exactly (the schedule), and the tokens it counted are the
// tokens the client received.
func TestServerMetricsSaturated(t *testing.T) {
	url := startSim(t, "--max-num-seqs", "4", "--ttft", "50ms", "--itl", "5ms")
	dir := t.TempDir()
	m := filepath.Join(dir, "m.jsonl")
	out, stderr, code := sh(t, 2*time.Minute, "genload --url "+url+" -c 8 -n 48 --max-tokens 20 --ignore-eos -q --server-metrics "+quote(m)+
		" --server-metrics-interval 50ms > "+quote(filepath.Join(dir, "r.jsonl"))+" && summarize --strict --format json "+quote(filepath.Join(dir, "r.jsonl"))+" "+quote(m))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Groups []map[string]any `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Groups) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	g := rep.Groups[0]
	num := func(k string) float64 {
		v, ok := g[k].(float64)
		if !ok {
			t.Fatalf("%s = %v", k, g[k])
		}
		return v
	}
	if n := num("server_samples"); n < 5 {
		t.Errorf("%v samples inside a window of %v s at 50 ms", n, num("duration_s"))
	}
	// The first and last samples see the load ramping up and draining.
	if v := num("server_running_mean"); v < 3.3 || v > 4 || num("server_running_max") != 4 {
		t.Errorf("running mean %v max %v, want about 4 and 4", v, num("server_running_max"))
	}
	if v := num("server_waiting_mean"); v < 2.5 || v > 4 || num("server_waiting_max") != 4 {
		t.Errorf("waiting mean %v max %v, want about 4 and 4", v, num("server_waiting_max"))
	}
	if num("server_kv_cache_usage_max") != 1 || num("server_preemptions") != 0 {
		t.Errorf("kv max %v preemptions %v", num("server_kv_cache_usage_max"), num("server_preemptions"))
	}
	if d := num("server_itl_mean_ms") - 5; math.Abs(d) > 1e-6 {
		t.Errorf("server ITL %v ms, want llmsim's 5", num("server_itl_mean_ms"))
	}
	// The client's TTFT includes the server's (from arrival, queue
	// included) and adds the network and its own reading: never less, and
	// on a loaded machine up to a few ms more.
	if d := num("ttft_mean_ms") - num("server_ttft_mean_ms"); d < -0.5 || d > 25 {
		t.Errorf("client ttft %v - server ttft %v = %v ms", num("ttft_mean_ms"), num("server_ttft_mean_ms"), d)
	}
	// Half the requests wait for a slot about one service (50 + 19x5 ms).
	if q := num("server_queue_mean_ms"); q < 30 || q > 145*2 {
		t.Errorf("server queue %v ms", q)
	}
	// The tokens counted by the server are those the client received, over
	// the same window.
	if s, c := num("server_gen_tok_per_s"), num("output_tok_per_s"); math.Abs(s-c) > 1e-6*c {
		t.Errorf("server %v tok/s, client %v", s, c)
	}
	// What the server said it is, in every record.
	recs, err := os.Open(filepath.Join(dir, "r.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer recs.Close()
	for _, r := range readRecords(t, recs) {
		if r.ServerVersion == "" || r.ModelRoot != "llmsim/tiny" {
			t.Fatalf("server_version %q model_root %q", r.ServerVersion, r.ModelRoot)
		}
	}
	data, err := os.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	first, err1 := servermetrics.DecodeLine([]byte(lines[0]))
	last, err2 := servermetrics.DecodeLine([]byte(lines[len(lines)-1]))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if first.Counters[servermetrics.GenerationTokens] != 0 || last.Counters[servermetrics.GenerationTokens] != 48*20 || last.Histograms[servermetrics.TTFTSeconds].Count != 48 {
		t.Errorf("first sample %v, last %v", first.Counters, last.Counters)
	}
}

// TestServerMetricsAbsent: a server without /metrics (openaitest, as
// Ollama) and one whose /metrics is not Prometheus text: one warning each,
// every request fine, exit 0, and no sample written.
func TestServerMetricsAbsent(t *testing.T) {
	fake := httptest.NewServer(&openaitest.Server{Model: "m", Tokens: 3})
	defer fake.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>metrics live elsewhere</body></html>\n"))
	}))
	defer garbage.Close()
	for _, tc := range []struct {
		name, args, warning string
		warnings            int // at most: one, and for skipped samples a count at the end
	}{
		{"no /metrics", "--url " + fake.URL, "404", 1},
		{"garbage", "--url " + fake.URL + " --server-metrics-url " + garbage.URL + "/metrics", "not Prometheus text", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := filepath.Join(t.TempDir(), "m.jsonl")
			out, stderr, code := sh(t, time.Minute, "genload "+tc.args+" -n 6 -c 2 -q --server-metrics "+quote(m)+" --server-metrics-interval 20ms")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			recs := readRecords(t, strings.NewReader(out))
			for _, r := range recs {
				if !r.OK {
					t.Errorf("record %+v", r)
				}
			}
			if n := strings.Count(stderr, "warning"); len(recs) != 6 || !strings.Contains(stderr, tc.warning) || n < 1 || n > tc.warnings {
				t.Errorf("%d records, stderr %q", len(recs), stderr)
			}
			if data, err := os.ReadFile(m); err != nil || len(data) != 0 {
				t.Errorf("metrics file %q, %v", data, err)
			}
		})
	}
}

// TestSlicesRampUp: summarize --slice over an open-loop run ramping up
// its rate: the finished requests per slice rise, and the server's
// running gauge with them.
func TestSlicesRampUp(t *testing.T) {
	url := startSim(t, "--ttft", "20ms", "--itl", "5ms")
	dir := t.TempDir()
	r, m := quote(filepath.Join(dir, "r.jsonl")), quote(filepath.Join(dir, "m.jsonl"))
	out, stderr, code := sh(t, 2*time.Minute, "genload --url "+url+" -r 40 --arrival constant --ramp-up 4s --duration 4s --max-tokens 10 --ignore-eos -q --server-metrics "+m+
		" --server-metrics-interval 100ms > "+r+" && summarize "+r+" "+m+" --slice 1s --format json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Slices []struct {
			Slice         int      `json:"slice"`
			LengthS       float64  `json:"length_s"`
			Finished      int      `json:"finished"`
			ReqPerS       float64  `json:"req_per_s"`
			ServerRunning *float64 `json:"server_running_mean"`
		} `json:"slices"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var full []int
	for _, s := range rep.Slices {
		if s.LengthS == 1 {
			full = append(full, s.Finished)
		}
	}
	// A constant schedule rising linearly from 0 to 40 req/s over 4 s sends
	// about 5, 15, 25 and 35 requests in the four seconds.
	if len(full) < 4 {
		t.Fatalf("slices %+v", rep.Slices)
	}
	for i := 1; i < 4; i++ {
		if full[i] <= full[i-1] {
			t.Errorf("finished per slice %v: not rising", full)
		}
	}
	if full[0] > 12 || full[3] < 25 {
		t.Errorf("finished per slice %v, want about 5, 15, 25, 35", full)
	}
	if s := rep.Slices[3].ServerRunning; s == nil || *s <= *rep.Slices[0].ServerRunning {
		t.Errorf("server running per slice: %v then %v", rep.Slices[0].ServerRunning, s)
	}
}
