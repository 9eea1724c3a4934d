//go:build linux

package sim

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

const clockMonotonic = 1 // CLOCK_MONOTONIC, the clock Go's monotonic readings use

// timerfdAlarm is a Linux timerfd opened non-blocking, so that waiting
// parks the goroutine in the runtime's poller: epoll reports the expiry
// within the kernel's timer slack, instead of at the next whole millisecond.
//
// Setting and reading it are raw system calls (neither can block): a
// system call made the standard way wakes the runtime's sysmon thread when
// the process was idle, and on a busy waker (one wake-up per token or
// two) that thread's wake-ups cost as much as the tokens' writes.
type timerfdAlarm struct {
	fd   uintptr
	f    *os.File
	raw  syscall.RawConn
	buf  [8]byte
	read func(fd uintptr) bool
}

type itimerspec struct {
	interval, value syscall.Timespec
}

// newAlarm opens the timerfd behind the precise waker.
func newAlarm() (alarm, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic,
		uintptr(syscall.O_NONBLOCK|syscall.O_CLOEXEC), 0)
	if errno != 0 {
		return nil, errno
	}
	a := &timerfdAlarm{fd: fd, f: os.NewFile(fd, "llmsim-timerfd")}
	raw, err := a.f.SyscallConn()
	if err != nil {
		a.f.Close()
		return nil, err
	}
	a.raw = raw
	a.read = func(fd uintptr) bool {
		_, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&a.buf[0])), uintptr(len(a.buf)))
		return errno != syscall.EAGAIN // EAGAIN: not yet; wait in the poller
	}
	return a, nil
}

func (a *timerfdAlarm) set(d time.Duration) {
	// A zero it_value would disarm the timer: an overdue deadline fires now.
	its := itimerspec{value: syscall.NsecToTimespec(max(int64(d), 1))}
	syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, a.fd, 0, uintptr(unsafe.Pointer(&its)), 0, 0, 0)
}

func (a *timerfdAlarm) wait() error {
	return a.raw.Read(a.read)
}
