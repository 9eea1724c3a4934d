//go:build !(linux || darwin || freebsd)

package load

import "net"

// peerOpen cannot look at the socket here: an idle connection is not
// reused after h1FreshIdle, a new one is dialled.
func peerOpen(net.Conn) bool { return false }
