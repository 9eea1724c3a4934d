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
// pick the request's fault, then generate, counting the outcome for /metrics
// either way.
func (s *Server) handleGenerate(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived := mono()
		p, aerr := s.parse(w, r, ep)
		if aerr != nil {
			s.stats.answered(ep, aerr.code)
			writeError(w, aerr)
			return
		}
		if p.fault = s.pickFault(p.seq); p.fault != FaultNone {
			s.stats.faults[p.fault].Add(1)
			if hf, ok := httpFaults[p.fault]; ok {
				s.stats.answered(ep, hf.code)
				writeHTTPFault(w, hf)
				return
			}
		}
		code := http.StatusOK
		if p.fault == FaultStreamError && !p.stream {
			code = generationFailed.code
		}
		s.stats.answered(ep, code)
		sc := s.sleepers.Get().(*scratch)
		switch s.generate(w, r, &p, sc, arrived) {
		case finished:
			s.stats.finished[finishIndex(p.finish)].Add(1)
			s.stats.promptTokens.Add(uint64(p.promptTokens))
			s.stats.outputTokens.Add(uint64(p.n))
		case aborted:
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

// outcome is how a request's answer ended.
type outcome uint8

const (
	finished outcome = iota // the last token was sent
	aborted                 // the client left first
	cut                     // a fault ended it early, or the client left a stall
)

// generate answers an accepted request on the timing model's schedule, or
// acts out its fault. arrived is when the handler started, so that reading
// and parsing the body does not count in TTFT.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, p *plan, sc *scratch, arrived time.Duration) outcome {
	done := r.Context().Done()
	rc := http.NewResponseController(w)
	if p.fault == FaultSlowHeaders {
		// Accepted late: the status line and everything after it move.
		arrived += s.cfg.SlowHeaders
		if !sc.sleepUntil(s.waker, done, arrived) {
			return aborted
		}
	}
	if p.stream {
		// Headers go out on acceptance, before queueing, as vLLM's do.
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		if p.fault == FaultNoDone {
			w.Header().Set("Connection", "close") // a FIN after the last token
		}
		w.WriteHeader(http.StatusOK)
		if rc.Flush() != nil {
			return aborted
		}
		object := "text_completion"
		if p.ep == chat {
			object = "chat.completion.chunk"
		}
		if p.ep == responses {
			// response.created and response.in_progress come on
			// acceptance, as vLLM's generator yields them first.
			sc.buf = s.appendRespStart(sc.buf[:0], p)
			if !s.send(w, rc, sc.buf) {
				return aborted
			}
		} else {
			sc.prefix = s.appendPrefix(sc.prefix[:0], p, object)
		}
	}
	t0, ok := s.slots.acquire(done, arrived)
	if !ok {
		return aborted
	}
	s.admitPrompt(p)
	held := true
	defer func() {
		if held {
			s.slots.release()
		}
	}()
	strike := -1 // the token a fault replaces
	switch {
	case p.stream && p.fault.midStream():
		strike = min(s.cfg.FaultAfter, p.n-1)
	case p.fault == FaultStall:
		strike = p.n - 1 // in place of the body, keeping the slot
	}
	e := s.clock.toEngine(t0)
	var first time.Duration // engine time of the first token, for /metrics
	for i := range p.n {
		step := s.step(i)
		e += step
		if i == 0 {
			e += p.prefill
			first = e
		} else {
			s.stats.itl.observe(step)
		}
		last := i == p.n-1
		// Non-streaming answers only need the last deadline, unless the
		// step depends on how many sequences run along the way.
		if s.timed && (p.stream || last || s.cfg.ITLPerSeq > 0) {
			if !sc.sleepUntil(s.waker, done, s.clock.toReal(e)) {
				return aborted
			}
		}
		if i == strike && p.fault.endsAnswer() {
			return s.endAnswer(w, rc, p, sc, done)
		}
		if last {
			held = false
			s.slots.release()
			s.stats.scheduled(arrived, t0, s.clock.toReal(first), s.clock.toReal(e))
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
		tail := appendTokenTail
		if p.ep == responses {
			b = s.appendRespTokenHead(b, p, i, p.rng.word())
			tail = s.appendRespTokenTail
		} else {
			b = s.appendTokenHead(b, sc.prefix, p, i, p.rng.word())
		}
		switch {
		case i != strike:
			b = tail(b, p, i)
		case p.fault == FaultMalformed:
			b = append(b, "\n\n"...) // cut short in its text: not JSON
		case p.fault == FaultOversized:
			if !pad(w, b, s.cfg.OversizeBytes, done) {
				return aborted
			}
			b = tail(b[:0], p, i)
		}
		switch {
		case last && p.ep == responses:
			if p.fault != FaultNoDone {
				b = s.appendRespEnd(b, p)
			}
		case last:
			if p.usage {
				b = appendUsageEvent(b, sc.prefix, p)
			}
			if p.fault != FaultNoDone {
				b = append(b, doneEvent...)
			}
		}
		sc.buf = b
		if !s.send(w, rc, b) {
			return aborted
		}
		if s.timed {
			s.late.add(mono() - s.clock.toReal(e))
		}
	}
	if p.stream && (p.fault == FaultMalformed || p.fault == FaultNoDone) {
		return cut
	}
	if p.stream {
		return finished
	}
	if out, ok := s.writeFaultBody(w, rc, p, sc, done); ok {
		return out
	}
	sc.buf = s.appendBody(sc.buf[:0], p)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(sc.buf)))
	if _, err := w.Write(sc.buf); err != nil {
		return aborted
	}
	return finished
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
