package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// goodputSummary is the part of summarize's JSON these tests read.
type goodputSummary struct {
	Groups []struct {
		SLO         string   `json:"slo"`
		Requests    int      `json:"requests"`
		ReqPerS     float64  `json:"req_per_s"`
		GoodputPerS *float64 `json:"goodput_req_per_s"`
		SLOMetRatio *float64 `json:"slo_met_ratio"`
		Warnings    []string `json:"warnings"`
	} `json:"groups"`
}

func parseGoodput(t *testing.T, out string) goodputSummary {
	t.Helper()
	var s goodputSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil || len(s.Groups) != 1 {
		t.Fatalf("summarize JSON (%v), want one group:\n%s", err, out)
	}
	return s
}

// TestGoodputGate: llmsim's TTFT is exactly 50 ms, so a 40 ms objective
// is met by no request and the gate exits 4, and a 100 ms objective by
// every request.
func TestGoodputGate(t *testing.T) {
	url := startSim(t, "--ttft", "50ms", "--itl", "5ms")
	raw := t.TempDir() + "/runs.jsonl"
	// The gate fails in a pipe, as a script would run it: exit 9 is the goodput gate's.
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" -n 10 --max-tokens 4 --ignore-eos --label gate -q | tee "+quote(raw)+
		" | summarize --slo ttft=40ms --min-goodput-ratio 0.9 --format json")
	if code != 9 {
		t.Fatalf("ttft=40ms: exit %d, want 4; stderr: %s", code, stderr)
	}
	g := parseGoodput(t, out).Groups[0]
	if g.Requests != 10 || g.SLO != "ttft=40ms" || g.SLOMetRatio == nil || *g.SLOMetRatio != 0 || g.GoodputPerS == nil || *g.GoodputPerS != 0 {
		t.Errorf("ttft=40ms: %+v, want 10 requests, none good", g)
	}
	for _, want := range []string{
		"summarize: goodput: run ", ", gate, concurrency 1, unpaced: slo_met_ratio 0.000 (0 of 10 requests met ttft=40ms) is 0.900 below --min-goodput-ratio 0.9: 9 more good requests needed\n",
		"summarize: 1 of 1 group below --min-goodput-ratio 0.9\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	out, stderr, code = sh(t, time.Minute, "summarize --slo ttft=100ms --min-goodput-ratio 0.9 --format json "+quote(raw))
	stderr = withoutReadLag(stderr) // a busy machine may keep genload from reading on time: not this test's subject
	if code != 0 || stderr != "" {
		t.Fatalf("ttft=100ms: exit %d, want 0 and nothing on stderr (llmsim honours ignore_eos); stderr: %s", code, stderr)
	}
	g = parseGoodput(t, out).Groups[0]
	if g.SLOMetRatio == nil || *g.SLOMetRatio != 1 || g.GoodputPerS == nil || *g.GoodputPerS != g.ReqPerS {
		t.Errorf("ttft=100ms: %+v, want every request good: goodput = req/s", g)
	}

	text, _, code := sh(t, time.Minute, "summarize --slo ttft=100ms,e2e=5s "+quote(raw))
	if code != 0 || !strings.Contains(text, "Goodput SLO:                             ttft=100ms e2e=5s\n") ||
		!strings.Contains(text, "SLO met (% of requests):                 100.00 (10 of 10)\n") || !strings.Contains(text, "Request goodput (req/s):") {
		t.Errorf("text report, exit %d:\n%s", code, text)
	}
	_, stderr, code = sh(t, time.Minute, "summarize --min-goodput-ratio 0.9 "+quote(raw))
	if code != 2 || !strings.Contains(stderr, "--min-goodput-ratio needs --slo") {
		t.Errorf("gate without --slo: exit %d, stderr %s", code, stderr)
	}
}

// TestGoodputRateShortfall: an open loop at 20 req/s capped at one request
// in flight against 100 ms answers can send only about 10 a second, and
// summarize says so on stderr; uncapped, the sends keep the schedule and
// nothing is said, although requests / duration_s (which waits for the
// last answer) is some 9% below the rate.
func TestGoodputRateShortfall(t *testing.T) {
	url := startSim(t, "--ttft", "100ms", "--itl", "1ms")
	load := "genload --url " + url + " -r 20 --arrival constant -n 10 --max-tokens 2 --ignore-eos -q"
	out, stderr, code := sh(t, time.Minute, load+" --max-concurrency 1 | summarize --format json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "20 req/s: achieved rate ") || !strings.Contains(stderr, "below the target 20 req/s") ||
		!strings.Contains(stderr, "the sends fell behind a schedule of 20.00 req/s") {
		t.Errorf("capped: stderr lacks the shortfall:\n%s", stderr)
	}
	warnings := strings.Join(parseGoodput(t, out).Groups[0].Warnings, "\n")
	if !strings.Contains(warnings, "achieved rate") || !strings.Contains(warnings, "requests left late") {
		t.Errorf("capped: JSON warnings %q, want the shortfall and the client lag", warnings)
	}

	out, stderr, code = sh(t, time.Minute, load+" | summarize --format json")
	if code != 0 || strings.Contains(stderr, "achieved rate") {
		t.Errorf("uncapped: exit %d, stderr:\n%s", code, stderr)
	}
	if g := parseGoodput(t, out).Groups[0]; float64(g.Requests) > 0 && strings.Contains(strings.Join(g.Warnings, " "), "achieved rate") {
		t.Errorf("uncapped: warnings %q", g.Warnings)
	}
}

// withoutReadLag drops summarize's read-lag warnings from stderr: they say
// the machine kept genload from reading on time, which tests of other
// things do not judge (TestReadLag does).
func withoutReadLag(stderr string) string {
	var keep []string
	for _, line := range strings.SplitAfter(stderr, "\n") {
		if !strings.Contains(line, "genload read tokens late") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}
