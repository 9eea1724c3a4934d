package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// faultCycle has every fault llmsim injects, and none.
var faultCycle = []string{
	"none", "http400", "http429", "http500", "http503",
	"http400-flat", "http429-flat", "http500-flat", "http503-flat",
	"reset", "stream-error", "malformed", "no-done", "stall", "slow-headers", "oversized",
}

// faultWant is what genload must record for one fault.
type faultWant struct {
	kind   string // error_kind; "" for a success
	status int
	// err is the whole error message, or with a trailing "*" its start;
	// with a leading "*", a part of it.
	err string
	// tokens is the output_tokens count, -1 for any.
	tokens int
}

func (w faultWant) matches(msg string) bool {
	switch {
	case strings.HasPrefix(w.err, "*"):
		return strings.Contains(msg, w.err[1:])
	case strings.HasSuffix(w.err, "*"):
		return strings.HasPrefix(msg, w.err[:len(w.err)-1])
	}
	return msg == w.err
}

const (
	faultTimeout  = 2 * time.Second
	faultMaxBytes = 8 << 20
	faultTokens   = 8
	timeoutError  = "response not finished within the request timeout (2s)"
)

// httpWants are the HTTP faults: the server's message parsed from either
// error shape, never the raw body.
func httpWants() map[string]faultWant {
	w := map[string]faultWant{}
	for _, h := range []struct {
		name string
		code int
		msg  string
	}{
		{"http400", 400, "Bad request"},
		{"http429", 429, "Too many requests, retry after 1 s"},
		{"http500", 500, "Internal server error"},
		{"http503", 503, "The server is overloaded"},
	} {
		for _, name := range []string{h.name, h.name + "-flat"} {
			w[name] = faultWant{record.ErrHTTP, h.code, fmt.Sprintf("HTTP %d: %s (llmsim fault %s)", h.code, h.msg, name), 0}
		}
	}
	return w
}

// streamWants: mid-stream faults strike after llmsim's default 2 tokens.
func streamWants() map[string]faultWant {
	w := httpWants()
	w["none"] = faultWant{"", 200, "", faultTokens}
	w["reset"] = faultWant{record.ErrStream, 200, "*connection reset by peer", 2}
	w["stream-error"] = faultWant{record.ErrStream, 200, "error event in stream: Internal server error (llmsim fault stream-error)", 2}
	w["malformed"] = faultWant{record.ErrProtocol, 200, "malformed chunk*", 2}
	w["no-done"] = faultWant{record.ErrStream, 200, "stream ended before [DONE]", faultTokens}
	w["stall"] = faultWant{record.ErrTimeout, 200, timeoutError, 2}
	w["slow-headers"] = faultWant{record.ErrTimeout, 0, timeoutError, 0}
	w["oversized"] = faultWant{record.ErrProtocol, 200, fmt.Sprintf("*response too large (over %d bytes)", faultMaxBytes), -1}
	return w
}

// bodyWants: without streaming, faults strike where the body is sent, in
// their nearest non-streaming form.
func bodyWants() map[string]faultWant {
	w := httpWants()
	w["none"] = faultWant{"", 200, "", faultTokens}
	w["reset"] = faultWant{record.ErrStream, 200, "*connection reset by peer", 0}
	w["stream-error"] = faultWant{record.ErrHTTP, 500, "HTTP 500: Internal server error (llmsim fault stream-error)", 0}
	w["malformed"] = faultWant{record.ErrProtocol, 200, "malformed response body*", 0}
	w["no-done"] = faultWant{record.ErrStream, 200, "reading body: unexpected EOF", 0}
	w["stall"] = faultWant{record.ErrTimeout, 0, timeoutError, 0}
	w["slow-headers"] = faultWant{record.ErrTimeout, 0, timeoutError, 0}
	w["oversized"] = faultWant{record.ErrProtocol, 200, fmt.Sprintf("*response too large (over %d bytes)", faultMaxBytes), 0}
	return w
}

// responsesWants: the Responses API's faults are chat's, but for the
// parser that names a malformed event or body, and the missing end of a
// stream, which is response.completed.
func responsesWants(w map[string]faultWant, stream bool) map[string]faultWant {
	if stream {
		w["malformed"] = faultWant{record.ErrProtocol, 200, "malformed responses event*", 2}
		w["no-done"] = faultWant{record.ErrStream, 200, "stream ended before response.completed", faultTokens}
	} else {
		w["malformed"] = faultWant{record.ErrProtocol, 200, "malformed responses body*", 0}
	}
	return w
}

// TestFaultsThroughGenload runs genload against llmsim acting out every
// fault in turn, twice, and checks that each attempt has one record whose
// error kind and message name the fault's cause, and that the run ends
// within its timeouts with exit status 0.
func TestFaultsThroughGenload(t *testing.T) {
	const cycles = 2
	tests := []struct {
		name, flags string
		want        map[string]faultWant
	}{
		{"completions stream", "--endpoint completions", streamWants()},
		{"chat stream", "--endpoint chat", streamWants()},
		{"chat body", "--endpoint chat --stream=false", bodyWants()},
		{"responses stream", "--endpoint responses", responsesWants(streamWants(), true)},
		{"responses body", "--endpoint responses --stream=false", responsesWants(bodyWants(), false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := startSim(t, "--ttft", "5ms", "--itl", "2ms", "--slow-headers", "3s", "--quiet",
				"--fault-cycle", strings.Join(faultCycle, ","))
			n := cycles * len(faultCycle)
			start := time.Now()
			out, stderr, code := sh(t, 30*time.Second, fmt.Sprintf(
				"genload --url %s %s --requests %d --max-tokens %d --ignore-eos --timeout %v --max-response-bytes %d --quiet",
				url, tt.flags, n, faultTokens, faultTimeout, faultMaxBytes))
			elapsed := time.Since(start)
			if code != 0 {
				t.Fatalf("genload exit %d: %s", code, stderr)
			}
			// Two timeouts per cycle (stall, slow-headers); the rest is quick.
			if limit := time.Duration(2*cycles)*faultTimeout + 3*time.Second; elapsed > limit {
				t.Errorf("run took %v, more than %v", elapsed, limit)
			}
			recs := readRecords(t, strings.NewReader(out))
			if len(recs) != n {
				t.Fatalf("%d records for %d requests", len(recs), n)
			}
			seen := map[int]bool{}
			for _, r := range recs {
				if seen[r.Seq] || r.Seq < 0 || r.Seq >= n {
					t.Fatalf("seq %d twice or out of range", r.Seq)
				}
				seen[r.Seq] = true
				fault := faultCycle[r.Seq%len(faultCycle)]
				checkFaultRecord(t, fault, tt.want[fault], r)
			}
			checkFaultMetrics(t, url, cycles)
		})
	}
	// Headers late but within --timeout: a success, late by the delay.
	t.Run("slow headers within the timeout", func(t *testing.T) {
		t.Parallel()
		url := startSim(t, "--ttft", "5ms", "--itl", "2ms", "--quiet", "--fault-cycle", "slow-headers,none", "--slow-headers", "300ms")
		out, stderr, code := sh(t, 30*time.Second, fmt.Sprintf("genload --url %s --requests 4 --max-tokens 4 --ignore-eos --timeout %v --quiet", url, faultTimeout))
		if code != 0 {
			t.Fatalf("genload exit %d: %s", code, stderr)
		}
		recs := readRecords(t, strings.NewReader(out))
		if len(recs) != 4 {
			t.Fatalf("%d records", len(recs))
		}
		for _, r := range recs {
			slow := r.Seq%2 == 0
			if !r.OK || r.TTFTMs == nil || slow != (*r.TTFTMs >= 300) || *r.TTFTMs > 1000 {
				t.Errorf("seq %d (slow=%v): ok=%v ttft=%v error=%q", r.Seq, slow, r.OK, r.TTFTMs, r.Error)
			}
		}
	})
}

func checkFaultRecord(t *testing.T, fault string, want faultWant, r record.Record) {
	t.Helper()
	got := fmt.Sprintf("seq %d (%s): ok=%v status=%d error_kind=%q error=%q output_tokens=%d latency=%.0fms",
		r.Seq, fault, r.OK, r.Status, r.ErrorKind, r.Error, r.OutputTokens, r.LatencyMs)
	switch {
	case r.OK != (want.kind == "") || r.ErrorKind != want.kind || r.Status != want.status:
		t.Errorf("%s; want error_kind %q, status %d", got, want.kind, want.status)
	case want.kind != "" && !want.matches(r.Error):
		t.Errorf("%s; want error %q", got, want.err)
	case want.tokens >= 0 && r.OutputTokens != want.tokens:
		t.Errorf("%s; want %d output tokens", got, want.tokens)
	// genload starts the timeout's clock a little before sent_at.
	case want.kind == record.ErrTimeout && (r.LatencyMs < 1950 || r.LatencyMs > 2500):
		t.Errorf("%s; want the timeout's 2s", got)
	}
}

// checkFaultMetrics reads llmsim's count of each fault.
func checkFaultMetrics(t *testing.T, url string, want int) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, f := range faultCycle[1:] {
		if line := fmt.Sprintf(`llmsim_faults_injected_total{kind=%q} %d`, f, want); !strings.Contains(string(body), line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
