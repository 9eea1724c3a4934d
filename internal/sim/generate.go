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
	chunk  []byte // a paced token's HTTP chunk
	st     stream
}

// handleGenerate serves one of the generation endpoints: parse and validate,
// pick the request's fault, then generate, counting the outcome for /metrics
// either way.
func (s *Server) handleGenerate(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived := s.arrivedAt(r)
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
// acts out its fault. arrived is when the request's head reached the
// machine (the kernel's receive time; when the handler started, without
// one), so that neither waiting for a handler nor reading and parsing the
// body adds to TTFT (arrival.go).
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
	st := &sc.st
	*st = stream{s: s, p: p, sc: sc, arrived: arrived, t0: t0, e: s.clock.toEngine(t0),
		strike: -1, held: true, back: st.back, conn: s.paceable(r, p)}
	defer func() {
		if st.held {
			s.slots.release()
		}
	}()
	switch {
	case p.stream && p.fault.midStream():
		st.strike = min(s.cfg.FaultAfter, p.n-1)
	case p.fault == FaultStall:
		st.strike = p.n - 1 // in place of the body, keeping the slot
	}
	for st.i < p.n {
		if !st.due {
			st.advance()
		}
		i, last := st.i, st.i == p.n-1
		if st.conn != nil && i != st.strike {
			if !s.pace(st, done) {
				return aborted
			}
			if st.rest != nil && !st.finishWrite() {
				return aborted
			}
			continue
		}
		// Non-streaming answers only need the last deadline, unless the
		// step depends on how many sequences run along the way.
		if s.timed && (p.stream || last || s.cfg.ITLPerSeq > 0) {
			if !sc.sleepUntil(s.waker, done, s.clock.toReal(st.e)) {
				return aborted
			}
		}
		if i == st.strike && p.fault.endsAnswer() {
			return s.endAnswer(w, rc, p, sc, done)
		}
		if last {
			st.finishing()
		}
		if !p.stream {
			st.i++
			st.due = false
			continue
		}
		if i == st.strike && p.fault == FaultOversized {
			b := s.appendEventsHead(sc.buf[:0], p, sc, i)
			sc.buf = b
			if !pad(w, b, s.cfg.OversizeBytes, done) {
				return aborted
			}
			sc.buf = s.appendEventsTail(sc.buf[:0], p, sc, i, -1)
		} else {
			sc.buf = s.appendEvents(sc.buf[:0], p, sc, i, st.strike)
		}
		if !s.send(w, rc, sc.buf) {
			return aborted
		}
		if s.timed {
			st.sent()
		} else {
			st.i++
			st.due = false
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

// appendEvents appends the events due with token i: the role chunk with
// the first token, usage and [DONE] (or the Responses API's closing events)
// with the last; token strike is spoilt by a malformed fault.
func (s *Server) appendEvents(b []byte, p *plan, sc *scratch, i, strike int) []byte {
	b = s.appendEventsHead(b, p, sc, i)
	return s.appendEventsTail(b, p, sc, i, strike)
}

// appendEventsHead appends the events of token i up to its text.
func (s *Server) appendEventsHead(b []byte, p *plan, sc *scratch, i int) []byte {
	if i == 0 && p.ep == chat {
		b = appendRoleEvent(b, sc.prefix, p)
	}
	if p.ep == responses {
		return s.appendRespTokenHead(b, p, i, p.rng.word())
	}
	return s.appendTokenHead(b, sc.prefix, p, i, p.rng.word())
}

// appendEventsTail appends the rest of token i's events.
func (s *Server) appendEventsTail(b []byte, p *plan, sc *scratch, i, strike int) []byte {
	switch {
	case i == strike && p.fault == FaultMalformed:
		b = append(b, "\n\n"...) // cut short in its text: not JSON
	case p.ep == responses:
		b = s.appendRespTokenTail(b, p, i)
	default:
		b = appendTokenTail(b, p, i)
	}
	switch last := i == p.n-1; {
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
	return b
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
