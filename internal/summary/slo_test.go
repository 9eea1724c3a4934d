package summary

import (
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

func TestParseSLO(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		spec      string
		want      SLO
		canonical string
	}{
		{"ttft=300ms,tpot=50ms,e2e=5s", SLO{TTFT: 300 * ms, TPOT: 50 * ms, E2E: 5 * time.Second}, "ttft=300ms tpot=50ms e2e=5s"},
		{"e2e=5s,ttft=300", SLO{TTFT: 300 * ms, E2E: 5 * time.Second}, "ttft=300ms e2e=5s"},                                     // canonical order; bare numbers are ms
		{"ttft:300 tpot:50 e2el:5000", SLO{TTFT: 300 * ms, TPOT: 50 * ms, E2E: 5 * time.Second}, "ttft=300ms tpot=50ms e2e=5s"}, // vLLM's --goodput syntax
		{" TTFT=0.5 , sched_e2e=1m ", SLO{TTFT: 500 * time.Microsecond, SchedE2E: time.Minute}, "ttft=500µs sched_e2e=1m0s"},
		{"tpot=1.5ms", SLO{TPOT: 1500 * time.Microsecond}, "tpot=1.5ms"},
		{"", SLO{}, ""}, // no --slo
	}
	for _, tt := range tests {
		got, err := ParseSLO(tt.spec)
		if err != nil || got != tt.want || got.String() != tt.canonical {
			t.Errorf("ParseSLO(%q) = %+v %q, %v; want %+v %q", tt.spec, got, got, err, tt.want, tt.canonical)
		}
	}
	bad := []struct{ spec, errSubstr string }{
		{"itl=20ms", "no ITL objective"},                // vLLM has none, and a request has no single ITL
		{"ttfb=1s", `unknown objective "ttfb"`},         // a typo
		{"ttft=1s,ttft=2s", "ttft given twice"},         // ambiguous
		{"e2e=1s,e2el=2s", "e2e given twice"},           // the alias is the same objective
		{"ttft", "want KEY=LIMIT"},                      // no limit
		{"ttft=", "want a positive duration"},           // empty limit
		{"ttft=0", "want a positive duration"},          // nothing could meet it
		{"ttft=-5ms", "want a positive duration"},       // negative
		{"ttft=1e3", "want a positive duration"},        // numbers are plain decimals
		{"ttft=NaN", "want a positive duration"},        // not a number
		{"ttft=fast", "want a positive duration"},       // not a duration
		{"ttft=1e300", "want a positive duration"},      // beyond time.Duration
		{"ttft=99999999999999999", "positive duration"}, // likewise, as a plain number
		{",", "no objective"},                           // separators only
	}
	for _, tt := range bad {
		if _, err := ParseSLO(tt.spec); err == nil || !strings.Contains(err.Error(), tt.errSubstr) {
			t.Errorf("ParseSLO(%q) error %v, want %q", tt.spec, err, tt.errSubstr)
		}
	}
}

func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"ttft=300ms,tpot=50ms,e2e=5s", "ttft:300 e2el:5000", "sched_e2e=0.001", "itl=1", "e2e=1h", "tpot=.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSLO(spec)
		if err != nil {
			return
		}
		for _, d := range []time.Duration{s.TTFT, s.TPOT, s.E2E, s.SchedE2E} {
			if d < 0 {
				t.Fatalf("%q: negative limit %v", spec, d)
			}
		}
		// What we print (in the CSV's slo column) reads back to the same SLO.
		again, err := ParseSLO(s.String())
		if err != nil || again != s {
			t.Fatalf("%q: %+v prints as %q, reads back %+v, %v", spec, s, s, again, err)
		}
	})
}

// TestSLOMet is the verdict on single requests, as vLLM's goodput gives it:
// good when successful and within every objective given, limits included.
func TestSLOMet(t *testing.T) {
	all := SLO{TTFT: 100 * time.Millisecond, TPOT: 20 * time.Millisecond, E2E: 200 * time.Millisecond}
	base := func() record.Record { // ttft 10, tpot (100-10)/4 = 22.5, latency 100
		return okRecord("r", 0, 100)
	}
	with := func(f func(*record.Record)) record.Record { r := base(); f(&r); return r }
	tests := []struct {
		name string
		slo  SLO
		r    record.Record
		want bool
	}{
		{"within ttft and e2e", SLO{TTFT: 10 * time.Millisecond, E2E: 100 * time.Millisecond}, base(), true}, // equal to the limits meets them
		{"tpot over", all, base(), false},
		{"ttft over", SLO{TTFT: 9 * time.Millisecond}, base(), false},
		{"e2e over", SLO{E2E: 99 * time.Millisecond}, base(), false},
		{"failure never meets", SLO{E2E: time.Hour}, failed(base(), record.ErrHTTP), false},
		{"no SLO: a success", SLO{}, base(), true},
		{"not streamed: ttft cannot be checked", SLO{TTFT: time.Hour}, with(func(r *record.Record) { r.Stream, r.TTFTMs, r.TPOTMs, r.ITLMs = false, nil, nil, nil }), false},
		{"not streamed: e2e can", SLO{E2E: time.Hour}, with(func(r *record.Record) { r.Stream, r.TTFTMs, r.TPOTMs, r.ITLMs = false, nil, nil, nil }), true},
		{"not streamed: tpot cannot be checked", SLO{TPOT: time.Hour}, with(func(r *record.Record) { r.TTFTMs, r.TPOTMs = nil, nil }), false},
		{"one token: tpot counts as 0, as vLLM", SLO{TPOT: time.Millisecond}, with(func(r *record.Record) { r.OutputTokens, r.TPOTMs = 1, nil }), true},
		{"no token count: tpot cannot be checked", SLO{TPOT: time.Hour}, with(func(r *record.Record) {
			r.OutputTokens, r.TPOTMs, r.TokensFrom = 0, nil, record.TokensFromNone
		}), false},
		{"sched_e2e adds the queue", SLO{SchedE2E: 149 * time.Millisecond}, with(func(r *record.Record) { r.QueueMs = 50 }), false},
		{"sched_e2e within", SLO{SchedE2E: 150 * time.Millisecond}, with(func(r *record.Record) { r.QueueMs = 50 }), true},
		{"e2e ignores the queue", SLO{E2E: 100 * time.Millisecond}, with(func(r *record.Record) { r.QueueMs = 50 }), true},
	}
	for _, tt := range tests {
		if got := tt.slo.Met(&tt.r); got != tt.want {
			t.Errorf("%s: Met = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSLOTTFO: ttfo judges the first answer token, after the reasoning;
// a record without ttfo_ms cannot meet it.
func TestSLOTTFO(t *testing.T) {
	s, err := ParseSLO("ttfo=75ms")
	if err != nil || s.TTFO != 75*time.Millisecond || s.String() != "ttfo=75ms" {
		t.Fatalf("%+v %v", s, err)
	}
	r := record.Record{OK: true, TTFTMs: record.Float(30), TTFOMs: record.Float(70), LatencyMs: 100}
	if !s.Met(&r) {
		t.Error("ttfo 70 ms does not meet 75 ms")
	}
	r.TTFOMs = record.Float(80)
	if s.Met(&r) {
		t.Error("ttfo 80 ms meets 75 ms")
	}
	r.TTFOMs = nil
	if s.Met(&r) {
		t.Error("no ttfo meets a ttfo objective")
	}
}
