//go:build !linux

package sim

import "net"

// stamp: kernel receive times are read on Linux only; elsewhere a request
// arrives when its handler starts.
func stamp(c net.Conn) net.Conn { return c }
