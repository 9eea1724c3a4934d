//go:build !(linux || darwin || freebsd)

package h1

import "net"

func (conn *conn) watchPeer(net.Conn) {}

// peerOpen cannot look at the socket here: an idle connection is not
// reused, a new one is dialled.
func (conn *conn) peerOpen() bool { return false }
