package sim

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// epoch anchors mono: instants are durations since it, read from the
// monotonic clock, so that deadlines are plain integers.
var epoch = time.Now()

// mono is the current instant on the monotonic clock.
func mono() time.Duration { return time.Since(epoch) }

// engineClock maps real instants to engine instants and back, so that a stall
// is one subtraction rather than a special case in every loop. Engine time
// stands still during [stallAt, stallAt+stall).
type engineClock struct {
	stallAt, stall time.Duration
}

// toEngine maps a real instant to engine time.
func (c engineClock) toEngine(t time.Duration) time.Duration {
	switch {
	case c.stall == 0 || t < c.stallAt:
		return t
	case t < c.stallAt+c.stall:
		return c.stallAt
	default:
		return t - c.stall
	}
}

// toReal maps an engine instant to the real instant it happens at.
func (c engineClock) toReal(e time.Duration) time.Duration {
	if c.stall == 0 || e < c.stallAt {
		return e
	}
	return e + c.stall
}

const (
	// preciseWindow is how close to its deadline a sleeper hands over to
	// the waker: a little more than the 1 ms by which idle Go timers are late.
	preciseWindow = 2 * time.Millisecond
	// maxPrecisePending bounds the sleepers in the waker's heap (paced
	// streams, pacer.go, are not counted); beyond it sleepers use
	// plain timers, because at that load one goroutine would be the
	// bottleneck and the runtime is busy enough for timers to be prompt.
	maxPrecisePending = 512
)

// alarm is a one-shot timer reported through the runtime's poller; see
// newAlarm.
type alarm interface {
	set(d time.Duration) // fire after d (at least 1ns)
	wait() error         // block until it fires
}

// waker wakes sleepers at their deadline with the precision of an alarm,
// one heap for the whole process.
type waker struct {
	mu      sync.Mutex
	heap    []wakeup
	dead    bool
	pending atomic.Int32
	next    atomic.Int64 // heap[0].at, or the largest Duration when empty
	alarm   alarm
}

// wakeup is a sleeper's channel to notify, or a paced stream whose token
// is due at at.
type wakeup struct {
	at time.Duration
	ch chan struct{}
	st *stream
}

var (
	wakerOnce   sync.Once
	sharedWaker *waker
)

// getWaker returns the process's waker, or nil where no alarm is available.
func getWaker() *waker {
	wakerOnce.Do(func() {
		a, err := newAlarm()
		if err != nil || a == nil {
			return
		}
		sharedWaker = &waker{alarm: a}
		sharedWaker.next.Store(math.MaxInt64)
		go sharedWaker.loop()
	})
	return sharedWaker
}

// usable says whether a sleeper should register now.
func (w *waker) usable() bool {
	return w != nil && w.pending.Load() < maxPrecisePending
}

// add registers ch to receive one value at (or just after) at.
func (w *waker) add(at time.Duration, ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead {
		notify(ch)
		return
	}
	w.push(wakeup{at: at, ch: ch})
	if w.heap[0].ch == ch && w.heap[0].at == at {
		w.alarm.set(at - mono())
	}
}

// addStream queues a paced stream for its token due at st.at; false if the
// waker is gone.
func (w *waker) addStream(st *stream) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead {
		return false
	}
	st.state, st.cancel = queued, false
	w.push(wakeup{at: st.at, st: st})
	if w.heap[0].st == st {
		w.alarm.set(st.at - mono())
	}
	return true
}

// loop wakes what is due when the alarm fires.
func (w *waker) loop() {
	for {
		err := w.alarm.wait()
		w.mu.Lock()
		if err != nil {
			w.dead = true
			w.runDue(err)
			w.mu.Unlock()
			return
		}
		w.runDue(nil)
		if len(w.heap) > 0 {
			w.alarm.set(w.heap[0].at - mono())
		}
		w.mu.Unlock()
	}
}

// runDue wakes what is due, with w.mu held: sleepers by their channel,
// paced streams by writing their token there and then (pacer.go), one
// after the other, the earliest first, until nothing more is due. With
// failed (the alarm broke) everything is due and streams go back to their
// handlers.
func (w *waker) runDue(failed error) {
	for len(w.heap) > 0 && (failed != nil || w.heap[0].at <= mono()) {
		x := w.pop()
		st := x.st
		switch {
		case st == nil:
			notify(x.ch)
			continue
		case st.state == dropped:
			continue
		case failed != nil:
			st.state = withHandler
			notify(st.back)
			continue
		}
		st.state = running
		w.mu.Unlock()
		again := st.paceToken()
		w.mu.Lock()
		if again && !st.cancel {
			st.state = queued
			w.push(wakeup{at: st.at, st: st})
		} else {
			st.state = withHandler
			notify(st.back)
		}
	}
}

// notify sends without blocking: a full channel already has a wake-up.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (w *waker) push(x wakeup) {
	if x.st == nil {
		w.pending.Add(1)
	}
	h := append(w.heap, x)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].at <= h[i].at {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	w.heap = h
	w.next.Store(int64(h[0].at))
}

func (w *waker) pop() wakeup {
	h := w.heap
	top := h[0]
	if top.st == nil {
		w.pending.Add(-1)
	}
	n := len(h) - 1
	h[0] = h[n]
	h[n] = wakeup{}
	h = h[:n]
	for i := 0; ; {
		l, smallest := 2*i+1, i
		if l < n && h[l].at < h[smallest].at {
			smallest = l
		}
		if r := l + 1; r < n && h[r].at < h[smallest].at {
			smallest = r
		}
		if smallest == i {
			break
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
	w.heap = h
	if n > 0 {
		w.next.Store(int64(h[0].at))
	} else {
		w.next.Store(math.MaxInt64)
	}
	return top
}

// sleeper is one request's means of waiting: a reusable timer and a wake-up
// channel, so that a token costs no allocation.
type sleeper struct {
	timer *time.Timer
	wake  chan struct{}
	// stale is set when the request gave up while registered with the
	// waker: its channel may still receive, so it must not be reused.
	stale bool
}

func newSleeper() sleeper {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return sleeper{timer: t, wake: make(chan struct{}, 1)}
}

// sleepUntil blocks until the instant at, or returns false as soon as done
// is closed. A plain timer covers all but the last preciseWindow, the waker
// the rest. Early or spurious wake-ups just loop.
func (s *sleeper) sleepUntil(w *waker, done <-chan struct{}, at time.Duration) bool {
	for {
		d := at - mono()
		if d <= 0 {
			return true
		}
		precise := w.usable()
		if precise && d <= preciseWindow {
			w.add(at, s.wake)
			select {
			case <-s.wake:
				continue
			case <-done:
				s.stale = true
				return false
			}
		}
		if precise {
			d -= preciseWindow
		}
		s.timer.Reset(d)
		select {
		case <-s.timer.C:
		case <-done:
			s.timer.Stop()
			return false
		}
	}
}
