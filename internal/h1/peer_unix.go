//go:build linux || darwin || freebsd

package h1

import (
	"net"
	"syscall"
)

// peerOpen tells whether the server still holds an idle connection open:
// a non-blocking peek finds nothing to read (EOF would mean it closed it,
// and data would be something it was never asked for).
func peerOpen(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true // an answer either way: do not wait for the socket
	})
	return err == nil && open
}
