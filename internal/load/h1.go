package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"servebench/internal/openai"
)

// h1Client sends genload's requests over HTTP/1.1 connections it keeps
// itself: one request at a time per connection, written with one system
// call and read on the goroutine that sent it, with the timeouts as
// connection deadlines. net/http's Transport spends two goroutines per
// connection, several channel hand-offs, a context watcher, header maps and
// a timer on each request: for a load generator that must cost far less
// than the server it loads, that was most of its CPU (docs/perf.md).
//
// It is used for http:// and https:// targets reached directly; when the
// environment names a proxy for the target, requests go through net/http.
// What it sends is what net/http sent (the same request line and headers),
// and its errors read as net/http's did, so records do not change:
// TestH1SendsWhatNetHTTPSends and TestH1ResponseFraming compare the two.
type h1Client struct {
	addr    string      // host:port to dial
	tls     *tls.Config // nil for http://
	dialer  net.Dialer
	connect time.Duration // dial, then TLS handshake, each
	prefix  []byte        // the request head up to the Content-Length value
	maxIdle int
	// run ends every request in flight when done: each connection's
	// deadline is moved to the past (see watch).
	run context.Context

	mu   sync.Mutex
	idle []*h1Conn
}

// h1Conn is one connection and the buffers of the request it carries.
type h1Conn struct {
	nc        net.Conn
	br        *bufio.Reader
	head      []byte // this request's head, and its body when small
	sr        *openai.StreamReader
	idleSince time.Time
	unwatch   func() bool
}

// Buffer sizes: the connection's reads from the socket, and the lines of a
// stream (longer lines are assembled, not refused). Small enough for
// thousands of streams in flight, large enough that a fast stream takes
// few system calls.
const (
	h1ReadBuffer   = 8 << 10
	h1StreamBuffer = 4 << 10
	// h1CopyBody: a body up to this size is copied after the head.
	h1CopyBody = 4 << 10
	// h1MaxHeaderBytes bounds a response head.
	h1MaxHeaderBytes = 1 << 20
	// h1FreshIdle: a connection idle for less than this is reused without
	// checking that the server still holds it open (a system call): in a
	// busy closed loop connections are idle for microseconds, and no
	// server closes them that fast. As with net/http, a server closing a
	// connection at the very moment it is reused fails that request.
	h1FreshIdle = time.Millisecond
	// h1TLSMaxIdle: a TLS connection idle longer is not reused (its
	// liveness cannot be checked without reading through TLS).
	h1TLSMaxIdle = 2 * time.Second
	// h1DrainWait: after [DONE], how long the end of the response may take
	// to arrive for the connection to be reused; otherwise it is closed.
	h1DrainWait = 100 * time.Millisecond
)

// useH1 tells whether requests to endpoint can bypass net/http: not when
// the environment sends them through a proxy.
func useH1(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u})
	return err == nil && proxy == nil
}

// newH1Client prepares requests to the endpoint URL for cfg. run is the
// context whose end cancels the requests in flight.
func newH1Client(cfg *Config, endpoint string, maxIdle int, run context.Context) (*h1Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	c := &h1Client{addr: canonicalAddr(u), connect: cfg.ConnectTimeout, maxIdle: maxIdle, run: run,
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
	// net/http's request head for the same request, header for header.
	var h bytes.Buffer
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Go-http-client/1.1\r\n", u.RequestURI(), u.Host)
	if cfg.Stream {
		h.WriteString("Accept: text/event-stream\r\n")
	}
	if cfg.APIKey != "" {
		fmt.Fprintf(&h, "Authorization: Bearer %s\r\n", cfg.APIKey)
	}
	h.WriteString("Content-Type: application/json\r\nContent-Length: ")
	c.prefix = h.Bytes()
	return c, nil
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

// get returns an idle connection that is still open, or dials one.
func (c *h1Client) get(deadline time.Time) (*h1Conn, error) {
	c.mu.Lock()
	for n := len(c.idle); n > 0; n = len(c.idle) {
		conn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		if c.reusable(conn) {
			return conn, nil
		}
		conn.close()
		c.mu.Lock()
	}
	c.mu.Unlock()
	return c.dial(deadline)
}

// reusable checks an idle connection before a request goes out on it: a
// server closes idle connections after its own keep-alive time (uvicorn,
// under vLLM, after 5 s).
func (c *h1Client) reusable(conn *h1Conn) bool {
	idle := time.Since(conn.idleSince)
	switch {
	case conn.br.Buffered() > 0: // the server said something unasked
		return false
	case idle < h1FreshIdle:
		return true
	case c.tls != nil:
		return idle < h1TLSMaxIdle
	}
	return peerOpen(conn.nc)
}

// dial opens a connection (TCP, then TLS for https://) as net/http did:
// each step within the connect timeout, all within the request's.
func (c *h1Client) dial(deadline time.Time) (*h1Conn, error) {
	ctx, cancel := context.WithDeadline(c.run, deadline)
	defer cancel()
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err // dial tcp ADDR: connect: connection refused, as net/http said
	}
	if c.tls != nil {
		tc := tls.Client(nc, c.tls)
		hctx, hcancel := context.WithTimeout(ctx, c.connect)
		err := tc.HandshakeContext(hctx)
		timedOut := hctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		hcancel()
		if err != nil {
			nc.Close()
			if timedOut {
				return nil, errors.New("TLS handshake timeout")
			}
			return nil, err
		}
		nc = tc
	}
	conn := &h1Conn{nc: nc, br: bufio.NewReaderSize(nc, h1ReadBuffer)}
	conn.unwatch = context.AfterFunc(c.run, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	return conn, nil
}

// put returns a connection whose response was read to its end.
func (c *h1Client) put(conn *h1Conn) {
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

// closeIdle closes every idle connection, at the end of a run.
func (c *h1Client) closeIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, conn := range idle {
		conn.close()
	}
}

func (conn *h1Conn) close() {
	conn.unwatch()
	conn.nc.Close()
}

// setDeadlines applies the request's deadlines to the connection: read
// until readBy (the first-token deadline, if any), write until by. It
// reports false when the run has meanwhile canceled its requests (the
// watcher's past deadline may have been overwritten: it is set again).
func (c *h1Client) setDeadlines(conn *h1Conn, by, readBy time.Time) bool {
	if readBy.Equal(by) {
		_ = conn.nc.SetDeadline(by)
	} else {
		_ = conn.nc.SetWriteDeadline(by)
		_ = conn.nc.SetReadDeadline(readBy)
	}
	if c.run.Err() != nil {
		_ = conn.nc.SetDeadline(time.Unix(1, 0))
		return false
	}
	return true
}

// send writes the request, its head and body in one system call: copied
// together when the body is small, else with writev.
func (c *h1Client) send(conn *h1Conn, body []byte) error {
	conn.head = append(conn.head[:0], c.prefix...)
	conn.head = strconv.AppendInt(conn.head, int64(len(body)), 10)
	conn.head = append(conn.head, "\r\n\r\n"...)
	if len(body) <= h1CopyBody || c.tls != nil {
		conn.head = append(conn.head, body...)
		_, err := conn.nc.Write(conn.head)
		if cap(conn.head) > 2*h1CopyBody {
			conn.head = nil // a TLS request's large body: not kept per connection
		}
		return err
	}
	vec := net.Buffers{conn.head, body}
	_, err := vec.WriteTo(conn.nc)
	return err
}

// h1Body frames a response body on its connection.
type h1Body struct {
	conn    *h1Conn
	length  int64     // bytes left with Content-Length; -1 otherwise
	chunked io.Reader // with Transfer-Encoding: chunked
	done    bool      // read to its end: the connection may carry another request
}

func (b *h1Body) Read(p []byte) (int, error) {
	switch {
	case b.done:
		return 0, io.EOF
	case b.chunked != nil:
		n, err := b.chunked.Read(p)
		if err == io.EOF {
			if terr := b.conn.skipTrailer(); terr == nil {
				b.done = true
			}
		}
		return n, err
	case b.length >= 0:
		if b.length == 0 {
			b.done = true
			return 0, io.EOF
		}
		if int64(len(p)) > b.length {
			p = p[:b.length]
		}
		n, err := b.conn.br.Read(p)
		b.length -= int64(n)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, err
	}
	return b.conn.br.Read(p) // until the server closes: never reused
}

// drain reads what is left of the body, within wait, so that the
// connection can be reused; false if it cannot.
func (b *h1Body) drain(by time.Time) bool {
	if b.done {
		return true
	}
	_ = b.conn.nc.SetReadDeadline(by)
	var scratch [512]byte
	for n := 0; n < 64<<10; {
		k, err := b.Read(scratch[:])
		n += k
		if err != nil {
			return err == io.EOF && b.done
		}
	}
	return false
}

// skipTrailer reads the trailer after the last chunk, up to the blank line.
func (conn *h1Conn) skipTrailer() error {
	for n := 0; n < h1MaxHeaderBytes; {
		line, err := conn.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		n += len(line)
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
	return errors.New("trailer too long")
}

// h1Response is a response head and its body.
type h1Response struct {
	status    int
	body      h1Body
	keepAlive bool
}

// readResponse reads the status line and headers, skipping 1xx
// informational responses as net/http does, with net/http's errors: a
// failure to read the first byte (the server closed the connection, or
// reset it) as it is, anything after that as a broken connection.
func (conn *h1Conn) readResponse(resp *h1Response) error {
	if _, err := conn.br.Peek(1); err != nil {
		return err
	}
	for {
		if err := conn.readHead(resp); err != nil {
			return fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err)
		}
		if resp.status >= 200 || resp.status == http.StatusSwitchingProtocols {
			return nil
		}
	}
}

func (conn *h1Conn) readHead(resp *h1Response) error {
	total := 0
	line, err := conn.line(&total)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	proto, status, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return fmt.Errorf("malformed HTTP response %q", line)
	}
	status = bytes.TrimLeft(status, " ")
	code, _, _ := bytes.Cut(status, []byte(" "))
	if len(code) != 3 {
		return fmt.Errorf("malformed HTTP status code %q", code)
	}
	if resp.status, err = strconv.Atoi(string(code)); err != nil || resp.status < 0 {
		return fmt.Errorf("malformed HTTP status code %q", code)
	}
	major, minor, ok := http.ParseHTTPVersion(string(proto))
	if !ok {
		return fmt.Errorf("malformed HTTP version %q", proto)
	}
	resp.keepAlive = major == 1 && minor >= 1 || major > 1
	resp.body = h1Body{conn: conn, length: -1}
	chunked, lengthSeen := false, false
	for {
		line, err := conn.line(&total)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // an obsolete folded continuation: none of ours
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("malformed MIME header line: %s", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (lengthSeen && n != resp.body.length) {
				return fmt.Errorf("bad Content-Length %q", value)
			}
			resp.body.length, lengthSeen = n, true
		case asciiEqualFold(name, "transfer-encoding"):
			if chunked || !asciiEqualFold(value, "chunked") {
				return fmt.Errorf("unsupported transfer encoding: %q", value)
			}
			chunked = true
		case asciiEqualFold(name, "connection"):
			for _, tok := range bytes.Split(value, []byte(",")) {
				if asciiEqualFold(bytes.TrimSpace(tok), "close") {
					resp.keepAlive = false
				}
			}
		}
	}
	switch {
	case resp.status == http.StatusNoContent || resp.status == http.StatusNotModified ||
		(resp.status >= 100 && resp.status < 200):
		resp.body.length = 0
	case chunked && resp.keepAlive: // chunked on HTTP/1.0 is ignored, as net/http does
		resp.body.chunked, resp.body.length = httputil.NewChunkedReader(conn.br), -1
	case chunked:
		resp.body.length = -1
	}
	if resp.body.length < 0 && resp.body.chunked == nil {
		resp.keepAlive = false // the body ends when the server closes
	}
	return nil
}

// line reads one header line without its line ending. A line longer than
// the read buffer is assembled in a copy.
func (conn *h1Conn) line(total *int) ([]byte, error) {
	line, err := conn.br.ReadSlice('\n')
	*total += len(line)
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull && *total <= h1MaxHeaderBytes {
			line, err = conn.br.ReadSlice('\n')
			*total += len(line)
			long = append(long, line...)
		}
		line = long
	}
	if *total > h1MaxHeaderBytes {
		return nil, fmt.Errorf("server response headers exceeded %d bytes; aborted", h1MaxHeaderBytes)
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// asciiEqualFold compares b with the lowercase ASCII s, ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
