package sim

import (
	"net"
	"net/http"
	"time"
)

// A request arrives when its bytes reach the machine, not when its
// handler gets to run. Under a burst (a closed loop's wave: a thousand
// requests at the same instant) the handlers run one after the other, and
// a request's TTFT counted from its handler would start late by all the
// work done before it, where the send-lateness account (which compares
// tokens with their due times) cannot see it. So on Linux llmsim reads
// its connections with the kernel's receive times (arrival_linux.go),
// counts a request's time from when its head arrived, and reports any
// delay in answering it as lateness.

// arrivalConn is a connection that knows when its latest read's bytes
// arrived, on llmsim's monotonic clock (mono), or 0.
type arrivalConn interface {
	arrival() time.Duration
}

// arrivedAt is when r arrived: its connection's latest read's arrival,
// when the kernel told it and it is not in the future or long past; else
// now.
func (s *Server) arrivedAt(r *http.Request) time.Duration {
	now := mono()
	rc, _ := r.Context().Value(connKey{}).(*rawConn)
	if rc == nil {
		return now
	}
	ac, ok := rc.conn.(arrivalConn)
	if !ok {
		return now
	}
	if at := ac.arrival(); at > 0 && at <= now && now-at < time.Minute {
		return at
	}
	return now
}

// stampListener hands out connections whose reads carry the kernel's
// receive times (stamp, per platform).
type stampListener struct{ net.Listener }

func (l stampListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return stamp(c), nil
}
