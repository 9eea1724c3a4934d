package sim

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// Pacing: how a timed stream's tokens leave without waking its handler.
//
// A handler that sleeps until each token is due costs a timer, a channel
// operation and two goroutine wake-ups per token, and net/http's Flush on
// top of the write: on one core that, not the write, is what bounds the
// tokens per second llmsim can send on time. So once a stream is admitted,
// its handler hands it to the waker (clock.go) and parks; the waker keeps
// it in its heap by the next token's due time and, when woken, writes every
// stream that is due, one after the other, each token one write(2) of a
// whole HTTP chunk straight to the connection's socket, then requeues it
// for its next token. The handler gets the stream back (a channel send:
// the happens-before edge for everything the waker touched) when the
// answer is complete, when a fault strikes at the next token, when the
// client went away, or when a write did not go out whole: a client that
// does not read must not hold up the others, so the waker never waits for
// a socket; the handler finishes that write itself, blocking as it may,
// and sends the rest of that stream on its own.
//
// Writing under net/http is sound only while net/http has nothing
// buffered and frames the body the same way: the handler flushes the
// headers (and the Responses API's opening events) first, and pacing is
// used for HTTP/1.1 answers only, which net/http sends chunked; the waker
// writes whole chunks ("SIZE\r\nDATA\r\n"), so the terminating chunk
// net/http writes when the handler returns follows them correctly.

// stream is a streamed answer's progress through its tokens, shared by the
// handler and the waker: one of them owns it at a time (see state).
type stream struct {
	s       *Server
	p       *plan
	sc      *scratch
	i       int           // the next token
	due     bool          // e is token i's engine time (advance ran for it)
	e       time.Duration // engine time of token i
	first   time.Duration // engine time of the first token
	arrived time.Duration
	t0      time.Duration // admission
	strike  int           // the token a fault replaces, or -1
	held    bool          // the slot is still held

	// Pacing. state, cancel and at belong to the waker's mutex.
	conn   *rawConn
	at     time.Duration // real due time of token i, while queued
	state  paceState
	cancel bool          // the handler waits to get a running stream back
	failed bool          // a write failed: the client is gone
	rest   []byte        // the part of token i's chunk a short write left
	back   chan struct{} // the waker hands the stream back
}

type paceState uint8

const (
	withHandler paceState = iota
	queued                // in the waker's heap
	running               // the waker is writing its token
	dropped               // given up while queued: the waker forgets it
)

// advance computes token i's engine time: TTFT (and prefill) or ITL after
// the previous token, and observes the gap for /metrics.
func (st *stream) advance() {
	s, p := st.s, st.p
	step := s.step(st.i)
	st.e += step
	if st.i == 0 {
		st.e += p.prefill
		st.first = st.e
	} else {
		s.stats.itl.observe(step)
	}
	st.due = true
}

// finishing does the bookkeeping of the last token, before it is sent:
// the slot is freed and the request's schedule observed.
func (st *stream) finishing() {
	st.held = false
	st.s.slots.release()
	st.s.stats.scheduled(st.arrived, st.t0, st.s.clock.toReal(st.first), st.s.clock.toReal(st.e))
}

// sent moves on once token i is written.
func (st *stream) sent() {
	late := mono() - st.s.clock.toReal(st.e)
	st.s.late.add(late)
	if st.i == 0 {
		st.s.lateTTFT.add(late)
	}
	st.i++
	st.due = false
}

// rawConn is the connection under a request, for writing past net/http.
type rawConn struct {
	conn net.Conn
	raw  syscall.RawConn
	// The write being made, and its result: fields, so that the function
	// RawConn.Write calls is made once per connection, not per token.
	buf   []byte
	n     int
	err   error
	write func(fd uintptr) bool
}

type connKey struct{}

// ConnContext is for http.Server.ConnContext: it keeps the connection in
// the requests' context, so that streams can be paced (written straight to
// the socket). Without it llmsim works the same, at a higher cost per token.
func (s *Server) ConnContext(ctx context.Context, c net.Conn) context.Context {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return ctx
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return ctx
	}
	rc := &rawConn{conn: c, raw: raw}
	rc.write = func(fd uintptr) bool {
		// A raw system call: the socket is non-blocking, so the write
		// cannot block, and the runtime need not prepare for it (nor
		// wake sysmon). send(2) rather than write(2): the socket layer
		// directly, without the file layer's checks.
		n, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, fd,
			uintptr(unsafe.Pointer(unsafe.SliceData(rc.buf))), uintptr(len(rc.buf)), syscall.MSG_NOSIGNAL, 0, 0)
		rc.n, rc.err = int(n), nil
		if errno != 0 {
			rc.n, rc.err = 0, errno
		}
		return true // never wait: a full socket buffer is the handler's to wait for
	}
	return context.WithValue(ctx, connKey{}, rc)
}

// paceable returns the connection a stream can be paced on, or nil.
func (s *Server) paceable(r *http.Request, p *plan) *rawConn {
	if !p.stream || !s.timed || s.waker == nil || r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return nil
	}
	rc, _ := r.Context().Value(connKey{}).(*rawConn)
	return rc
}

// writeNow writes b without waiting, and returns how much went out; err is
// nil for a full socket buffer (n < len(b) then).
func (rc *rawConn) writeNow(b []byte) (int, error) {
	rc.buf = b
	if err := rc.raw.Write(rc.write); err != nil {
		rc.buf = nil
		return 0, err
	}
	n, err := rc.n, rc.err
	rc.buf, rc.err = nil, nil
	if n < 0 {
		n = 0
	}
	if errors.Is(err, syscall.EAGAIN) {
		err = nil
	}
	return n, err
}

// appendChunk frames data as one HTTP/1.1 chunk, as net/http does.
func appendChunk(b, data []byte) []byte {
	b = strconv.AppendInt(b, int64(len(data)), 16)
	b = append(b, "\r\n"...)
	b = append(b, data...)
	return append(b, "\r\n"...)
}

// pace hands st to the waker from token st.i (due) on and waits to get it
// back; false when the client left (the answer is aborted).
func (s *Server) pace(st *stream, done <-chan struct{}) bool {
	w := s.waker
	st.at = s.clock.toReal(st.e)
	if !w.addStream(st) {
		st.conn = nil // the waker is gone: the handler carries on alone
		return true
	}
	select {
	case <-st.back:
		return !st.failed
	case <-done:
	}
	w.mu.Lock()
	if st.state == queued {
		// The heap keeps the entry until it is due: the scratch it
		// points into must not be reused.
		st.state = dropped
		w.mu.Unlock()
		st.sc.stale = true
		return false
	}
	st.cancel = true
	w.mu.Unlock()
	<-st.back // the token being written
	return !st.failed && st.i == st.p.n
}

// paceToken writes token st.i, which is due, from the waker, and says
// whether the stream goes back in the heap (st.at then holds the next
// token's due time) or back to its handler.
func (st *stream) paceToken() bool {
	s, p, sc := st.s, st.p, st.sc
	if st.i == p.n-1 {
		st.finishing()
	}
	sc.buf = s.appendEvents(sc.buf[:0], p, sc, st.i, st.strike)
	sc.chunk = appendChunk(sc.chunk[:0], sc.buf)
	n, err := st.conn.writeNow(sc.chunk)
	switch {
	case err != nil:
		st.failed = true
		return false
	case n < len(sc.chunk):
		st.rest = sc.chunk[n:]
		return false
	}
	st.sent()
	if st.i == p.n {
		return false
	}
	st.advance()
	if st.i == st.strike {
		return false
	}
	st.at = s.clock.toReal(st.e)
	return true
}

// finishWrite sends what a short write of the waker's left of token st.i,
// waiting for the client as long as it takes; the handler then sends the
// rest of the stream itself.
func (st *stream) finishWrite() bool {
	rest, c := st.rest, st.conn
	st.rest, st.conn = nil, nil
	st.s.unpaced.Add(1)
	if _, err := c.conn.Write(rest); err != nil {
		return false
	}
	st.sent()
	return true
}
