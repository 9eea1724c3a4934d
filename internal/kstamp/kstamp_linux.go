//go:build linux

// Package kstamp reads the kernel's receive times of socket reads
// (SO_TIMESTAMPNS): when a read's bytes reached the machine, turned into
// the monotonic clock. genload times stream chunks with them (internal/h1)
// and llmsim dates a request's arrival (internal/sim).
package kstamp

import (
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// OOBSize holds one SCM_TIMESTAMPNS control message with room to spare:
// the size of a recvmsg control buffer.
var OOBSize = syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{}))) + 16

// Enable asks the kernel for the receive times of fd's reads.
func Enable(fd int) error {
	return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

var warmOnce sync.Once

// Warm opens, once per process, a socket that asks for receive times and
// keeps it: the kernel turns receive timestamping on for the whole machine
// a moment after the first socket asks (deferred work), and off again when
// the last one closes, so that without it the first reads of new sockets
// would carry no time.
func Warm() {
	warmOnce.Do(func() {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return
		}
		if Enable(fd) != nil {
			syscall.Close(fd)
		}
		// Kept open: the process's receive timestamps depend on it.
	})
}

// Since is the kernel's receive time among a read's control messages, on
// the monotonic clock, given a time read a moment before or after (which
// may precede the arrival); zero when there is none.
func Since(oob []byte, now time.Time) time.Time {
	kt, ok := Parse(oob)
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

// Parse finds the SCM_TIMESTAMPNS message among control messages. It
// reads them as syscall.ParseSocketControlMessage does (FuzzKernelTime
// holds the two to the same answer), without its allocations: a buffer
// that does not parse whole gives no time.
func Parse(oob []byte) (time.Time, bool) {
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
