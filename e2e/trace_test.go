package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/stats"
)

// mooncakeTrace writes a mooncake trace of n requests, a few ms apart and
// sometimes at the same instant, whose even requests share hash blocks
// 1, 2, 3 (as many as their length needs) and odd ones have blocks of
// their own. It returns the path, each request's offset in ms and ids.
func mooncakeTrace(t *testing.T, n int) (string, []float64, [][]int) {
	t.Helper()
	var b strings.Builder
	var offs []float64
	var ids [][]int
	ts := 5000.0
	for i := range n {
		ts += []float64{0, 3, 7, 12, 20}[i*7%5]
		blocks := 1 + i%3
		var h []int
		for k := range blocks {
			if i%2 == 0 {
				h = append(h, k+1)
			} else {
				h = append(h, 1000+10*i+k)
			}
		}
		fmt.Fprintf(&b, `{"timestamp": %v, "input_length": %d, "output_length": 3, "hash_ids": %s}`+"\n", ts, 512*(blocks-1)+40, strings.ReplaceAll(fmt.Sprint(h), " ", ","))
		offs = append(offs, ts-5000)
		ids = append(ids, h)
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, offs, ids
}

// TestTraceReplay: a mooncake trace replayed at --time-scale 1 and 0.5:
// every request is scheduled at the trace's offset times the scale
// (exactly, from the first), and sent within 2 ms of it at p99 beyond the
// machine's own wake-up lateness measured meanwhile (as TestOpenLoopRate
// judges the open loop; up to three tries). Prompts are what the trace
// says: as many words as input_length, the same words for the same
// hash_ids, other words for others (llmsim's request log), max_tokens the
// output_length.
func TestTraceReplay(t *testing.T) {
	const n = 150
	path, offs, ids := mooncakeTrace(t, n)
	for _, scale := range []float64{1, 0.5} {
		t.Run(fmt.Sprint("scale ", scale), func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "requests.jsonl")
			url := startSim(t, "--ttft", "5ms", "--itl", "1ms", "--log-requests", log)
			var misses []string
			for try := 1; try <= 3; try++ {
				os.Truncate(log, 0)
				stop := make(chan struct{})
				floor := make(chan float64)
				go func() { floor <- wakeUpLateness(stop, 5*time.Millisecond) }()
				out, stderr, code := sh(t, time.Minute, fmt.Sprintf("genload --url %s --trace %s --time-scale %v --ignore-eos -q", url, path, scale))
				close(stop)
				noise := <-floor
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				recs := readRecords(t, strings.NewReader(out))
				if len(recs) != n {
					t.Fatalf("%d records, want the whole trace's %d", len(recs), n)
				}
				slices.SortFunc(recs, func(a, b recordT) int { return a.Seq - b.Seq })
				var late []float64
				for i, r := range recs {
					want := time.Duration(offs[i] * scale * float64(time.Millisecond))
					if got := r.ScheduledAt.Sub(recs[0].ScheduledAt); got-want > time.Microsecond || want-got > time.Microsecond {
						t.Fatalf("request %d scheduled at +%v, the trace says +%v", i, got, want)
					}
					if !r.OK || r.MaxTokens != 3 {
						t.Fatalf("request %d: %+v", i, r)
					}
					late = append(late, math.Abs(float64(r.SentAt.Sub(recs[0].ScheduledAt)-want))/float64(time.Millisecond))
				}
				slices.Sort(late)
				p99 := stats.Percentile(late, 99)
				t.Logf("try %d: send offsets off the trace by p50 %.3f ms, p99 %.3f ms; the machine's wake-up lateness p99 %.3f ms", try, stats.Percentile(late, 50), p99, noise)
				if p99 <= 2+noise {
					checkTracePrompts(t, log, recs, ids)
					return
				}
				misses = append(misses, fmt.Sprintf("p99 %.2f ms, want <= 2 ms + the machine's %.2f ms", p99, noise))
			}
			t.Errorf("three tries missed: %v", misses)
		})
	}
}

// checkTracePrompts holds the prompts llmsim received to the trace: after
// the run's salt, the length of each, a block's words the same wherever its
// hash id comes.
func checkTracePrompts(t *testing.T, log string, recs []recordT, ids [][]int) {
	t.Helper()
	reqs := readRequestLog(t, log)
	blocks := map[int]string{}
	salts := map[string]bool{}
	for i, r := range recs {
		words := strings.Fields(reqs[r.RequestID].Body.Prompt)
		salts[strings.Join(words[:4], " ")] = true // the run's salt leads
		words = words[4:]
		if want := 512*(len(ids[i])-1) + 40; len(words) != want {
			t.Fatalf("request %d: %d words, the trace's input_length is %d", i, len(words), want)
		}
		for k, id := range ids[i] {
			end := min(len(words), 512*(k+1))
			if end < 512*(k+1) { // a last, partial block: compare its start
				continue
			}
			block := strings.Join(words[512*k:end], " ")
			if prev, ok := blocks[id]; ok && prev != block {
				t.Fatalf("request %d: hash id %d has other words than before", i, id)
			}
			blocks[id] = block
		}
	}
	if len(salts) != 1 {
		t.Fatalf("%d salts in one run", len(salts))
	}
	seen := map[string]int{}
	for id, b := range blocks {
		if other, ok := seen[b]; ok {
			t.Fatalf("hash ids %d and %d have the same words", id, other)
		}
		seen[b] = id
	}
	if len(blocks) < 3 {
		t.Fatalf("only %d whole blocks compared", len(blocks))
	}
}

// TestTraceBad: a bad line fails before anything is sent, naming the line
// (exit 2); a trace longer than the run is cut, and genload says so.
func TestTraceBad(t *testing.T) {
	log := filepath.Join(t.TempDir(), "requests.jsonl")
	url := startSim(t, "--ttft", "1ms", "--itl", "1ms", "--log-requests", log)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"timestamp": 10, "input_length": 5, "output_length": 2}`+"\n"+`{"timestamp": 9, "input_length": 5, "output_length": 2}`+"\n"), 0o644)
	_, stderr, code := sh(t, time.Minute, "genload --url "+url+" --trace "+bad)
	if code != 2 || !strings.Contains(stderr, "bad.jsonl:2: the time 9 ms is before the line above's 10 ms") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if data, _ := os.ReadFile(log); len(data) != 0 {
		t.Errorf("a bad trace sent requests: %s", data)
	}
	path, _, _ := mooncakeTrace(t, 20)
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --trace "+path+" -n 7 --time-scale 0.1")
	if code != 0 || strings.Count(out, "\n") != 7 || !strings.Contains(stderr, "has 20 requests over") || !strings.Contains(stderr, "replaying the first 7 (--requests 7)") {
		t.Errorf("exit %d, %d records: %s", code, strings.Count(out, "\n"), stderr)
	}
	var rec struct {
		Rate float64 `json:"rate"`
	}
	json.Unmarshal([]byte(out[:strings.IndexByte(out, '\n')]), &rec)
	if rec.Rate <= 0 {
		t.Errorf("a trace's records carry its mean rate, got %v", rec.Rate)
	}
}

// TestTraceMaxConcurrency: a burst of 8 requests at one instant with
// --max-concurrency 2: never more than 2 in flight, all scheduled at the
// burst's time, the later ones' wait in queue_ms.
func TestTraceMaxConcurrency(t *testing.T) {
	url := startSim(t, "--ttft", "20ms", "--itl", "1ms")
	path := filepath.Join(t.TempDir(), "burst.jsonl")
	var b strings.Builder
	for range 8 {
		b.WriteString(`{"offset_ms": 0, "input_tokens": 5, "output_tokens": 2}` + "\n")
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --trace "+path+" --max-concurrency 2 --ignore-eos -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := readRecords(t, strings.NewReader(out))
	if len(recs) != 8 {
		t.Fatalf("%d records", len(recs))
	}
	sessions := map[string][]recordT{}
	var queued int
	for i, r := range recs {
		if !r.ScheduledAt.Equal(recs[0].ScheduledAt) || r.Concurrency != 2 {
			t.Fatalf("request %d scheduled at %v (first %v), concurrency %d", i, r.ScheduledAt, recs[0].ScheduledAt, r.Concurrency)
		}
		if r.QueueMs > 15 {
			queued++
		}
		sessions[fmt.Sprint(i)] = []recordT{r}
	}
	if n := maxOverlap(sessions); n > 2 {
		t.Errorf("%d requests in flight at once, over --max-concurrency 2", n)
	}
	if queued < 5 {
		t.Errorf("only %d of 8 requests waited for a slot in queue_ms", queued)
	}
}
