//go:build linux || darwin || freebsd

package h1

import (
	"net"
	"syscall"
)

// watchPeer prepares peerOpen for conn: the socket's raw handle and the
// function that peeks at it, made once per connection so that the check
// allocates nothing. For TLS the raw socket under the TLS layer is looked
// at.
func (conn *conn) watchPeer(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	conn.raw = rc
	conn.peek = func(fd uintptr) bool {
		var buf [1]byte
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		conn.open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true // an answer either way: do not wait for the socket
	}
}

// peerOpen tells whether the server still holds an idle connection open:
// a non-blocking peek at the socket finds nothing to read. EOF means it
// closed it (a keep-alive timeout, or a close it did not announce); data
// is something it was never asked for (over TLS, most likely a
// close_notify alert). net/http learns the same from the read it keeps
// pending on every idle connection.
func (conn *conn) peerOpen() bool {
	if open, ok := loopPeer(conn.under); ok {
		return open
	}
	if conn.raw == nil {
		return false
	}
	conn.open = false
	err := conn.raw.Read(conn.peek)
	return err == nil && conn.open
}
