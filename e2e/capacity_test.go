package e2e

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// The capacity tests' server: llmsim with 4 slots and exact latencies, and
// requests of exactly capTokens tokens (--ignore-eos), so each request
// holds a slot for the service time
//
//	S = ttft + (capTokens-1)·itl = 20 + 15·10 = 170 ms
//
// and the server saturates at 4/S = 23.5 req/s.
const (
	capTTFTMs  = 20
	capITLMs   = 10
	capTokens  = 16
	capSlots   = 4
	capService = capTTFTMs + (capTokens-1)*capITLMs // ms
)

func capSim(t *testing.T) string {
	return startSim(t, "--max-num-seqs", strconv.Itoa(capSlots), "--ttft", fmt.Sprintf("%dms", capTTFTMs),
		"--itl", fmt.Sprintf("%dms", capITLMs), "--quiet")
}

var capacityLine = regexp.MustCompile(`capacity ([0-9.]+) (users|req/s) \(([0-9.]+)% goodput for ([^)]*)\); ([0-9.]+)-([0-9.]+) bracket; ([0-9]+) load points`)

// TestCapacitySearchConcurrency: closed-loop users against 4 slots, with
// a TTFT objective between ttft and ttft+S. The queueing arithmetic: with c
// users and 4 slots, every request of c <= 4 users is admitted at once, so
// its TTFT is ttft = 20 ms, within the 100 ms objective: the goodput ratio
// is 1. With c > 4, each round of S starts 4 requests, c-4 of which waited
// for a slot for about S, so their TTFT is at least ttft+S = 190 ms; the
// ratio is (8-c)/4: 0.75 at 5 users, 0 at 8. At a threshold of 0.85 the
// capacity is exactly 4 users, and a loaded machine's delays of tens of ms
// cannot move a TTFT across the 80 ms either side of the objective.
// Over three seeds the search must say 4, with the bracket 4-5.
func TestCapacitySearchConcurrency(t *testing.T) {
	url := capSim(t)
	for seed := 1; seed <= 3; seed++ {
		out, stderr, code := sh(t, 2*time.Minute, fmt.Sprintf(
			"genload --url %s --max-tokens %d --ignore-eos -n 24 --seed %d --search concurrency --search-min 2 --slo ttft=100 --min-goodput-ratio 0.85",
			quote(url), capTokens, seed))
		if code != 0 {
			t.Fatalf("seed %d: exit %d; stderr:\n%s", seed, code, stderr)
		}
		m := capacityLine.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("seed %d: no capacity line on stderr:\n%s", seed, stderr)
		}
		got, _ := strconv.ParseFloat(m[1], 64)
		lo, _ := strconv.ParseFloat(m[5], 64)
		hi, _ := strconv.ParseFloat(m[6], 64)
		if got != capSlots || lo != capSlots || hi != capSlots+1 || m[2] != "users" || m[4] != "ttft<=100ms" {
			t.Errorf("seed %d: %q, want capacity 4 users, bracket 4-5 (the truth: 4 slots)\n%s", seed, m[0], stderr)
		}
		recs := readRecords(t, strings.NewReader(out))
		for _, r := range recs {
			if r.Search != record.SearchConcurrency || r.SearchSLO != "ttft=100ms" || r.SearchMinGoodput != 0.85 {
				t.Fatalf("seed %d: record %d does not carry the search: %q %q %v", seed, r.Seq, r.Search, r.SearchSLO, r.SearchMinGoodput)
			}
		}
		if n, _ := strconv.Atoi(m[7]); n > 10 {
			t.Errorf("seed %d: %d load points for a bracket of 2 to 8 users", seed, n)
		}
		if seed == 1 {
			checkSummarizeCapacity(t, out)
		}
	}
}

// checkSummarizeCapacity: summarize finds the same answer from the records
// alone (its capacity CSV row), and re-judges them by a looser objective,
// which every load meets (the waiters' TTFT is about 190 ms, far from 500 ms
// even on a loaded machine), without a new run.
func checkSummarizeCapacity(t *testing.T, records string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "search.jsonl")
	if err := os.WriteFile(file, []byte(records), 0o644); err != nil {
		t.Fatal(err)
	}
	csvOut, stderr, code := sh(t, time.Minute, "summarize --format csv "+quote(file))
	if code != 0 {
		t.Fatalf("summarize: exit %d\n%s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var capRows [][]string
	for _, r := range rows[1:] {
		if r[col["search"]] != "concurrency" {
			t.Errorf("row without search=concurrency: %v", r[:3])
		}
		if r[col["capacity"]] != "" {
			capRows = append(capRows, r)
		}
	}
	if len(capRows) != 1 {
		t.Fatalf("%d capacity rows, want 1:\n%s", len(capRows), csvOut)
	}
	r := capRows[0]
	if r[col["capacity"]] != "4" || r[col["capacity_failed"]] != "5" || r[col["concurrency"]] != "4" || r[col["slo"]] != "ttft=100ms" || r[col["capacity_min_goodput"]] != "0.85" {
		t.Errorf("capacity row: capacity %s failed %s concurrency %s slo %s, want 4, 5, 4, ttft=100ms",
			r[col["capacity"]], r[col["capacity_failed"]], r[col["concurrency"]], r[col["slo"]])
	}
	text, _, _ := sh(t, time.Minute, "summarize --brief --slo ttft=500 "+quote(file))
	if !strings.Contains(text, "capacity at least 8 users (85% goodput for ttft<=500ms)") {
		t.Errorf("re-judged by ttft=500: want every load to pass:\n%s", text)
	}
}

// TestCapacitySearchRepeatsUnclearPoint: at 5 users the goodput ratio is
// 0.75 (see above), close to a 0.8 threshold: one run of 24 requests cannot
// tell it from 0.8, so the point is run again, up to --search-runs, and
// pooled, and still counts as failing; 4 users (ratio 1) are judged on
// one run.
func TestCapacitySearchRepeatsUnclearPoint(t *testing.T) {
	url := capSim(t)
	out, stderr, code := sh(t, 2*time.Minute, fmt.Sprintf(
		"genload --url %s --max-tokens %d --ignore-eos -n 24 --search concurrency --search-min 4 --search-max 5 --slo ttft=100 --min-goodput-ratio 0.8 --search-runs 3",
		quote(url), capTokens))
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	measured := map[int]int{}
	for _, r := range readRecords(t, strings.NewReader(out)) {
		if r.Phase == record.PhaseMeasure {
			measured[r.Concurrency]++
		}
	}
	// Pooled, 0.75 of 72 is still within reach of 0.8 (one-sided 95%
	// upper bound 0.83), so three runs are expected; a slow machine that
	// made more requests wait may end it clearly failing after two.
	// 4 users are clear on one run, unless the host delayed one of them
	// past the objective: then it is run again too.
	if measured[4]%24 != 0 || measured[4] == 0 || (measured[5] != 3*24 && measured[5] != 2*24) {
		t.Errorf("measured requests by users %v, want 4: 24 (one run), 5: 72 (three runs pooled)\n%s", measured, stderr)
	}
	if !strings.Contains(stderr, "5 users: ") || !strings.Contains(stderr, "repeating (run 2 of 3)") {
		t.Errorf("stderr does not show the point repeated:\n%s", stderr)
	}
	if !strings.Contains(stderr, "capacity 4 users (80% goodput for ttft<=100ms); 4-5 bracket; ") {
		t.Errorf("wrong answer:\n%s", stderr)
	}
}

// finiteMD4Goodput is the expected goodput ratio of one measured load
// point of n requests arriving as Poisson at lambda req/s into capSlots
// FCFS slots of deterministic service S, from an empty server (each
// point starts after the last one drained): the M/D/4 queue over a finite
// run, computed by simulating reps such runs. A request is good when its
// wait for a slot plus ttft is within sloMs.
func finiteMD4Goodput(lambda float64, n, reps int, sloMs float64) float64 {
	rnd := newSplitMix(1)
	good := 0
	for range reps {
		var free [capSlots]float64 // when each slot frees, ms
		t := 0.0
		for range n {
			t += -1000 / lambda * math.Log(1-rnd.float())
			k := 0
			for j := range free {
				if free[j] < free[k] {
					k = j
				}
			}
			start := max(t, free[k])
			free[k] = start + capService
			if start-t+capTTFTMs <= sloMs {
				good++
			}
		}
	}
	return float64(good) / float64(reps*n)
}

// rateAt is the rate at which finiteMD4Goodput falls to ratio, by
// bisection (it falls as the rate rises).
func rateAt(ratio float64, n int, sloMs float64) float64 {
	lo, hi := 0.1, float64(capSlots)*1000/capService
	for hi-lo > 0.01 {
		mid := (lo + hi) / 2
		if finiteMD4Goodput(mid, n, 2000, sloMs) >= ratio {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

type splitMix struct{ s uint64 }

func newSplitMix(seed uint64) *splitMix { return &splitMix{seed} }

// float is uniform in [0, 1).
func (m *splitMix) float() float64 {
	m.s += 0x9e3779b97f4a7c15
	z := m.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// TestCapacitySearchRate: open-loop Poisson arrivals into the 4 slots,
// the M/D/4 queue, with a TTFT objective of 100 ms (80 ms of waiting for
// a slot allowed). Saturation is at 4/S = 23.5 req/s, and under the
// objective the capacity is lower: finiteMD4Goodput computes the expected
// ratio of a 40-request point from an empty server (0.85 at about 17
// req/s). The requests of one open-loop point are not independent (a
// burst of arrivals makes many of them wait together), so one schedule's
// ratio spreads widely around that mean (at 20 req/s, mean 0.74, about a
// third of schedules reach 0.9); stats.OutcomesVerdict's design effect
// widens the interval for it. The test holds the answer to what the
// arithmetic makes safe: below the rate whose expected ratio is 0.80
// (about 18.6 req/s: a load clearly short of the threshold must not pass)
// and so below saturation, whatever the machine does (a slow host only
// delays requests); and, when the host disturbed few requests, at least
// the rate whose expected ratio is 0.97 (about 11.7 req/s, where nearly
// every schedule passes), less the precision. Two seeds.
func TestCapacitySearchRate(t *testing.T) {
	const n, slo, least, prec = 40, 100.0, 0.85, 0.10
	saturation := float64(capSlots) * 1000 / capService
	below, truth, above := rateAt(0.97, n, slo), rateAt(least, n, slo), rateAt(least-0.05, n, slo)
	t.Logf("M/D/4 for %d-request points: expected ratio 0.97 at %.2f req/s, 0.85 at %.2f, 0.80 at %.2f; saturation %.2f", n, below, truth, above, saturation)
	url := capSim(t)
	for seed := 1; seed <= 2; seed++ {
		out, stderr, code := sh(t, 3*time.Minute, fmt.Sprintf(
			"genload --url %s --max-tokens %d --ignore-eos -n %d --seed %d --search rate --search-min 12 --search-max 24 --search-precision 10%% --slo ttft=%g --min-goodput-ratio %g",
			quote(url), capTokens, n, seed, slo, least))
		if code != 0 {
			t.Fatalf("seed %d: exit %d; stderr:\n%s", seed, code, stderr)
		}
		got, failed := 0.0, 0.0 // "capacity below": none passed
		if m := capacityLine.FindStringSubmatch(stderr); m != nil {
			got, _ = strconv.ParseFloat(m[1], 64)
			failed, _ = strconv.ParseFloat(m[6], 64)
			t.Logf("seed %d: %s", seed, m[0])
			if failed-got > prec*got*1.01 {
				t.Errorf("seed %d: bracket %g-%g wider than --search-precision 10%%", seed, got, failed)
			}
		} else if !strings.Contains(stderr, "capacity below 12 req/s") {
			t.Fatalf("seed %d: no capacity line on stderr:\n%s", seed, stderr)
		}
		// A slow machine only delays requests, so only lowers the answer:
		// the upper bound holds whatever it does.
		if got >= saturation || got > above {
			t.Errorf("seed %d: capacity %g req/s: want it below %.2f (expected ratio 0.80) and saturation %.2f\n%s", seed, got, above, saturation, stderr)
		}
		// The lower bound holds when the machine left the requests alone.
		if d := disturbedShare(readRecords(t, strings.NewReader(out))); d > 0.03 {
			t.Logf("seed %d: the machine disturbed %.0f%% of the requests (a token gap over %d ms or a client delay over 10 ms): the lower bound is not judged", seed, 100*d, 3*capITLMs)
		} else if got < below*(1-prec) || failed < below {
			t.Errorf("seed %d: capacity %g-%g req/s: want at least %.2f (expected ratio 0.97, less the precision)\n%s", seed, got, failed, below*(1-prec), stderr)
		}
	}
}

// disturbedShare is the share of measured requests that the machine, not
// llmsim, delayed: llmsim sends a token every capITLMs exactly, so a gap of
// three times that, or a client that held the request 10 ms, is the host's
// doing.
func disturbedShare(recs []record.Record) float64 {
	n, disturbed := 0, 0
	for _, r := range recs {
		if r.Phase != record.PhaseMeasure {
			continue
		}
		n++
		late := r.QueueMs > 10
		for _, g := range r.ITLMs {
			late = late || g > 3*capITLMs
		}
		if late {
			disturbed++
		}
	}
	return float64(disturbed) / float64(max(n, 1))
}

// TestCapacitySearchRateProbe: without --search-min/--search-max a rate
// search sends one serial probe request first (recorded as warmup at
// concurrency 1) to bound the rates. Here the objective allows a wait of
// 25 ms, two service times, so the capacity under it is close to
// saturation, 4/S = 333 req/s; a rate point lasts long enough
// (L/(precision·R)) for an overload by the precision to break the SLO, so
// whatever a loaded machine does to latencies (it can only lower the
// answer), the answer is below saturation plus the precision. Loads
// closer to saturation than that no finite point tells apart from it.
func TestCapacitySearchRateProbe(t *testing.T) {
	url := startSim(t, "--max-num-seqs", "4", "--ttft", "5ms", "--itl", "1ms", "--quiet")
	const service = 5 + 7*1 // ms: 8 tokens
	out, stderr, code := sh(t, 2*time.Minute, "genload --url "+quote(url)+
		" --max-tokens 8 --ignore-eos -n 40 --search rate --slo ttft=30 --min-goodput-ratio 0.8 --search-precision 10%")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	recs := readRecords(t, strings.NewReader(out))
	if p := recs[0]; p.Phase != record.PhaseWarmup || p.Concurrency != 1 || p.Rate != 0 || p.Search != record.SearchRate {
		t.Errorf("first record %+v, want the probe: warmup, concurrency 1, unpaced", p)
	}
	if !strings.Contains(stderr, "probe: one serial request took") {
		t.Errorf("stderr does not say what the probe found:\n%s", stderr)
	}
	m := capacityLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no capacity line:\n%s", stderr)
	}
	got, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("%s", m[0])
	if saturation := 4 * 1000.0 / service; got >= saturation*1.1 {
		t.Errorf("%s: at or above saturation %.0f req/s plus the precision, 10%%", m[0], saturation)
	}
}
