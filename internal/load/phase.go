package load

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"servebench/internal/record"
	"servebench/internal/stats"
)

// Point is one load point: closed loop with Concurrency workers (Rate 0),
// or open loop at Rate requests per second with at most Concurrency in
// flight (0 = no cap).
type Point struct {
	Concurrency int
	Rate        float64
}

// runner holds what the workers of a run share.
type runner struct {
	a        *attempter
	replicas *replicas // several --url: which sends each request (nil: a)
	out      *record.Writer
	prompts  *prompter
	c        *counters
	stop     context.Context
	reqCtx   context.Context
	cancel   context.CancelFunc
	stderr   io.Writer
	seq      int                     // next request index; only the dispatcher touches it
	startAt  time.Time               // the first phase's start (Config.StartAt), zero once used
	rule     *failWindow             // the stop rule's window; nil: none
	trip     context.CancelCauseFunc // ends the run when the rule trips
	probing  bool                    // the request sent is a search's serial probe
	probeMs  float64                 // the probe's latency, -1 if it failed
	outcomes outcomeLog              // a search's measured outcomes at the current load point

	mu   sync.Mutex
	werr error
}

func (r *runner) writeErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.werr
}

// newJob numbers the next request and picks its prompt, in dispatch order,
// so the same seed gives the same prompts for the same requests.
func (r *runner) newJob(phase string, pt Point) (job, error) {
	p, err := r.prompts.next()
	if err != nil {
		return job{}, err
	}
	j := job{seq: r.seq, phase: phase, point: pt, prompt: p}
	r.seq++
	return j, nil
}

// exec makes one attempt and writes its record.
func (r *runner) exec(j job) (kind string) {
	r.c.sent.Add(1)
	a, done := r.attempterFor(j)
	var rec *record.Record
	runIn(a.doer, func() { rec = a.do(r.reqCtx, j) })
	done()
	kind = rec.ErrorKind
	r.c.done.Add(1)
	if !rec.OK {
		r.c.failed.Add(1)
	}
	r.c.measured.add(rec)
	r.observe(j, rec)
	if err := r.out.Write(rec); err != nil {
		r.mu.Lock()
		if r.werr == nil {
			r.werr = err
			r.cancel() // nobody reads our output: stop now
		}
		r.mu.Unlock()
	}
	return kind
}

// Backoff of a closed-loop worker whose requests get no connection: a
// down server would otherwise be sent tens of thousands of attempts a
// second, each a record. The pause starts at backoffMin and doubles to
// backoffMax; any attempt that got a connection resets it.
const (
	backoffMin = 10 * time.Millisecond
	backoffMax = time.Second
)

// nextBackoff is the pause after an attempt of kind, given the last pause.
func nextBackoff(last time.Duration, kind string) time.Duration {
	if kind != record.ErrConnect && kind != record.ErrClient {
		return 0
	}
	return min(max(2*last, backoffMin), backoffMax)
}

// pause waits d, or less when the run stops or the phase's time is up.
func (r *runner) pause(d time.Duration, deadline <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.stop.Done():
	case <-r.reqCtx.Done():
	case <-deadline:
	}
}

// rampStart is when worker i of n starts in a closed loop: spread evenly
// over Config.RampUp from start (worker 0 at once), waited for here. A
// ramp keeps a closed loop of equal answers from moving in lockstep: C
// requests sent in the same millisecond, their tokens due together.
func (r *runner) rampStart(i, n int, start time.Time, deadline <-chan struct{}) time.Time {
	ramp := r.a.cfg.RampUp
	if ramp <= 0 || i == 0 {
		return start
	}
	at := start.Add(ramp * time.Duration(i) / time.Duration(n))
	r.pause(time.Until(at), deadline)
	return at
}

// phase sends n requests (0 = no limit) or for dur (0 = no limit),
// whichever ends first, and waits for all of them.
func (r *runner) phase(name string, pt Point, n int, dur time.Duration, seed uint64) error {
	start := r.startClock()   // the common start of shards (--start-at) for the first phase
	if r.a.cfg.convs != nil { // n and dur count sessions
		return r.sessions(name, pt, n, dur, seed, start)
	}
	if r.a.cfg.trace != nil { // n and dur cut the trace
		return r.traceLoop(name, pt, start)
	}
	var deadline <-chan struct{} // closed when dur is up: every worker sees it
	if dur > 0 {
		up := make(chan struct{})
		t := time.AfterFunc(time.Until(start.Add(dur)), func() { close(up) })
		defer t.Stop()
		deadline = up
	}
	if pt.Rate > 0 {
		return r.openLoop(name, pt, n, dur, seed, start)
	}
	return r.closedLoop(name, pt, n, deadline, start)
}

// closedLoop runs pt.Concurrency workers, each sending its next request as
// soon as its last one ended. The schedule time of a closed-loop request is
// the moment a worker took it, so queue_ms measures only the client's own
// overhead. Workers take their jobs themselves, in turn under a lock (the
// order of seq and prompts is the order they are taken): no dispatcher
// goroutine has to be woken for every request.
func (r *runner) closedLoop(name string, pt Point, n int, deadline <-chan struct{}, start time.Time) error {
	var (
		mu    sync.Mutex
		ended bool // no more jobs: stopped, time is up, or n taken
		err   error
	)
	jobs := &ownedJobs{r: r, name: name, pt: pt, shard: r.a.cfg.Shard} // this shard's of the phase's n
	take := func() (job, bool) {
		mu.Lock()
		defer mu.Unlock()
		if ended {
			return job{}, false
		}
		select {
		case <-r.stop.Done():
			ended = true
		case <-r.reqCtx.Done():
			ended = true
		case <-deadline:
			ended = true
		default:
		}
		if ended {
			return job{}, false
		}
		j, ok, jerr := jobs.next(n)
		if jerr != nil || !ok {
			err, ended = jerr, true
			return job{}, false
		}
		return j, true
	}
	workers := r.a.cfg.Shard.Share(pt.Concurrency)
	if n > 0 {
		workers = min(workers, r.a.cfg.Shard.Share(n))
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var backoff time.Duration
			at := r.rampStart(i, workers, start, deadline)
			for first := true; ; first = false {
				j, ok := take()
				if !ok {
					return
				}
				j.scheduledAt = time.Now()
				if first {
					j.scheduledAt = at // a late start (--start-at) shows in queue_ms
				}
				backoff = nextBackoff(backoff, r.exec(j))
				r.pause(backoff, deadline)
			}
		}()
	}
	wg.Wait()
	if err == nil && r.stop.Err() == nil && r.reqCtx.Err() == nil {
		err = jobs.drawRest(n) // a shard whose share ended first: the others' jobs, drawn
	}
	return err
}

// lagWarnMs is the p99 dispatch lag above which genload says on stderr that
// it fell behind its own schedule.
const lagWarnMs = 5.0

// openLoop sends requests at the times the schedule gives, whatever the
// server does: a slow server makes requests pile up in flight, not arrive
// later. With pt.Concurrency > 0 at most that many are in flight; the others
// wait for a slot with their schedule time kept, so the wait shows in
// queue_ms and sched_latency instead of disappearing (coordinated omission).
func (r *runner) openLoop(name string, pt Point, n int, dur time.Duration, seed uint64, start time.Time) error {
	sched, err := NewSchedule(pt.Rate, r.a.cfg.Arrival, r.a.cfg.Burstiness, r.a.cfg.RampUp, seed)
	if err != nil {
		return err
	}
	l := r.newLauncher(r.a.cfg.Shard.Share(pt.Concurrency))
	for i := 0; n == 0 || i < n; i++ {
		off := sched.Next()
		if dur > 0 && off >= dur {
			break
		}
		at := start.Add(off)
		j, err := r.newJob(name, pt) // before the wait: the body is ready at send time
		if err != nil {
			l.drain()
			return err
		}
		j.scheduledAt = at
		if !r.a.cfg.Shard.Owns(i) {
			continue // another shard's: drawn all the same, so the draws stay the same
		}
		if !l.wait(at) {
			break
		}
		l.start(func() { r.exec(j) })
	}
	l.finish(name, pt)
	return nil
}

// reportLag says on stderr when the client could not keep its schedule: its
// figures would then describe the client, not the server.
func (r *runner) reportLag(name string, pt Point, lags []float64) {
	if len(lags) == 0 || r.a.cfg.Quiet {
		return
	}
	slices.Sort(lags)
	p50, p99 := stats.Percentile(lags, 50), stats.Percentile(lags, 99)
	if p99 > lagWarnMs {
		fmt.Fprintf(r.stderr, "genload: warning: the client fell behind its schedule at %g req/s (%s): dispatch lag p50 %.2f ms, p99 %.2f ms; it is included in queue_ms and sched_latency\n",
			pt.Rate, name, p50, p99)
	}
}
