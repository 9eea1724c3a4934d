//go:build linux

package sim

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"servebench/internal/kstamp"
)

// stampConn reads a TCP connection with recvmsg and the kernel's receive
// time of each read's bytes (SO_TIMESTAMPNS); the rest is net.TCPConn's,
// SyscallConn included (paced streams write through it).
type stampConn struct {
	*net.TCPConn
	rc syscall.RawConn
	monoArrival

	// The read in progress (one function value, made once).
	p       []byte
	oob     []byte
	n, oobn int
	rerr    error
	recvFn  func(fd uintptr) bool
}

// stamp asks the kernel for receive times on c; c itself when it cannot.
func stamp(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = kstamp.Enable(int(fd)) }); err != nil || serr != nil {
		return c
	}
	kstamp.Warm()
	s := &stampConn{TCPConn: tc, rc: rc, oob: make([]byte, kstamp.OOBSize)}
	s.recvFn = func(fd uintptr) bool {
		for {
			s.n, s.oobn, _, _, s.rerr = syscall.Recvmsg(int(fd), s.p, s.oob, 0)
			if s.rerr != syscall.EINTR {
				break
			}
		}
		return s.rerr != syscall.EAGAIN
	}
	return s
}

func (s *stampConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.p = p
	err := s.rc.Read(s.recvFn)
	s.p = nil
	switch {
	case err != nil:
		if op, ok := err.(*net.OpError); ok {
			err = op.Err
		}
		return 0, s.opError(err)
	case s.rerr != nil:
		return 0, s.opError(os.NewSyscallError("read", s.rerr))
	case s.n == 0:
		return 0, io.EOF
	}
	if at := kstamp.Since(s.oob[:s.oobn], time.Now()); !at.IsZero() {
		s.at.Store(int64(at.Sub(epoch)))
	}
	return s.n, nil
}

func (s *stampConn) opError(err error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: s.LocalAddr(), Addr: s.RemoteAddr(), Err: err}
}
