package load

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"servebench/internal/record"
	"servebench/internal/setting"
)

// StopRule ends a run that has gone bad: when more than MaxErrorRate of the
// last Window attempts failed, no new request is sent, at this load point or
// any after it (in a sweep or a search, the higher ones). Requests in flight
// finish (for Config.Grace, as after a stop signal) and are recorded, so the
// records already written stay valid, one per attempt. The rule is judged
// only once Window attempts have been made, warmup included: a failure rate
// over fewer is noise.
type StopRule struct {
	MaxErrorRate float64 // 0 <= R < 1
	Window       int     // attempts; 0 = no rule
}

// StopRuleError is how Run reports that the stop rule ended the run.
type StopRuleError struct {
	Rule     StopRule
	Failed   int // failures among the last Window attempts when it tripped
	Point    Point
	Attempts int64 // attempts made in the whole run when it tripped
}

func (e *StopRuleError) Error() string {
	return fmt.Sprintf("stop rule: %d of the last %d attempts failed (%.0f%%, above --max-error-rate %g) at %s after %d attempts; no more requests sent",
		e.Failed, e.Rule.Window, 100*float64(e.Failed)/float64(e.Rule.Window), e.Rule.MaxErrorRate, e.Point, e.Attempts)
}

// failWindow is the sliding window of the last attempts' outcomes: a ring
// of booleans and the count of failures in it.
type failWindow struct {
	rule StopRule

	mu      sync.Mutex
	ring    []bool // true: failed
	next    int
	full    bool
	failed  int
	tripped bool
}

func newFailWindow(rule StopRule) *failWindow {
	if rule.Window <= 0 {
		return nil
	}
	return &failWindow{rule: rule, ring: make([]bool, rule.Window)}
}

// add records one attempt; it returns the number of failures in the window
// and true the first time the failure rate exceeds the rule's limit.
func (w *failWindow) add(failed bool) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ring[w.next] {
		w.failed--
	}
	w.ring[w.next] = failed
	if failed {
		w.failed++
	}
	w.next++
	if w.next == len(w.ring) {
		w.next, w.full = 0, true
	}
	if w.tripped || !w.full || float64(w.failed) <= w.rule.MaxErrorRate*float64(len(w.ring)) {
		return w.failed, false
	}
	w.tripped = true
	return w.failed, true
}

func (s StopRule) validate() error {
	switch {
	case s.Window < 0:
		return setting.Errorf("{ErrorWindow} %d: want a number of attempts, at least 1", s.Window)
	case s.Window > maxErrorWindow:
		return setting.Errorf("{ErrorWindow} %d: at most %d attempts", s.Window, maxErrorWindow)
	case s.Window > 0 && !(s.MaxErrorRate >= 0 && s.MaxErrorRate < 1):
		return setting.Errorf("{MaxErrorRate} %v: want a share of attempts at least 0 and below 1, such as 0.5", s.MaxErrorRate)
	}
	return nil
}

// maxErrorWindow bounds the window's memory.
const maxErrorWindow = 1 << 20

// judge feeds the stop rule one attempt at pt.
func (r *runner) judge(pt Point, failed bool) {
	if r.rule == nil {
		return
	}
	if n, trip := r.rule.add(failed); trip {
		r.trip(&StopRuleError{Rule: r.rule.rule, Failed: n, Point: pt, Attempts: r.c.sent.Load()})
	}
}

// observe is what a run does with each attempt besides writing it: a
// search's marks and good count, the stop rule. rec is not yet written.
func (r *runner) observe(j job, rec *record.Record) {
	if s := r.a.cfg.Search; s != nil {
		rec.Search, rec.SearchSLO, rec.SearchMinGoodput = s.Dim, s.SLO, s.MinGoodput
		if rec.Phase == record.PhaseMeasure {
			r.outcomes.add(j.seq, s.Good(rec))
		}
		if r.probing {
			r.probeMs = -1
			if rec.OK {
				r.probeMs = rec.LatencyMs
			}
		}
	}
	r.judge(j.point, !rec.OK)
}

// ruleErr is the *StopRuleError that ended the run stopped by ctx, or nil.
func ruleErr(ctx context.Context) error {
	var se *StopRuleError
	if errors.As(context.Cause(ctx), &se) {
		return se
	}
	return nil
}
