//go:build linux

package h1

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pair is a client connection to a one-connection loopback server, and the
// server's side.
func pair(t *testing.T) (client *net.TCPConn, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s
}

// errText is an error as a record would carry it, addresses left out
// (the two connections have different ones).
func errText(err error, c net.Conn) string {
	if err == nil {
		return ""
	}
	return strings.NewReplacer(c.LocalAddr().String(), "L", c.RemoteAddr().String(), "R").Replace(err.Error())
}

// TestStampedReadsAsTCPConn: a stamped connection reads the same bytes and
// fails with the same errors, word for word, as net.TCPConn's own Read,
// for data, the end, a reset, a deadline and a close.
func TestStampedReadsAsTCPConn(t *testing.T) {
	type step func(s net.Conn, c net.Conn)
	cases := []struct {
		name string
		act  func(t *testing.T, s net.Conn, c net.Conn) // what the server (or client) does before the read
	}{
		{"data", func(t *testing.T, s, c net.Conn) { s.Write([]byte("hello")) }},
		{"end", func(t *testing.T, s, c net.Conn) { s.Close() }},
		{"reset", func(t *testing.T, s, c net.Conn) {
			s.(*net.TCPConn).SetLinger(0)
			s.Close()
			time.Sleep(20 * time.Millisecond)
		}},
		{"deadline", func(t *testing.T, s, c net.Conn) { c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)) }},
		{"closed", func(t *testing.T, s, c net.Conn) { c.Close() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for i, stamp := range []bool{false, true} {
				c, s := pair(t)
				var nc net.Conn = c
				if stamp {
					if nc = stamped(c); nc == net.Conn(c) {
						t.Skip("SO_TIMESTAMPNS refused here")
					}
				}
				tc.act(t, s, nc)
				buf := make([]byte, 64)
				n, err := nc.Read(buf)
				got[i] = string(buf[:n]) + "|" + errText(err, nc)
				if tc.name == "deadline" && !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("stamped=%v: %v is not os.ErrDeadlineExceeded", stamp, err)
				}
				if tc.name == "reset" && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("stamped=%v: %v is not ECONNRESET", stamp, err)
				}
			}
			if got[0] != got[1] {
				t.Errorf("net.TCPConn read %q, the stamped connection %q", got[0], got[1])
			}
		})
	}
}

// TestArrivalIsWhenBytesCame: bytes written before the client slept are
// stamped with their arrival, not with the read that came 30 ms later;
// a read that returns data counts once, and reads of buffered bytes do
// not happen at all (bufio), so arrival stays the latest read's.
func TestArrivalIsWhenBytesCame(t *testing.T) {
	c, s := pair(t)
	nc := stamped(c)
	if nc == net.Conn(c) {
		t.Skip("SO_TIMESTAMPNS refused here")
	}
	time.Sleep(10 * time.Millisecond)
	before := time.Now()
	if _, err := s.Write([]byte("token 1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	readAt := time.Now()
	buf := make([]byte, 64)
	if _, err := nc.Read(buf); err != nil {
		t.Fatal(err)
	}
	at, reads, ok := arrival(nc)
	if !ok || reads != 1 {
		t.Fatalf("arrival: ok %v, reads %d; want a time and 1 read", ok, reads)
	}
	// The wall-to-monotonic conversion may err by the time between two
	// clock readings: 1 ms is far beyond it.
	if at.Before(before.Add(-time.Millisecond)) || at.After(readAt) {
		t.Errorf("arrival %v after the write, read began %v after it: the arrival must lie between", at.Sub(before), readAt.Sub(before))
	}
	if lag := readAt.Sub(at); lag < 25*time.Millisecond {
		t.Errorf("the read came %v after the bytes arrived, want about 30ms", lag)
	}
	s.Write([]byte("token 2"))
	if _, err := nc.Read(buf); err != nil {
		t.Fatal(err)
	}
	at2, reads2, _ := arrival(nc)
	if reads2 != 2 || !at2.After(at) {
		t.Errorf("second read: reads %d, arrival after the first by %v", reads2, at2.Sub(at))
	}
}
