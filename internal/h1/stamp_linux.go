//go:build linux

package h1

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
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

// oobSize holds one SCM_TIMESTAMPNS control message with room to spare.
var oobSize = syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{}))) + 16

// warmOnce opens, once per process, a socket that asks for receive times
// and keeps it: the kernel turns receive timestamping on for the whole
// machine a moment after the first socket asks (deferred work), so that
// without it the first connections' first chunks would carry no time.
var warmOnce sync.Once

func warmTimestamps() {
	warmOnce.Do(func() {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return
		}
		if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1) != nil {
			syscall.Close(fd)
		}
		// Kept open: the process's receive timestamps depend on it.
	})
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
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return tc
	}
	s := &stampedConn{TCPConn: tc, rc: rc, oob: make([]byte, oobSize)}
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
	s.arrived = monotonicArrival(s.oob[:s.oobn])
	return s.n, nil
}

// monotonicArrival is the kernel's receive time among a read's control
// messages, on the monotonic clock; zero when there is none.
func monotonicArrival(oob []byte) time.Time {
	return arrivalSince(oob, time.Now())
}

// arrivalSince is monotonicArrival with a time read a moment before (the
// read loop's, read once per wake-up), which may precede the arrival.
func arrivalSince(oob []byte, now time.Time) time.Time {
	kt, ok := kernelTime(oob)
	if !ok {
		return time.Time{}
	}
	// The kernel's time is on the wall clock: its distance from now is
	// taken on the wall clock, then added to now, which keeps now's
	// monotonic reading. A distance over a minute means the wall clock
	// was stepped in between: no time, rather than a wrong one.
	if d := kt.Sub(now); d > -time.Minute && d < time.Minute {
		return now.Add(d)
	}
	return time.Time{}
}

func (s *stampedConn) readError(err error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: s.LocalAddr(), Addr: s.RemoteAddr(), Err: err}
}

// kernelTime finds the SCM_TIMESTAMPNS message among control messages.
// It reads them as syscall.ParseSocketControlMessage does (FuzzKernelTime
// holds the two to the same answer), without its allocations: a buffer
// that does not parse whole gives no time.
func kernelTime(oob []byte) (time.Time, bool) {
	hdr := syscall.CmsgSpace(0)
	var at time.Time
	found := false
	for len(oob) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		size := int(h.Len)
		if size < syscall.SizeofCmsghdr || uint64(h.Len) > uint64(len(oob)) {
			return time.Time{}, false
		}
		if !found && h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS &&
			size >= syscall.CmsgLen(int(unsafe.Sizeof(syscall.Timespec{}))) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&oob[hdr]))
			at, found = time.Unix(int64(ts.Sec), int64(ts.Nsec)), true //nolint:unconvert // 32-bit Timespec fields
		}
		next := syscall.CmsgSpace(size - hdr)
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	return at, found
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
