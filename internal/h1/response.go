package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
	"time"
)

// Response is a response whose head was read; its body is read from it.
type Response struct {
	Status           int
	body             body
	keepAlive        bool
	location         string // the Location of a 3xx answer
	conn             *conn
	deadline, readBy time.Time // the request's; readBy: the first-token deadline
}

// Read reads the body.
func (r *Response) Read(p []byte) (int, error) { return r.body.Read(p) }

// Arrival is when the bytes of the connection's latest read reached the
// machine, the kernel's receive time on the monotonic clock, and how many
// reads have returned data on the connection: a body read that needed no
// new read (its bytes were buffered) leaves both as they were. ok is false
// without kernel times (Config.KernelTimes off, not Linux, or none given).
func (r *Response) Arrival() (at time.Time, reads uint64, ok bool) { return arrival(r.conn.under) }

// Location is the Location header of a redirect (3xx), else "".
func (r *Response) Location() string { return r.location }

// FirstContent lifts the first-token deadline: the rest of the response
// has until the request's deadline.
func (r *Response) FirstContent() {
	if !r.readBy.Before(r.deadline) {
		return
	}
	r.readBy = r.deadline
	nc := r.conn.nc
	_ = nc.SetReadDeadline(r.deadline)
	if r.conn.client.run.Err() != nil { // the run ended meanwhile: keep its past deadline
		_ = nc.SetDeadline(pastDeadline)
	}
}

// Close ends the exchange. The connection carries another request when the
// response was read to its end and the server allows it; with drain (a
// stream's [DONE] came, its last chunk may follow), when the rest of the
// body comes within drainWait (and the request's deadline). A server
// writes that last chunk when its handler returns, a moment after [DONE]
// (vLLM's, through uvicorn, as llmsim's), so it is often not there yet when
// a fast client has read [DONE]: closing the connection then would cost
// the next request a new one, its handshake in that request's TTFT and
// CPU on both sides, for most requests of a busy closed loop. A server
// that sends nothing more within drainWait loses the connection, as
// net/http closes one whose body was not read to its end. The records are
// complete before Close: the wait is in no metric.
func (r *Response) Close(drain bool) {
	conn := r.conn
	if r.keepAlive && (r.body.done || drain && r.body.drain(r.drainBy())) {
		conn.client.put(conn)
		return
	}
	conn.close()
}

// drainWait is how long Close waits for the rest of a drained body.
const drainWait = 20 * time.Millisecond

// drainBy is the deadline of Close's wait: drainWait from now, within the
// request's deadline; none once the run ended.
func (r *Response) drainBy() time.Time {
	if r.conn.client.run.Err() != nil {
		return pastDeadline
	}
	by := time.Now().Add(drainWait)
	if r.deadline.Before(by) {
		return r.deadline
	}
	return by
}

// body frames a response body on its connection.
type body struct {
	conn    *conn
	length  int64     // bytes left with Content-Length; -1 otherwise
	chunked io.Reader // with Transfer-Encoding: chunked
	done    bool      // read to its end: the connection may carry another request
	started bool      // read from, or pushed: Push comes first or not at all
}

func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.done:
		return 0, io.EOF
	case b.chunked != nil:
		b.started = true
		n, err := b.chunked.Read(p)
		if err == io.EOF {
			switch terr := b.conn.skipTrailer(); terr {
			case nil:
				b.done = true
			case io.EOF:
				return n, errTrailerEOF
			default:
				return n, terr
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

// drain reads what is left of the body, waiting for it until by. It
// reports whether the body ended; if not, the connection is of no more use
// (a read failed, or there was more than 64 KiB).
func (b *body) drain(by time.Time) bool {
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

// upcomingDoubleCRLF tells whether a CRLF CRLF ends the trailer within
// net/http's buffer size, peeking one byte more at a time as net/http does
// (a trailer is rare; this is not the hot path).
func upcomingDoubleCRLF(br *bufio.Reader) bool {
	for size := 4; size <= 4096; size++ {
		buf, err := br.Peek(size)
		if bytes.HasSuffix(buf, []byte("\r\n\r\n")) {
			return true
		}
		if err != nil {
			break
		}
	}
	return false
}

// errTrailerEOF is net/http's error for a body cut in its trailer.
var errTrailerEOF = errors.New("http: unexpected EOF reading trailer")

// skipTrailer reads the trailer after the last chunk, up to the blank line.
func (conn *conn) skipTrailer() error {
	switch buf, _ := conn.br.Peek(2); {
	case string(buf) == "\r\n": // no trailer: the common case
		_, _ = conn.br.Discard(2)
		return nil
	case len(buf) < 2: // as net/http, which peeks at two bytes first
		return io.EOF
	case !upcomingDoubleCRLF(conn.br):
		return errors.New("http: suspiciously long trailer after chunked body")
	}
	for n, first := 0, true; n < maxHeaderBytes; first = false {
		line, err := conn.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		n += len(line)
		line = trimEOL(line)
		if len(line) == 0 {
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if first { // nothing to continue: textproto refuses it
				return fmt.Errorf("malformed MIME header initial line: %q", line)
			}
			continue // an obsolete continuation, folded into the line before
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("malformed MIME header: missing colon: %q", line)
		}
		if !validHeader(name, value) {
			return fmt.Errorf("malformed MIME header line: %q", line)
		}
	}
	return errors.New("trailer too long")
}

// readResponse reads the status line and headers, skipping 1xx
// informational responses (100 Continue, 103 Early Hints) as net/http
// does, with net/http's errors: a failure to read the first byte (the
// server closed the connection, or reset it) as it is, anything after
// that as a broken connection. An unrequested 101 Switching Protocols is
// final: the exchange ends there and the connection is not reused.
func (conn *conn) readResponse(resp *Response) error {
	if _, err := conn.br.Peek(1); err != nil {
		return err
	}
	conn.answered = true
	for n1xx := 0; ; n1xx++ {
		if n1xx > max1xx {
			return errors.New("net/http: too many 1xx informational responses")
		}
		if err := conn.readHead(resp); err != nil {
			return fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err)
		}
		if resp.Status >= 200 || resp.Status == http.StatusSwitchingProtocols {
			return nil
		}
	}
}

// max1xx is how many informational answers may precede the final one, as
// with net/http.
const max1xx = 5

func (conn *conn) readHead(resp *Response) error {
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
	if resp.Status, err = strconv.Atoi(string(code)); err != nil || resp.Status < 0 {
		return fmt.Errorf("malformed HTTP status code %q", code)
	}
	major, minor, ok := http.ParseHTTPVersion(string(proto))
	if !ok {
		return fmt.Errorf("malformed HTTP version %q", proto)
	}
	http11 := major == 1 && minor >= 1 || major > 1
	resp.keepAlive = http11
	// net/http frames an "HTTP/0.0" answer as HTTP/1.1 (its Transfer-Encoding
	// counts) but does not keep the connection (shouldClose: major < 1):
	// the same here (FuzzReadResponse found the difference).
	http11 = http11 || major == 0 && minor == 0
	resp.location = ""
	resp.body = body{conn: conn, length: -1}
	chunked, lengthSeen, first := false, false, true
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
			if first {
				return fmt.Errorf("malformed MIME header initial line: %q", line)
			}
			continue // an obsolete folded continuation: none of ours
		}
		first = false
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("malformed MIME header: missing colon: %q", line)
		}
		if !validHeader(name, value) {
			return fmt.Errorf("malformed MIME header line: %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if lengthSeen && (err != nil || n != resp.body.length) { // net/http's words
				return fmt.Errorf("http: message cannot contain multiple Content-Length headers; got %q",
					[]string{strconv.FormatInt(resp.body.length, 10), string(value)})
			}
			if err != nil || n < 0 {
				return fmt.Errorf("bad Content-Length %q", value)
			}
			resp.body.length, lengthSeen = n, true
		case asciiEqualFold(name, "transfer-encoding") && http11: // ignored before HTTP/1.1, as net/http does
			if chunked || !asciiEqualFold(value, "chunked") {
				return fmt.Errorf("unsupported transfer encoding: %q", value)
			}
			chunked = true
		case resp.Status >= 300 && resp.Status < 400 && asciiEqualFold(name, "location"):
			resp.location = string(value) // allocates, on redirects only
		case asciiEqualFold(name, "connection"):
			for _, tok := range bytes.Split(value, []byte(",")) {
				if asciiEqualFold(bytes.TrimSpace(tok), "close") {
					resp.keepAlive = false
				}
			}
		}
	}
	// RFC 9112 6.3: chunked framing wins over Content-Length, whatever
	// Connection says; on HTTP/1.0 Transfer-Encoding is ignored, as
	// net/http does.
	switch {
	case resp.Status == http.StatusSwitchingProtocols:
		resp.body.length, resp.keepAlive = 0, false // the bytes that follow are not HTTP
	case resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified ||
		(resp.Status >= 100 && resp.Status < 200):
		resp.body.length = 0
	case chunked:
		resp.body.chunked, resp.body.length = httputil.NewChunkedReader(conn.br), -1
	}
	if resp.body.length < 0 && resp.body.chunked == nil {
		resp.keepAlive = false // the body ends when the server closes
	}
	return nil
}

// line reads one header line without its line ending. A line longer than
// the read buffer is assembled in a copy.
func (conn *conn) line(total *int) ([]byte, error) {
	line, err := conn.br.ReadSlice('\n')
	*total += len(line)
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull && *total <= maxHeaderBytes {
			line, err = conn.br.ReadSlice('\n')
			*total += len(line)
			long = append(long, line...)
		}
		line = long
	}
	if *total > maxHeaderBytes {
		return nil, fmt.Errorf("server response headers exceeded %d bytes; aborted", maxHeaderBytes)
	}
	if err != nil {
		return nil, err
	}
	return trimEOL(line), nil
}

// trimEOL drops a line's LF and the one CR before it, as net/http does.
func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// validHeader checks a header line's name and value as net/http does
// (textproto): a token, then visible ASCII, spaces, tabs and obs-text.
func validHeader(name, value []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c >= 0x80 || !tokenByte[c] && c != ' ' { // net/http takes "Name :", as a name of its own
			return false
		}
	}
	for _, c := range value {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// tokenByte marks the bytes of an RFC 9110 token.
var tokenByte = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

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
