// Package h1 is a minimal HTTP/1.1 client for genload's hot path: one
// request at a time per connection, the same POST to the same endpoint,
// written with one system call and read on the goroutine that sent it,
// with the timeouts as connection deadlines.
//
// net/http's Transport spends two goroutines per connection, several
// channel hand-offs, a context watcher, header maps and a timer on each
// request: for a load generator that must cost far less than the server it
// loads, that was most of its CPU (docs/perf.md).
//
// What it sends is what net/http sends (the same request line and headers),
// and its errors read as net/http's do, so that genload's records do not
// depend on the client that carried the request: the tests here and
// package load's differential tests compare the two.
//
// It frames responses as RFC 9112 says (chunked wins over Content-Length
// and Connection: close; HTTP/1.0 and bodies that end at the close; 1xx
// interim answers skipped, an unrequested 101 final and the connection
// dropped), checks an idle connection before reusing it, and sends again,
// once and on a new connection, a request that failed on a reused
// connection before any byte of an answer arrived: the server cannot have
// processed it (net/http does the same). It waits a moment, no more, for
// the end of a body it no longer needs (Response.Close). Package load's conformance suite
// runs both clients against a catalogue of framings and faults.
package h1

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"servebench/internal/kstamp"
	"sync"
	"sync/atomic"
	"time"
)

// Client sends one kind of request (a POST with a body, to one URL, with
// fixed headers) over HTTP/1.1 connections it keeps itself.
type Client struct {
	addr    string      // host:port to dial
	tls     *tls.Config // nil for http://
	dialer  net.Dialer
	connect time.Duration // dial, then TLS handshake, each
	prefix  []byte        // the request head up to the Content-Length value
	maxIdle int
	// kernelTimes: reads carry the kernel's receive times (Linux).
	kernelTimes bool
	// loop reads the connections (Config.Loop); canceled is set when run
	// ends, failing their reads.
	loop     *Loop
	canceled atomic.Bool
	// run ends every request in flight when done: each connection's
	// deadline is moved to the past (see dial).
	run context.Context

	mu   sync.Mutex
	idle []*conn
}

// Config is what a Client needs besides its URL.
type Config struct {
	// Header is sent with every request (Content-Type, Accept,
	// Authorization...): Host, User-Agent and Content-Length are the
	// client's, as with net/http.
	Header         http.Header
	ConnectTimeout time.Duration // dial, then TLS handshake, each
	TLS            *tls.Config   // for https://; nil: Go's defaults
	MaxIdle        int           // idle connections kept for reuse
	// KernelTimes asks the kernel when each read's bytes arrived
	// (SO_TIMESTAMPNS, Linux): Response.Arrival. Elsewhere, or when the
	// socket refuses, Arrival reports none.
	KernelTimes bool
	// Loop, when set, reads the connections (plain http:// only; https
	// ignores it): every request must then be made inside Loop.Run.
	Loop *Loop
}

// Buffer sizes and times.
const (
	// readBuffer is each connection's buffer for reads from the socket:
	// small enough for thousands of streams in flight, large enough that a
	// fast stream takes few system calls.
	readBuffer = 8 << 10
	// copyBody: a body up to this size is copied after the head.
	copyBody = 4 << 10
	// maxHeaderBytes bounds a response head, as net/http's Transport
	// does by default.
	maxHeaderBytes = 10 << 20
)

// UsableFor tells whether requests to endpoint can bypass net/http: not
// when the environment sends them through a proxy, which this client does
// not speak to.
func UsableFor(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u})
	return err == nil && proxy == nil
}

// New prepares requests to the endpoint URL. run is the context whose end
// cancels the requests in flight: one watcher per connection, not one per
// request.
func New(endpoint string, cfg Config, run context.Context) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{addr: canonicalAddr(u), connect: cfg.ConnectTimeout, maxIdle: cfg.MaxIdle, run: run, kernelTimes: cfg.KernelTimes,
		dialer: net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}}
	if u.Scheme == "https" {
		c.tls = &tls.Config{}
		if cfg.TLS != nil {
			c.tls = cfg.TLS.Clone()
		}
		if c.tls.ServerName == "" {
			c.tls.ServerName = u.Hostname()
		}
	}
	if cfg.Loop != nil && c.tls == nil {
		c.loop = cfg.Loop
		c.loop.watchRun(&c.canceled)
		context.AfterFunc(run, func() {
			c.canceled.Store(true)
			c.loop.nudge()
		})
	}
	c.prefix = requestPrefix(u, cfg.Header)
	if cfg.KernelTimes {
		kstamp.Warm()
	}
	return c, nil
}

// requestPrefix is net/http's request head for u, header for header, up to
// the Content-Length value.
func requestPrefix(u *url.URL, header http.Header) []byte {
	var h bytes.Buffer
	agent := header.Get("User-Agent")
	if agent == "" {
		agent = "Go-http-client/1.1"
	}
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", u.RequestURI(), u.Host, agent)
	_ = header.WriteSubset(&h, map[string]bool{"User-Agent": true}) // a bytes.Buffer does not fail
	h.WriteString("Content-Length: ")
	return h.Bytes()
}

// canonicalAddr is host:port with the scheme's default port.
func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Do sends body, with an X-Request-Id header when requestID is not "",
// and reads the response head. The request must end by deadline; until
// readBy (no later than deadline), the response must arrive and, once
// Response.FirstContent is called, by deadline.
//
// Errors read as net/http's do for the same failure. The Response is
// valid until its Close, which must be called.
func (c *Client) Do(body []byte, requestID string, deadline, readBy time.Time) (*Response, error) {
	return c.DoHeader(body, requestID, Header{}, deadline, readBy)
}

// Header is one header line of a single request (a conversation's
// session id); an empty Name is none. The caller has checked both as
// net/http would.
type Header struct{ Name, Value string }

// DoHeader is Do with one more header line, h, for this request alone.
func (c *Client) DoHeader(body []byte, requestID string, h Header, deadline, readBy time.Time) (*Response, error) {
	conn, reused, err := c.get(deadline)
	if err != nil {
		return nil, err
	}
	err = c.exchange(conn, body, requestID, h, deadline, readBy)
	if err != nil && reused && !conn.answered && c.run.Err() == nil && time.Now().Before(readBy) {
		// The server closed the connection as it was reused, before
		// answering: it cannot have processed the request. Once more, on
		// a connection of its own.
		conn.close()
		if conn, err = c.dial(deadline); err != nil {
			return nil, err
		}
		err = c.exchange(conn, body, requestID, h, deadline, readBy)
	}
	if err != nil {
		conn.close()
		return nil, err
	}
	return &conn.resp, nil
}

// exchange sends the request on conn and reads the response head. When
// the request cannot be written whole, an answer the server sent before
// closing (an early 413 for a body it would not read) is still read.
func (c *Client) exchange(conn *conn, body []byte, requestID string, h Header, deadline, readBy time.Time) error {
	conn.answered = false
	if !c.setDeadlines(conn, deadline, readBy) {
		return context.Canceled
	}
	conn.resp.deadline, conn.resp.readBy = deadline, readBy
	if err := c.send(conn, body, requestID, h); err != nil {
		if conn.readResponse(&conn.resp) != nil {
			return err
		}
		conn.resp.keepAlive = false // the request was not sent whole
		return nil
	}
	return conn.readResponse(&conn.resp)
}

// get returns an idle connection that is still open (and true), or dials
// one.
func (c *Client) get(deadline time.Time) (*conn, bool, error) {
	c.mu.Lock()
	for n := len(c.idle); n > 0; n = len(c.idle) {
		conn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		if conn.br.Buffered() == 0 && conn.peerOpen() { // else the server closed it, or said something unasked
			return conn, true, nil
		}
		conn.close()
		c.mu.Lock()
	}
	c.mu.Unlock()
	conn, err := c.dial(deadline)
	return conn, false, err
}

// put returns a connection whose response was read to its end.
func (c *Client) put(conn *conn) {
	conn.idleSince = time.Now()
	c.mu.Lock()
	if len(c.idle) < c.maxIdle {
		c.idle = append(c.idle, conn)
		conn = nil
	}
	c.mu.Unlock()
	if conn != nil {
		conn.close()
	}
}

// CloseIdle closes every idle connection, at the end of a run.
func (c *Client) CloseIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, conn := range idle {
		conn.close()
	}
}
