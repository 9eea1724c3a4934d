package summary

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"servebench/internal/record"
	"servebench/internal/stats"
)

// SLO is the per-request service-level objectives: a request is
// good when it succeeded and meets every objective given, as in `vllm bench
// serve --goodput` (a zero limit is not given):
//
//	ttft       ttft_ms    <= TTFT
//	ttfo       ttfo_ms    <= TTFO              (first answer token: after the reasoning)
//	tpot       tpot_ms    <= TPOT
//	e2e        latency_ms <= E2E               (vLLM's e2el: send to last byte)
//	sched_e2e  queue_ms + latency_ms <= SchedE2E  (from the schedule: open loop)
//
// A value a record does not carry cannot be shown to meet its objective, so
// the request is not good: a TTFT objective fails every non-streamed request
// (a warning says so). The exception is vLLM's: a request with exactly one
// output token has no time per output token after the first, and vLLM
// counts its TPOT as 0, which meets any TPOT objective.
//
// e2e is measured from the send, as vLLM does, so the numbers compare with
// vLLM's; sched_e2e adds the client's own delay, which is what a user
// arriving on an open-loop schedule waited when a --max-concurrency limit
// or the client fell behind (coordinated omission). There is no ITL
// objective, as in vLLM: a request has many gaps, not one value, and tpot
// is their per-request mean.
type SLO struct {
	TTFT, TTFO, TPOT, E2E, SchedE2E time.Duration
}

// sloKeys names the objectives in canonical order (ParseSLO also takes
// vLLM's e2el for e2e).
var sloKeys = []string{"ttft", "ttfo", "tpot", "e2e", "sched_e2e"}

// IsObjective reports whether arg has the form of one objective,
// KEY=LIMIT with a KEY that ParseSLO knows (or names in its errors: e2el,
// itl). An unquoted "ttft=300ms tpot=50ms" leaves the shell's second word
// looking so, where a file name is expected.
func IsObjective(arg string) bool {
	key, _, ok := strings.Cut(arg, "=")
	key = strings.ToLower(key)
	return ok && (slices.Contains(sloKeys, key) || key == "e2el" || key == "itl")
}

func (s *SLO) limit(key string) *time.Duration {
	switch key {
	case "ttft":
		return &s.TTFT
	case "ttfo":
		return &s.TTFO
	case "tpot":
		return &s.TPOT
	case "e2e":
		return &s.E2E
	case "sched_e2e":
		return &s.SchedE2E
	}
	return nil
}

// ParseSLO reads objectives such as "ttft=300ms,tpot=50ms,e2e=5s": items
// separated by commas or spaces, each KEY=LIMIT (vLLM's KEY:LIMIT too),
// KEY one of ttft, ttfo, tpot, e2e (or e2el), sched_e2e, given once, and LIMIT a
// positive Go duration (300ms, 5s, 1m) or a plain number of milliseconds
// (300, 0.5). An empty spec sets no objective.
func ParseSLO(spec string) (SLO, error) {
	var s SLO
	items := strings.FieldsFunc(spec, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' })
	if strings.TrimSpace(spec) != "" && len(items) == 0 {
		return SLO{}, fmt.Errorf("%q: no objective; want e.g. ttft=300ms,tpot=50ms,e2e=5s", spec)
	}
	for _, item := range items {
		i := strings.IndexAny(item, "=:")
		if i < 0 {
			return SLO{}, fmt.Errorf("%q: want KEY=LIMIT, such as ttft=300ms", item)
		}
		key, value := strings.ToLower(item[:i]), item[i+1:]
		if key == "e2el" {
			key = "e2e" // vLLM's name
		}
		if key == "itl" {
			return SLO{}, fmt.Errorf("%q: no ITL objective (a request has many gaps, not one value, and vLLM's --goodput has none either): use tpot, the request's mean time per output token", item)
		}
		limit := s.limit(key)
		if limit == nil {
			return SLO{}, fmt.Errorf("%q: unknown objective %q; want %s", item, key, strings.Join(sloKeys, ", "))
		}
		if *limit != 0 {
			return SLO{}, fmt.Errorf("%q: %s given twice", item, key)
		}
		d, err := parseLimit(value)
		if err != nil {
			return SLO{}, fmt.Errorf("%q: %v", item, err)
		}
		*limit = d
	}
	return s, nil
}

// parseLimit reads a Go duration, or a plain decimal number of milliseconds.
func parseLimit(v string) (time.Duration, error) {
	bad := fmt.Errorf("limit %q: want a positive duration such as 300ms or 5s, or a number of milliseconds", v)
	d, err := time.ParseDuration(v)
	if err != nil {
		if !stats.PlainDecimal(v) {
			return 0, bad
		}
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil || ms*float64(time.Millisecond) >= math.MaxInt64 {
			return 0, bad
		}
		d = record.Millis(ms)
	}
	if d <= 0 {
		return 0, bad
	}
	return d, nil
}

// IsZero reports whether no objective is set.
func (s SLO) IsZero() bool { return s == SLO{} }

// String is the canonical form, space-separated so that a CSV cell needs no
// quotes: "ttft=300ms tpot=50ms e2e=5s". ParseSLO reads it back.
func (s SLO) String() string {
	var items []string
	for _, key := range sloKeys {
		if d := *s.limit(key); d != 0 {
			items = append(items, key+"="+d.String())
		}
	}
	return strings.Join(items, " ")
}

// Met reports whether r is a good request: it succeeded and meets every
// objective set (see SLO for values a record lacks).
func (s SLO) Met(r *record.Record) bool {
	within := func(v float64, limit time.Duration) bool { return limit == 0 || v <= record.Ms(limit) }
	switch {
	case !r.OK:
		return false
	case s.TTFT != 0 && r.TTFTMs == nil:
		return false
	case s.TTFO != 0 && r.TTFOMs == nil:
		return false
	case s.TPOT != 0 && r.TPOTMs == nil && r.OutputTokens != 1:
		return false
	}
	return (r.TTFTMs == nil || within(*r.TTFTMs, s.TTFT)) &&
		(r.TTFOMs == nil || within(*r.TTFOMs, s.TTFO)) &&
		(r.TPOTMs == nil || within(*r.TPOTMs, s.TPOT)) &&
		within(r.LatencyMs, s.E2E) &&
		within(r.SchedLatencyMs(), s.SchedE2E)
}
