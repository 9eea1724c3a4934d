//go:build !(linux || darwin || freebsd)

package h1

import "net"

// peerOpen cannot look at the socket here: an idle connection is not
// reused after freshIdle, a new one is dialled.
func peerOpen(net.Conn) bool { return false }
