package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// The shards run as separate processes on loopback, not in network
// namespaces: the tests send traffic to 127.0.0.1 only, and processes in
// network namespaces of their own would reach llmsim over other
// addresses. Where the test may (root, with unshare), each shard runs in
// a UTS namespace of its own with its own host name, genload-shard-K, as
// on separate machines; elsewhere they share the machine's.

// ownHostnames is true when shards can be given host names of their own.
func ownHostnames() bool {
	if os.Geteuid() != 0 {
		return false
	}
	return exec.Command("unshare", "-u", "true").Run() == nil
}

// shardHost is the host name shard k's records should carry.
func shardHost(k int) string {
	if ownHostnames() {
		return fmt.Sprintf("genload-shard-%d", k)
	}
	h, _ := os.Hostname()
	return h
}

// shardFlags is the run every test below sends once whole and once in 3
// shards: open loop, Poisson arrivals, prompt and output lengths drawn
// from the seed, exact output lengths (ignore_eos).
const shardFlags = "-r 40 -n 45 --seed 7 --input-tokens 20 --input-tokens-range 0.5 --output-tokens 8 --output-tokens-range 0.5 --ignore-eos -q"

// runShards runs genload --shard k/3 for k = 0, 1, 2 as three processes
// started together with one --start-at, and returns each shard's records
// and the stderr of all.
func runShards(t *testing.T, dir, flags string) ([][]record.Record, string) {
	t.Helper()
	start := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	run := "genload"
	if ownHostnames() {
		run = `unshare -u sh -c 'hostname genload-shard-'$k' && exec genload "$@"' genload`
	}
	script := fmt.Sprintf(`for k in 0 1 2; do %s %s --shard $k/3 --start-at %s > %s/shard$k.jsonl 2>> %s/shards.err & done; wait`,
		run, flags, start, dir, dir)
	if _, errOut, code := sh(t, 60*time.Second, script); code != 0 {
		t.Fatalf("shards: exit %d: %s", code, errOut)
	}
	var out [][]record.Record
	for k := range 3 {
		f, err := os.Open(filepath.Join(dir, fmt.Sprintf("shard%d.jsonl", k)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, readRecords(t, f))
		f.Close()
	}
	errs, _ := os.ReadFile(filepath.Join(dir, "shards.err"))
	return out, string(errs)
}

// offsets are the records' scheduled_at from the run's first, by seq,
// with what each asked for.
type scheduled struct {
	offset                  time.Duration
	promptTokens, maxTokens int
}

func scheduleOf(recs []record.Record) map[int]scheduled {
	first := recs[0].ScheduledAt
	for _, r := range recs {
		if r.ScheduledAt.Before(first) {
			first = r.ScheduledAt
		}
	}
	m := map[int]scheduled{}
	for _, r := range recs {
		m[r.Seq] = scheduled{r.ScheduledAt.Sub(first), r.PromptTokens, r.MaxTokens}
	}
	return m
}

// summaryGroups runs summarize --format json on files.
func summaryGroups(t *testing.T, files ...string) []map[string]any {
	t.Helper()
	out, errOut, code := sh(t, 30*time.Second, "summarize --format json "+strings.Join(files, " "))
	if code != 0 {
		t.Fatalf("summarize: exit %d: %s", code, errOut)
	}
	var rep struct {
		Groups []map[string]any `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("summarize json: %v\n%s", err, out)
	}
	return rep.Groups
}

// TestShardsMergeIntoOneRun: three genload processes with --shard K/3
// against one llmsim send exactly one process's schedule (the same
// requests at the same offsets from the start, within 1 ms), each its
// third, and summarize makes one group of them whose figures are the
// single run's within noise.
func TestShardsMergeIntoOneRun(t *testing.T) {
	url := startSim(t, "--ttft", "10ms", "--itl", "2ms")
	dir := t.TempDir()
	single := filepath.Join(dir, "single.jsonl")
	if _, errOut, code := sh(t, 60*time.Second, fmt.Sprintf("genload --url %s %s --run-id single > %s", url, shardFlags, single)); code != 0 {
		t.Fatalf("single run: exit %d: %s", code, errOut)
	}
	f, err := os.Open(single)
	if err != nil {
		t.Fatal(err)
	}
	whole := readRecords(t, f)
	f.Close()
	shards, errs := runShards(t, dir, "--url "+url+" "+shardFlags)
	if strings.Contains(errs, "after --start-at") {
		t.Logf("a shard started late (a busy machine): %s", errs)
	}

	var merged []record.Record
	runIDs := map[string]bool{}
	for k, recs := range shards {
		if want := (45 + 2 - k) / 3; len(recs) != want {
			t.Errorf("shard %d sent %d requests, want %d", k, len(recs), want)
		}
		for _, r := range recs {
			if r.Shard != fmt.Sprintf("%d/3", k) || !r.OK {
				t.Errorf("shard %d wrote shard %q, ok %v", k, r.Shard, r.OK)
			}
			runIDs[r.RunID] = true
			// One machine, one clock: the check against llmsim's Date
			// finds no skew beyond its precision.
			if r.Host != shardHost(k) || r.ClockSkewMs == nil || r.ClockSkewErrMs == nil ||
				math.Abs(*r.ClockSkewMs) > *r.ClockSkewErrMs+1 || *r.ClockSkewErrMs > 510 {
				t.Fatalf("shard %d: host %q (want %q), clock %v ± %v ms", k, r.Host, shardHost(k), r.ClockSkewMs, r.ClockSkewErrMs)
			}
		}
		t.Logf("shard %d on %s: clock %+.2f ± %.2f ms against llmsim's Date", k, recs[0].Host, *recs[0].ClockSkewMs, *recs[0].ClockSkewErrMs)
		merged = append(merged, recs...)
	}
	if len(runIDs) != 1 {
		t.Errorf("the shards wrote run ids %v: they must derive one", runIDs)
	}
	want, got := scheduleOf(whole), scheduleOf(merged)
	if len(got) != len(want) || len(got) != 45 {
		t.Fatalf("the shards sent %d distinct requests, one process %d", len(got), len(want))
	}
	worst := time.Duration(0)
	for seq, w := range want {
		g, ok := got[seq]
		if !ok {
			t.Fatalf("seq %d: no shard sent it", seq)
		}
		if g.promptTokens != w.promptTokens || g.maxTokens != w.maxTokens {
			t.Errorf("seq %d: shards asked %d/%d tokens, one process %d/%d", seq, g.promptTokens, g.maxTokens, w.promptTokens, w.maxTokens)
		}
		worst = max(worst, (g.offset - w.offset).Abs())
	}
	t.Logf("merged schedule vs one process: largest offset difference %v", worst)
	if worst > time.Millisecond {
		t.Errorf("merged scheduled_at offsets differ from one process's by up to %v, want within 1 ms", worst)
	}

	files := []string{filepath.Join(dir, "shard0.jsonl"), filepath.Join(dir, "shard1.jsonl"), filepath.Join(dir, "shard2.jsonl")}
	ms, ss := summaryGroups(t, files...), summaryGroups(t, single)
	if len(ms) != 1 || len(ss) != 1 {
		t.Fatalf("summarize made %d groups of the shards, %d of the single run; want 1 each", len(ms), len(ss))
	}
	m, s := ms[0], ss[0]
	for _, k := range []string{"requests", "ok", "prompt_tokens", "output_tokens", "rate"} {
		if m[k] != s[k] {
			t.Errorf("%s: shards %v, single run %v", k, m[k], s[k])
		}
	}
	// Timings are llmsim's plus the machine's noise: the medians agree
	// within 5 ms; the duration (the same schedule, then the last answer)
	// within 10%.
	for _, k := range []string{"ttft_median_ms", "tpot_median_ms", "latency_median_ms"} {
		a, b := m[k].(float64), s[k].(float64)
		if math.Abs(a-b) > 5 {
			t.Errorf("%s: shards %.2f, single run %.2f", k, a, b)
		}
	}
	if a, b := m["duration_s"].(float64), s["duration_s"].(float64); math.Abs(a-b) > 0.1*b {
		t.Errorf("duration: shards %.3f s, single run %.3f s", a, b)
	}
	if ws, _ := m["warnings"].([]any); slices.ContainsFunc(ws, func(w any) bool { return strings.Contains(fmt.Sprint(w), "shard") }) {
		t.Errorf("warnings about the shards: %v", ws)
	}
}

// simCompletions is how many completions llmsim at url answered, from its
// /metrics.
func simCompletions(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	const series = `llmsim_http_requests_total{endpoint="/v1/completions",code="200"} `
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// TestShardsOverReplicas: genload --url a,b over two llmsims, as one
// process and as three shards: round-robin sends request i to replica i
// mod 2 in both (the index is the run's, so the shards split alike), every
// record names the replica it went to, and each llmsim answered the
// requests its records say.
func TestShardsOverReplicas(t *testing.T) {
	a := startSim(t, "--ttft", "5ms", "--itl", "1ms")
	b := startSim(t, "--ttft", "5ms", "--itl", "1ms")
	dir := t.TempDir()
	flags := fmt.Sprintf("--url %s,%s --url-mix round-robin %s", a, b, shardFlags)
	single := filepath.Join(dir, "single.jsonl")
	if _, errOut, code := sh(t, 60*time.Second, fmt.Sprintf("genload %s --run-id single > %s", flags, single)); code != 0 {
		t.Fatalf("single run: exit %d: %s", code, errOut)
	}
	shards, _ := runShards(t, dir, flags)
	f, err := os.Open(single)
	if err != nil {
		t.Fatal(err)
	}
	whole := readRecords(t, f)
	f.Close()
	bySeq := func(recs []record.Record) map[int]string {
		m := map[int]string{}
		for _, r := range recs {
			m[r.Seq] = r.URL
		}
		return m
	}
	var merged []record.Record
	for _, recs := range shards {
		merged = append(merged, recs...)
	}
	urls := []string{a + "/v1/completions", b + "/v1/completions"}
	for name, recs := range map[string][]record.Record{"one process": whole, "three shards": merged} {
		if len(recs) != 45 {
			t.Fatalf("%s: %d records, want 45", name, len(recs))
		}
		count := map[string]int{}
		for seq, u := range bySeq(recs) {
			if u != urls[seq%2] {
				t.Errorf("%s: seq %d went to %s, want %s", name, seq, u, urls[seq%2])
			}
			count[u]++
		}
		if count[urls[0]] != 23 || count[urls[1]] != 22 {
			t.Errorf("%s: split %v, want 23 and 22", name, count)
		}
	}
	// Each llmsim answered what the records say: 23 + 23 and 22 + 22.
	if na, nb := simCompletions(t, a), simCompletions(t, b); na != 46 || nb != 44 {
		t.Errorf("llmsims answered %d and %d completions, want 46 and 44", na, nb)
	}
	if gs := summaryGroups(t, filepath.Join(dir, "shard0.jsonl"), filepath.Join(dir, "shard1.jsonl"), filepath.Join(dir, "shard2.jsonl")); len(gs) != 1 || gs[0]["requests"] != float64(45) {
		t.Errorf("summarize made %d groups of the shards", len(gs))
	}
}
