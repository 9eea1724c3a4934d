package sim

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"
)

// slots is the --max-num-seqs limit: a counting semaphore whose waiters are
// served strictly first come, first served, like vLLM's waiting queue. A
// freed slot is handed to the oldest waiter directly, with the instant of the
// hand-over as its admission time.
type slots struct {
	mu      sync.Mutex
	limit   int
	queue   list.List // of *ticket
	running atomic.Int64
	waiting atomic.Int64
}

type ticket struct {
	granted chan time.Duration
	elem    *list.Element // nil once granted or withdrawn
}

func newSlots(limit int) *slots {
	return &slots{limit: limit}
}

// acquire waits for a slot and returns the admission instant: arrived if a
// slot was free, else the instant one was handed over. It returns false if
// done closed first (then no slot is held).
func (s *slots) acquire(done <-chan struct{}, arrived time.Duration) (time.Duration, bool) {
	s.mu.Lock()
	if s.queue.Len() == 0 && s.running.Load() < int64(s.limit) {
		s.running.Add(1)
		s.mu.Unlock()
		return arrived, true
	}
	t := &ticket{granted: make(chan time.Duration, 1)}
	t.elem = s.queue.PushBack(t)
	s.waiting.Add(1)
	s.mu.Unlock()

	select {
	case t0 := <-t.granted:
		return t0, true
	case <-done:
	}
	s.mu.Lock()
	if t.elem != nil {
		s.queue.Remove(t.elem)
		t.elem = nil
		s.waiting.Add(-1)
		s.mu.Unlock()
		return 0, false
	}
	s.mu.Unlock()
	<-t.granted // granted while giving up: pass the slot on
	s.release()
	return 0, false
}

// release frees a slot, or hands it to the oldest waiter.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	front := s.queue.Front()
	if front == nil {
		s.running.Add(-1)
		return
	}
	t := s.queue.Remove(front).(*ticket)
	t.elem = nil
	s.waiting.Add(-1)
	t.granted <- mono()
}
