//go:build linux

package sim

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

const clockMonotonic = 1 // CLOCK_MONOTONIC, the clock Go's monotonic readings use

// timerfdAlarm is a Linux timerfd opened non-blocking, so that os.File reads
// park the goroutine in the runtime's poller: epoll reports the expiry within
// the kernel's timer slack, instead of at the next whole millisecond.
type timerfdAlarm struct {
	fd  uintptr
	f   *os.File
	buf [8]byte
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
	return &timerfdAlarm{fd: fd, f: os.NewFile(fd, "llmsim-timerfd")}, nil
}

func (a *timerfdAlarm) set(d time.Duration) {
	// A zero it_value would disarm the timer: an overdue deadline fires now.
	its := itimerspec{value: syscall.NsecToTimespec(max(int64(d), 1))}
	syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, a.fd, 0, uintptr(unsafe.Pointer(&its)), 0, 0, 0)
}

func (a *timerfdAlarm) wait() error {
	_, err := a.f.Read(a.buf[:])
	return err
}
