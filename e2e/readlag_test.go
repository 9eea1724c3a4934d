package e2e

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestReadLag: genload times stream chunks by the kernel's receive times
// and measures how late it handled them. A genload stopped for 150 ms in
// the middle of a run (SIGSTOP, as an overloaded client is kept from
// running) reads those chunks late: its records say so, summarize warns,
// and --strict fails with exit 8. A light run is not flagged, unless the
// machine itself wakes processes late (measured beside it).
func TestReadLag(t *testing.T) {
	url := startSim(t, "--ttft", "20ms", "--itl", "5ms")
	for _, reads := range []string{"goroutine", "loop"} {
		t.Run(reads, func(t *testing.T) { stoppedGenload(t, url, reads) })
	}
	// The same run read by read times: no lag fields, times_from read.
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" -c 2 --requests 4 --max-tokens 10 --ignore-eos -q --chunk-times read")
	if code != 0 {
		t.Fatalf("--chunk-times read: exit %d: %s", code, stderr)
	}
	for _, r := range readRecords(t, strings.NewReader(out)) {
		if r.TimesFrom != "read" || r.ReadLagP99Ms != nil {
			t.Errorf("--chunk-times read: times_from %q, read lag %v", r.TimesFrom, r.ReadLagP99Ms)
		}
	}

	// A light run: no warning, where the machine wakes processes on time
	// (a plain timer within 2 ms at p99: this VM is often 1 ms late).
	stop := make(chan struct{})
	floor := make(chan float64)
	go func() { floor <- wakeUpLateness(stop, 5*time.Millisecond) }()
	_, stderr, code = sh(t, time.Minute, "genload --url "+url+" -c 2 --requests 10 --max-tokens 20 --ignore-eos -q | summarize --strict")
	close(stop)
	noise := <-floor
	switch {
	case noise > 2:
		t.Logf("the machine woke a plain timer %.2f ms late (p99) during the light run: its silence is not judged", noise)
	case code != 0 || strings.Contains(stderr, "read tokens late"):
		t.Errorf("a light run was flagged (exit %d; the machine's wake-up lateness p99 %.2f ms): %s", code, noise, stderr)
	}
}

// stoppedGenload is TestReadLag's stopped run, read by reads (--reads).
func stoppedGenload(t *testing.T, url, reads string) {
	dir := t.TempDir()
	out, stderr, code := sh(t, time.Minute, `
genload --url `+url+` --reads `+reads+` -c 8 --requests 32 --max-tokens 40 --ignore-eos -q > `+dir+`/late.jsonl &
pid=$!
sleep 0.3
kill -STOP $pid
sleep 0.15
kill -CONT $pid
wait $pid
summarize --strict `+dir+`/late.jsonl`)
	if code != 8 || !strings.Contains(stderr, "genload read tokens late") {
		t.Fatalf("summarize --strict exit %d, want 8 with the read-lag warning; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(out, "TTFT") {
		t.Errorf("--strict wrote no report before failing:\n%s", out)
	}
	late, err := os.ReadFile(dir + "/late.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, bytes.NewReader(late))
	var worst float64
	coalesced, chunks := 0, 0
	for _, r := range recs {
		if !r.OK || r.TimesFrom != "kernel" || r.ReadLagMaxMs == nil || r.ReadLagP99Ms == nil {
			t.Fatalf("seq %d: ok %v, times_from %q, read lag %v/%v: want kernel times and lags on every record", r.Seq, r.OK, r.TimesFrom, r.ReadLagP99Ms, r.ReadLagMaxMs)
		}
		worst = max(worst, *r.ReadLagMaxMs)
		coalesced += r.CoalescedEvents
		chunks += len(r.ITLMs) + 1
	}
	// The chunks that arrived while genload was stopped waited for it, in
	// the socket, where TCP merged them: they come out of one read (a
	// stream of 5 ms gaps stopped 150 ms has about 30 such chunks).
	t.Logf("worst read lag %.2f ms; %d of %d chunks coalesced", worst, coalesced, chunks)
	if coalesced < 8*10 {
		t.Errorf("%d coalesced chunks, want about 8 streams x 30 that waited while genload was stopped", coalesced)
	}

}

// TestReadsAtScale: a run of 300 streams reads on the loop by default
// (--reads auto: 256 or more at once) and with --reads goroutine, against
// the same llmsim: every request succeeds, timed by the kernel, and both
// readers find the truth (TTFT 20 ms, ITL 5 ms) when llmsim reports itself
// on time. The first wave, 300 connections dialled at once, is warm-up.
func TestReadsAtScale(t *testing.T) {
	url := startSim(t, "--ttft", "20ms", "--itl", "5ms", "--max-num-seqs", "300")
	for _, reads := range []string{"auto", "goroutine"} {
		t.Run(reads, func(t *testing.T) {
			out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --reads "+reads+" -c 300 --requests 900 --warmup 300 --max-tokens 16 --ignore-eos -q | summarize --format json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			g := parseSummary(t, out).Groups[0]
			if g.Requests != 900 || g.OK != 900 || g.TTFTMedian == nil || g.ITLMedian == nil {
				t.Fatalf("%+v", g)
			}
			late, late99 := simLateness(t, url, "0.5"), simLateness(t, url, "0.99")
			t.Logf("TTFT median %.3f ms (truth 20), ITL median %.3f ms (truth 5); llmsim late p50 %.3f ms, p99 %.3f ms", *g.TTFTMedian, *g.ITLMedian, late, late99)
			if late > 0.5 {
				t.Logf("llmsim sent late: the medians are not judged")
				return
			}
			// Each wave's 300 requests leave together (closed loop: their
			// answers end together), and llmsim reads them one by one: a
			// first token can be as late as llmsim's own lateness says
			// (it counts from each request's arrival), plus 2 ms.
			if d := *g.TTFTMedian - 20; d < -0.5 || d > 2+late99 {
				t.Errorf("TTFT median %.3f ms, want 20 (+2 ms + llmsim's late p99 %.3f)", *g.TTFTMedian, late99)
			}
			if d := *g.ITLMedian - 5; d < -0.5 || d > 1 {
				t.Errorf("ITL median %.3f ms, want 5 (±1)", *g.ITLMedian)
			}
		})
	}
}
