//go:build linux

package sim

import (
	"net"
	"time"

	"servebench/internal/kstamp"
)

// stamp reads c with the kernel's receive times (kstamp.Conn: net.TCPConn
// otherwise, SyscallConn and SetLinger included); c itself when it cannot.
func stamp(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	s, ok := kstamp.Stamp(tc)
	if !ok {
		return c
	}
	kstamp.Warm()
	return stampConn{s}
}

// stampConn is a stamped connection that tells its latest read's arrival
// on llmsim's clock (arrivalConn).
type stampConn struct{ *kstamp.Conn }

func (s stampConn) arrival() time.Duration {
	at, _, ok := s.Arrival()
	if !ok {
		return 0
	}
	return at.Sub(epoch)
}
