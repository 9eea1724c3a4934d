//go:build !linux

package h1

import (
	"net"
	"time"
)

// stamped: kernel receive times are read on Linux only; elsewhere reads
// are timed when they return.
func stamped(tc *net.TCPConn) net.Conn { return tc }

func arrival(net.Conn) (time.Time, uint64, bool) { return time.Time{}, 0, false }
