package load

import (
	"sync"
	"time"

	"servebench/internal/record"
)

// launcher starts the work of an open-loop phase at its scheduled instants:
// requests on a schedule (openLoop), sessions on a schedule (openSessions),
// a trace's lines (traceLoop). It waits for each instant, notes how late
// the start was, and runs the work on its own goroutine once one of the
// cap's slots is free; a start that waits for a slot keeps its scheduled
// time, so the wait shows in queue_ms (no coordinated omission).
type launcher struct {
	r     *runner
	slots chan struct{} // nil: no cap
	timer *time.Timer
	wg    sync.WaitGroup
	lags  []float64 // how late each start was released, ms
}

// newLauncher caps the work in flight at limit (0: no cap).
func (r *runner) newLauncher(limit int) *launcher {
	l := &launcher{r: r, timer: time.NewTimer(time.Hour)}
	if limit > 0 {
		l.slots = make(chan struct{}, limit)
	}
	return l
}

// wait blocks until at; false when the run stopped first.
func (l *launcher) wait(at time.Time) bool {
	if d := time.Until(at); d > 0 {
		l.timer.Reset(d)
		select {
		case <-l.r.stop.Done():
			return false
		case <-l.r.reqCtx.Done():
			return false
		case <-l.timer.C:
		}
	} else if l.r.stop.Err() != nil || l.r.reqCtx.Err() != nil {
		return false
	}
	l.lags = append(l.lags, record.Ms(time.Since(at)))
	return true
}

// start runs fn on its own goroutine once a slot is free; never when the
// run stops first (a request never sent has no attempt and no record).
func (l *launcher) start(fn func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if l.slots != nil {
			select {
			case l.slots <- struct{}{}:
				defer func() { <-l.slots }()
			case <-l.r.stop.Done():
				return
			case <-l.r.reqCtx.Done():
				return
			}
		}
		fn()
	}()
}

// drain waits for everything started.
func (l *launcher) drain() {
	l.wg.Wait()
	l.timer.Stop()
}

// finish drains and says how late the starts were (runner.reportLag).
func (l *launcher) finish(name string, pt Point) {
	l.drain()
	l.r.reportLag(name, pt, l.lags)
}
