package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"servebench/internal/record"
)

func TestStableMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"stream broke: read tcp 127.0.0.1:43122->127.0.0.1:8000: read: connection reset by peer",
			"stream broke: read tcp ->127.0.0.1:8000: read: connection reset by peer"},
		{"write tcp6 [::1]:51000->[::1]:8000: broken pipe", "write tcp6 ->[::1]:8000: broken pipe"},
		{"HTTP 404: The model `x` does not exist.", "HTTP 404: The model `x` does not exist."},
		{"a -> b", "a -> b"},
	}
	for _, tt := range tests {
		if got := stableMessage(tt.in); got != tt.want {
			t.Errorf("stableMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTally(t *testing.T) {
	var ty tally
	recs := []record.Record{
		{Phase: record.PhaseWarmup, OK: false, ErrorKind: "http", Error: "warmup"}, // not measured
		{Phase: record.PhaseMeasure, OK: true},
		{Phase: record.PhaseMeasure, ErrorKind: "http", Error: "HTTP 500: a"},
		{Phase: record.PhaseMeasure, ErrorKind: "timeout", Error: "t"},
		{Phase: record.PhaseMeasure, ErrorKind: "http", Error: "HTTP 500: a"},
	}
	for i := range recs {
		ty.add(&recs[i])
	}
	if got := ty.kindsNow(); got != "http 2, timeout 1" {
		t.Errorf("kinds %q", got)
	}
	res := ty.take(Point{Concurrency: 2})
	if res.Attempts != 4 || res.Failed != 3 || strings.Join(res.Messages, "|") != "HTTP 500: a|t" || res.SuccessRatio() != 0.25 {
		t.Errorf("result %+v", res)
	}
	if next := ty.take(Point{}); next.Attempts != 0 || next.Failed != 0 || next.SuccessRatio() != 1 {
		t.Errorf("take does not start afresh: %+v", next)
	}
	var b strings.Builder
	reportFailures(&b, res, false)
	if want := "genload: FAILURES concurrency 2: 3 of 4 requests failed (http 2, timeout 1); first errors: \"HTTP 500: a\", \"t\"\n"; b.String() != want {
		t.Errorf("report %q, want %q", b.String(), want)
	}
	b.Reset()
	reportFailures(&b, PointResult{Attempts: 4, Failed: 2}, false) // half is not most
	if b.Len() != 0 {
		t.Errorf("reported %q", b.String())
	}
}

// TestProgressLine: the status line's fields, on a clock of its own.
func TestProgressLine(t *testing.T) {
	cfg := &Config{Requests: 10, Warmup: 0, Points: []Point{{Concurrency: 1}, {Concurrency: 4}}}
	var c counters
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{cfg: cfg, c: &c, start: start}
	c.sent.Store(13)
	c.done.Store(10)
	c.failed.Store(1)
	c.point.Store(1)
	c.measured.add(&record.Record{Phase: record.PhaseMeasure, ErrorKind: "http"})
	p.line(start.Add(5 * time.Second)) // a first sample
	got := p.line(start.Add(10 * time.Second))
	want := "genload: 10/20 done, 1 failed (http 1), 3 in flight, 0.0 req/s, concurrency 4 (2 of 2), 0:10 elapsed, ~0:10 left"
	if got != want {
		t.Errorf("line\n%q\nwant\n%q", got, want)
	}
	c.done.Store(20)
	if got := p.line(start.Add(12 * time.Second)); !strings.Contains(got, ", 5.0 req/s,") {
		t.Errorf("the rate is the last seconds', not the run's: %q", got)
	}
}

func TestReportClientLimits(t *testing.T) {
	var b strings.Builder
	reportFailures(&b, PointResult{Point: Point{Concurrency: 200}, Attempts: 10, Failed: 1, Kinds: map[string]int{record.ErrClient: 1}}, false)
	if !strings.Contains(b.String(), "CLIENT LIMIT concurrency 200: 1 requests failed on genload's own limits") {
		t.Errorf("got %q", b.String())
	}
}

// TestBackoff: a closed-loop worker's pause after attempts that got no
// connection doubles from 10 ms to 1 s; any other outcome resets it.
func TestBackoff(t *testing.T) {
	var d time.Duration
	var got []time.Duration
	for _, kind := range []string{record.ErrConnect, record.ErrConnect, record.ErrClient, "", record.ErrConnect, record.ErrHTTP} {
		d = nextBackoff(d, kind)
		got = append(got, d)
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 0, 10 * time.Millisecond, 0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for range 10 {
		d = nextBackoff(d, record.ErrConnect)
	}
	if d != time.Second {
		t.Errorf("capped at %v", d)
	}
}

// TestNoFailureFlood: a closed loop against a port nobody listens on
// backs off: a 1 s run at concurrency 4 makes tens of attempts, not tens
// of thousands, and still one record each.
func TestNoFailureFlood(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := &Config{URL: "http://" + addr, Model: "m", Duration: time.Second, Concurrencies: []int{4}, Timeout: time.Second}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(out.String(), "\n")
	if lines > 4*12 || int64(lines) != res.Failed || lines == 0 {
		t.Errorf("%d records, %d failed", lines, res.Failed)
	}
}

// TestDoFailureKinds: genload's own limits are kind client, answers that
// are not HTTP/1.x protocol, no answer connect ("").
func TestDoFailureKinds(t *testing.T) {
	for _, tt := range []struct {
		err  error
		kind string
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}, record.ErrClient},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}, record.ErrClient},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ""},
		{errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x15\x03"`), record.ErrProtocol},
	} {
		if kind, _ := doFailure(tt.err); kind != tt.kind {
			t.Errorf("%v: kind %q, want %q", tt.err, kind, tt.kind)
		}
	}
}
