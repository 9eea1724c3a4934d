package sim

import (
	"net/http"
	"strconv"
	"time"
)

// scratch is what a request reuses from the pool: its sleeper and the
// buffers its events are built in.
type scratch struct {
	sleeper
	prefix []byte // the chunk's fields before the choices
	buf    []byte // the event or body being written
}

// handleGenerate serves one of the generation endpoints: parse and validate,
// then generate, counting the outcome for /metrics either way.
func (s *Server) handleGenerate(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived := mono()
		p, aerr := s.parse(w, r, ep)
		if aerr != nil {
			s.stats.answered(ep, aerr.code)
			writeError(w, aerr)
			return
		}
		s.stats.answered(ep, http.StatusOK)
		sc := s.sleepers.Get().(*scratch)
		if s.generate(w, r, &p, sc, arrived) {
			s.stats.finished[finishIndex(p.finish)].Add(1)
			s.stats.promptTokens.Add(uint64(p.promptTokens))
			s.stats.outputTokens.Add(uint64(p.n))
		} else {
			s.stats.aborted.Add(1)
		}
		if !sc.stale {
			s.sleepers.Put(sc)
		}
	}
}

func finishIndex(reason string) int {
	if reason == "stop" {
		return 0
	}
	return 1
}

// generate answers an accepted request on the timing model's schedule and
// reports whether it got to the end (false: the client left). arrived is
// when the handler started, so that reading and parsing the body does not
// count in TTFT.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, p *plan, sc *scratch, arrived time.Duration) bool {
	done := r.Context().Done()
	rc := http.NewResponseController(w)
	if p.stream {
		// Headers go out on acceptance, before queueing, as vLLM's do.
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if rc.Flush() != nil {
			return false
		}
		object := "text_completion"
		if p.ep == chat {
			object = "chat.completion.chunk"
		}
		sc.prefix = s.appendPrefix(sc.prefix[:0], p, object)
	}
	t0, ok := s.slots.acquire(done, arrived)
	if !ok {
		return false
	}
	held := true
	defer func() {
		if held {
			s.slots.release()
		}
	}()
	e := s.clock.toEngine(t0)
	for i := range p.n {
		e += s.step(i)
		last := i == p.n-1
		// Non-streaming answers only need the last deadline, unless the
		// step depends on how many sequences run along the way.
		if s.timed && (p.stream || last || s.cfg.ITLPerSeq > 0) {
			if !sc.sleepUntil(s.waker, done, s.clock.toReal(e)) {
				return false
			}
		}
		if last {
			held = false
			s.slots.release()
		}
		if !p.stream {
			continue
		}
		// The events due at one instant leave together: the role chunk
		// with the first token, usage and [DONE] with the last.
		b := sc.buf[:0]
		if i == 0 && p.ep == chat {
			b = appendRoleEvent(b, sc.prefix, p)
		}
		b = appendTokenEvent(b, sc.prefix, p, i, p.rng.word())
		if last {
			if p.usage {
				b = appendUsageEvent(b, sc.prefix, p)
			}
			b = append(b, doneEvent...)
		}
		sc.buf = b
		if !s.send(w, rc, b) {
			return false
		}
	}
	if p.stream {
		return true
	}
	sc.buf = s.appendBody(sc.buf[:0], p)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(sc.buf)))
	_, err := w.Write(sc.buf)
	return err == nil
}

// step is the engine time from the previous token (or admission) to token
// i: TTFT or ITL, plus ITLPerSeq for every other running sequence.
func (s *Server) step(i int) time.Duration {
	d := s.cfg.ITL
	if i == 0 {
		d = s.cfg.TTFT
	}
	if s.cfg.ITLPerSeq > 0 {
		d += s.cfg.ITLPerSeq * time.Duration(max(s.slots.running.Load()-1, 0))
	}
	return d
}

// send writes the events of one instant and flushes them, so that each
// token leaves when due. With no delays every event is due at once and the
// response buffer is flushed when full or at the end: a syscall per request
// rather than per token, which is what lets llmsim answer tens of thousands
// of requests per second.
func (s *Server) send(w http.ResponseWriter, rc *http.ResponseController, events []byte) bool {
	if _, err := w.Write(events); err != nil {
		return false
	}
	return !s.timed || rc.Flush() == nil
}
