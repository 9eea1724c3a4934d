//go:build linux

package h1

import (
	"net"
	"time"

	"servebench/internal/kstamp"
)

// stamped asks the kernel for receive times on tc and returns the
// connection that reads them (kstamp.Conn: reads worded as net.TCPConn's,
// their arrival noted); tc itself (no times) when it refuses.
func stamped(tc *net.TCPConn) net.Conn {
	if s, ok := kstamp.Stamp(tc); ok {
		return s
	}
	return tc
}

// arrival is when the bytes of c's latest read arrived (kernel time, on
// the monotonic clock) and how many reads returned data; ok is false
// when c's reads carry no kernel times.
func arrival(nc net.Conn) (at time.Time, reads uint64, ok bool) {
	if c, isLoop := nc.(*loopConn); isLoop {
		return c.arrived, c.reads, !c.arrived.IsZero()
	}
	if s, isStamped := nc.(*kstamp.Conn); isStamped {
		return s.Arrival()
	}
	return time.Time{}, 0, false
}
