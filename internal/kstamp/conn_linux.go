//go:build linux

package kstamp

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is a TCP connection whose reads ask the kernel when their bytes
// reached the machine: SO_TIMESTAMPNS on the socket, each read a recvmsg
// whose control message carries the receive time of the last segment it
// returned. genload times stream chunks by it (the difference from when it
// handled them is its read lag, docs/record.md); llmsim dates a request's
// arrival by it.
//
// The time is the newest segment's among those a read returns, and TCP
// merges segments that wait in the socket into one, keeping the newest
// time: when a reader has fallen behind, what waited comes out of one read
// with one time.
//
// Reads go through the runtime's poller (syscall.RawConn.Read), so that
// deadlines, closing and waking work as for net.TCPConn's own Read, and
// errors are worded as net.TCPConn words them ("read tcp A->B: read:
// connection reset by peer", "i/o timeout"): records must not depend on
// how the bytes were read. The rest (writes, SyscallConn, SetLinger...) is
// the net.TCPConn's.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn
	// arrived is when the latest read's bytes arrived, in nanoseconds of
	// the monotonic clock since epoch (0: the kernel gave no time); reads
	// counts the reads that returned data. Atomic: another goroutine may
	// ask while one reads (net/http's background read).
	arrived atomic.Int64
	reads   atomic.Uint64

	// The read in progress, for recv (one function value, made once, so a
	// read allocates nothing).
	p       []byte
	oob     []byte
	n, oobn int
	rerr    error
	recvFn  func(fd uintptr) bool
}

// epoch anchors Conn's arrival times on the monotonic clock.
var epoch = time.Now()

// Stamp asks the kernel for receive times on tc and returns the connection
// that reads them; false when the socket refuses.
func Stamp(tc *net.TCPConn) (*Conn, bool) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = Enable(int(fd)) }); err != nil || serr != nil {
		return nil, false
	}
	s := &Conn{TCPConn: tc, rc: rc, oob: make([]byte, OOBSize)}
	s.recvFn = s.recv
	return s, true
}

// recv is one non-blocking recvmsg; false (wait for the socket) on EAGAIN.
func (s *Conn) recv(fd uintptr) bool {
	for {
		s.n, s.oobn, _, _, s.rerr = syscall.Recvmsg(int(fd), s.p, s.oob, 0)
		if s.rerr != syscall.EINTR {
			break
		}
	}
	return s.rerr != syscall.EAGAIN
}

// Read reads as net.TCPConn's Read does, and notes when the bytes arrived.
func (s *Conn) Read(p []byte) (int, error) {
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
	s.reads.Add(1)
	var at int64
	if t := Since(s.oob[:s.oobn], time.Now()); !t.IsZero() {
		at = int64(t.Sub(epoch))
	}
	s.arrived.Store(at)
	return s.n, nil
}

func (s *Conn) readError(err error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: s.LocalAddr(), Addr: s.RemoteAddr(), Err: err}
}

// Arrival is when the bytes of the latest read arrived (on the monotonic
// clock) and how many reads returned data; ok is false when the latest
// read carried no kernel time.
func (s *Conn) Arrival() (at time.Time, reads uint64, ok bool) {
	d := s.arrived.Load()
	if d == 0 {
		return time.Time{}, s.reads.Load(), false
	}
	return epoch.Add(time.Duration(d)), s.reads.Load(), true
}
