package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"
)

// conn is one connection, the buffers of the request it carries, and the
// response it is reading: kept with the connection, so that a request
// allocates nothing.
type conn struct {
	nc        net.Conn
	under     net.Conn // the TCP connection (under TLS, for https://)
	br        *bufio.Reader
	head      []byte // this request's head, and its body when small
	resp      Response
	idleSince time.Time
	unwatch   func() bool
	client    *Client
	// answered: a byte of an answer to this request arrived.
	answered bool
	// raw, peek and open check an idle connection (peerOpen).
	raw  syscall.RawConn
	peek func(fd uintptr) bool
	open bool
}

// dial opens a connection (TCP, then TLS for https://) as net/http does:
// each step within the connect timeout, all within the request's.
func (c *Client) dial(deadline time.Time) (*conn, error) {
	if c.loop != nil {
		return c.dialLoop(deadline)
	}
	ctx, cancel := context.WithDeadline(c.run, deadline)
	defer cancel()
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err // dial tcp ADDR: connect: connection refused, as net/http says
	}
	if tc, ok := nc.(*net.TCPConn); ok && c.kernelTimes {
		nc = stamped(tc)
	}
	under := nc
	if c.tls != nil {
		if nc, err = c.handshake(ctx, nc); err != nil {
			return nil, err
		}
	}
	conn := &conn{nc: nc, under: under, br: bufio.NewReaderSize(nc, readBuffer), client: c}
	if tc, ok := nc.(*tls.Conn); ok {
		conn.watchPeer(tc.NetConn())
	} else {
		conn.watchPeer(nc)
	}
	conn.resp.conn = conn
	conn.unwatch = context.AfterFunc(c.run, func() { _ = nc.SetDeadline(pastDeadline) })
	return conn, nil
}

// dialLoop dials a connection whose reads the client's Loop makes (the
// dial itself on Run's goroutine).
func (c *Client) dialLoop(deadline time.Time) (*conn, error) {
	nc, err := c.loop.dialLoop(func() (net.Conn, error) {
		ctx, cancel := context.WithDeadline(c.run, deadline)
		defer cancel()
		return c.dialer.DialContext(ctx, "tcp", c.addr)
	}, c.kernelTimes, &c.canceled)
	if err != nil {
		return nil, err
	}
	conn := &conn{nc: nc, under: nc, br: bufio.NewReaderSize(nc, readBuffer), client: c, unwatch: func() bool { return true }}
	conn.resp.conn = conn
	return conn, nil
}

// handshake runs TLS over nc within the connect timeout, with net/http's
// message when that runs out.
func (c *Client) handshake(ctx context.Context, nc net.Conn) (net.Conn, error) {
	tc := tls.Client(nc, c.tls)
	hctx, hcancel := context.WithTimeout(ctx, c.connect)
	defer hcancel()
	err := tc.HandshakeContext(hctx)
	if err == nil {
		return tc, nil
	}
	nc.Close()
	if hctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		return nil, errors.New("TLS handshake timeout")
	}
	return nil, err
}

// pastDeadline ends every read and write in progress on a connection.
var pastDeadline = time.Unix(1, 0)

func (conn *conn) close() {
	conn.unwatch()
	conn.nc.Close()
}

// setDeadlines applies the request's deadlines to the connection: read
// until readBy (the first-token deadline, if any), write until by. It
// reports false when the run has meanwhile canceled its requests (the
// watcher's past deadline may have been overwritten: it is set again).
func (c *Client) setDeadlines(conn *conn, by, readBy time.Time) bool {
	if readBy.Equal(by) {
		_ = conn.nc.SetDeadline(by)
	} else {
		_ = conn.nc.SetWriteDeadline(by)
		_ = conn.nc.SetReadDeadline(readBy)
	}
	if c.run.Err() != nil {
		_ = conn.nc.SetDeadline(pastDeadline)
		return false
	}
	return true
}

// send writes the request, its head and body in one system call: copied
// together when the body is small, else with writev.
func (c *Client) send(conn *conn, body []byte, requestID string, h Header) error {
	conn.head = append(conn.head[:0], c.prefix...)
	conn.head = strconv.AppendInt(conn.head, int64(len(body)), 10)
	if requestID != "" {
		conn.head = append(conn.head, "\r\nX-Request-Id: "...)
		conn.head = append(conn.head, requestID...)
	}
	if h.Name != "" {
		conn.head = append(conn.head, "\r\n"...)
		conn.head = append(conn.head, h.Name...)
		conn.head = append(conn.head, ": "...)
		conn.head = append(conn.head, h.Value...)
	}
	conn.head = append(conn.head, "\r\n\r\n"...)
	if len(body) <= copyBody || c.tls != nil {
		conn.head = append(conn.head, body...)
		_, err := conn.nc.Write(conn.head)
		if cap(conn.head) > 2*copyBody {
			conn.head = nil // a TLS request's large body: not kept per connection
		}
		return err
	}
	vec := net.Buffers{conn.head, body}
	_, err := vec.WriteTo(conn.nc)
	return err
}
