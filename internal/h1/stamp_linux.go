//go:build linux

package h1

import (
	"errors"
	"io"
	"net"
	"os"
	"servebench/internal/kstamp"
	"syscall"
	"time"
)

// stampedConn is a TCP connection whose reads ask the kernel when their
// bytes reached the machine: SO_TIMESTAMPNS on the socket, each read a
// recvmsg whose control message carries the receive time of the last
// segment it returned. A chunk's time is then when it arrived, not when
// the client got round to reading it; the difference is the client's read
// lag (docs/record.md, read_lag_*).
//
// The time is the newest segment's among those a read returns, and TCP
// merges segments that wait in the socket into one, keeping the newest
// time: when genload has fallen behind, the chunks that waited come out of
// one read with one time (their gaps read 0, and how long the oldest
// waited is understated). coalesced_events counts them, and summarize
// flags a run where many did.
//
// Reads go through the runtime's poller (syscall.RawConn.Read), so that
// deadlines, closing and waking work as for net.TCPConn's own Read, and
// errors are worded as net.TCPConn words them ("read tcp A->B: read:
// connection reset by peer", "i/o timeout"): records must not depend on
// how the bytes were read.
type stampedConn struct {
	*net.TCPConn
	rc syscall.RawConn
	// arrived is when the latest read's bytes arrived, on the monotonic
	// clock (zero when the kernel gave no time); reads counts the reads
	// that returned data.
	arrived time.Time
	reads   uint64

	// The read in progress, for recv (one method value, made once, so a
	// read allocates nothing).
	p       []byte
	oob     []byte
	n, oobn int
	rerr    error
	recvFn  func(fd uintptr) bool
}

// stamped asks the kernel for receive times on tc and returns the
// connection that reads them; tc itself (no times) when it refuses.
func stamped(tc *net.TCPConn) net.Conn {
	rc, err := tc.SyscallConn()
	if err != nil {
		return tc
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = kstamp.Enable(int(fd))
	}); err != nil || serr != nil {
		return tc
	}
	s := &stampedConn{TCPConn: tc, rc: rc, oob: make([]byte, kstamp.OOBSize)}
	s.recvFn = s.recv
	return s
}

// recv is one non-blocking recvmsg; false (wait for the socket) on EAGAIN.
func (s *stampedConn) recv(fd uintptr) bool {
	for {
		s.n, s.oobn, _, _, s.rerr = syscall.Recvmsg(int(fd), s.p, s.oob, 0)
		if s.rerr != syscall.EINTR {
			break
		}
	}
	return s.rerr != syscall.EAGAIN
}

// Read reads as net.TCPConn's Read does, and notes when the bytes arrived.
func (s *stampedConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.p = p
	err := s.rc.Read(s.recvFn)
	s.p = nil
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) { // "raw-read": said as a read
			err = op.Err
		}
		return 0, s.readError(err)
	}
	if s.rerr != nil {
		return 0, s.readError(os.NewSyscallError("read", s.rerr))
	}
	if s.n == 0 {
		return 0, io.EOF
	}
	s.reads++
	s.arrived = kstamp.Since(s.oob[:s.oobn], time.Now())
	return s.n, nil
}

func (s *stampedConn) readError(err error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: s.LocalAddr(), Addr: s.RemoteAddr(), Err: err}
}

// arrival is when the bytes of c's latest read arrived (kernel time, on
// the monotonic clock) and how many reads returned data; ok is false
// when c's reads carry no kernel times.
func arrival(nc net.Conn) (at time.Time, reads uint64, ok bool) {
	if c, isLoop := nc.(*loopConn); isLoop {
		return c.arrived, c.reads, !c.arrived.IsZero()
	}
	s, isStamped := nc.(*stampedConn)
	if !isStamped || s.arrived.IsZero() {
		return time.Time{}, 0, false
	}
	return s.arrived, s.reads, true
}
