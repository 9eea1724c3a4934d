package h1

import (
	"bufio"
	"errors"
	"io"
	"net/http/httputil"
	"time"
	"unsafe"
)

// Sink takes a chunked response body's bytes as the read loop receives
// them (Response.Push): the stream's parser run by the loop itself, on the
// loop's own receive buffer, rather than a coroutine pulling the bytes up
// through a stack of readers. Per token that touches a few cache lines of
// the stream's state instead of its coroutine's stack and four readers
// (docs/perf.md, "Pushed streams").
//
// Body is given each run of body bytes, the chunk framing taken off, valid
// during the call only, with what Response.Arrival would say of them: the
// kernel's receive time of the read that brought them (zero without
// kernel times) and the connection's count of reads, and when the loop
// handled them (now: the clock read for this read or up to
// feedClockReads reads before, in the same pass). It returns false to stop, having kept what it did not use: the rest of the
// body is then read from the Response, as if nothing had been pushed. It
// runs on the loop's goroutine: it must not block.
//
// Warm touches the state Body will use: the loop warms the sinks of a
// wait's ready sockets together before it feeds any, so that their misses
// of cache overlap.
type Sink interface {
	Body(p []byte, at, now time.Time, reads uint64) bool
	Warm()
}

// Touch reads a byte of every cache line of the n bytes at p, for them to
// be fetched together, ahead of their use (a Sink's Warm, the loop's own
// warming): its sum is to be kept, or the loads could be dropped.
func Touch(p unsafe.Pointer, n uintptr) uintptr {
	var sum uintptr
	for off := uintptr(0); off < n; off += 64 {
		sum += uintptr(*(*byte)(unsafe.Add(p, off)))
	}
	return sum
}

// Push hands the body to s as the loop reads it, until s stops, the
// connection fails or ends, a deadline passes, or the framing is anything
// but plain chunks (a size with an extension, the last chunk, a line cut
// by the end of a read): the pull readers then go on from the same byte,
// so every unusual case is read by the same code as before, word for word.
// Push reports false, having done nothing, when the response cannot be
// pushed: not read by a Loop, not chunked, or already read from.
func (r *Response) Push(s Sink) bool {
	b := &r.body
	if b.chunked == nil || b.started || !pushable(r.conn.nc) {
		return false
	}
	b.started = true
	d := decoder(r.conn.nc)
	*d = chunks{}
	br := r.conn.br
	more := true
	if k := br.Buffered(); k > 0 { // body bytes read with the head
		buf, _ := br.Peek(k)
		at, reads, _ := r.Arrival()
		var took int
		took, more = d.feed(buf, s, at, time.Now(), reads)
		_, _ = br.Discard(took)
	}
	if more {
		pushLoop(r.conn.nc, s)
	}
	b.chunked = d.rest(br)
	return true
}

// chunks decodes chunked framing as it is pushed: the plain case only,
// "HEX\r\n" then the data then "\r\n", and stops at anything else for
// net/http's chunked reader to read (rest).
type chunks struct {
	n    int64 // data bytes left in the current chunk
	crlf bool  // the chunk's data was read: its CRLF comes next
}

// feed decodes p, handing the data to s. It returns how many bytes of p
// it took and whether to go on: false when s stopped, or when p holds what
// the pull reader must read.
func (d *chunks) feed(p []byte, s Sink, at, now time.Time, reads uint64) (int, bool) {
	i := 0
	for i < len(p) {
		switch {
		case d.n > 0:
			k := int(min(int64(len(p)-i), d.n))
			data := p[i : i+k]
			i += k
			d.n -= int64(k)
			d.crlf = d.n == 0
			if !s.Body(data, at, now, reads) {
				return i, false
			}
		case d.crlf:
			if len(p)-i < 2 || p[i] != '\r' || p[i+1] != '\n' {
				return i, false
			}
			i += 2
			d.crlf = false
		default:
			n, k := sizeLine(p[i:])
			if k == 0 {
				return i, false
			}
			d.n = n
			i += k
		}
	}
	return i, true
}

// sizeLine reads a plain chunk-size line, 1 to 8 hex digits and CRLF, of
// a chunk that is not the last: its size and length, or 0, 0. Within these
// bounds net/http's reader counts no "non-data" excess (a size line of at
// most 10 bytes, data of at least 1), so a reader started after them reads
// as the one that would have read them.
func sizeLine(p []byte) (int64, int) {
	var n int64
	for i, c := range p {
		switch {
		case c == '\r':
			if i > 0 && n > 0 && i+1 < len(p) && p[i+1] == '\n' {
				return n, i + 2
			}
			return 0, 0
		case i == 8:
			return 0, 0
		case '0' <= c && c <= '9':
			n = n<<4 | int64(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return 0, 0
}

// rest is the reader of what follows where d stopped: net/http's chunked
// reader, after the rest of the current chunk when d stopped inside one.
func (d *chunks) rest(br *bufio.Reader) io.Reader {
	next := httputil.NewChunkedReader(br)
	if d.n == 0 && !d.crlf {
		return next
	}
	return &chunkTail{br: br, n: d.n, crlf: d.crlf, next: next}
}

// chunkTail reads the rest of a chunk Push stopped in, as net/http's
// chunked reader reads a chunk's data and its CRLF, then the chunks after.
type chunkTail struct {
	br   *bufio.Reader
	n    int64
	crlf bool
	err  error
	next io.Reader
}

var errMalformedChunk = errors.New("malformed chunked encoding") // net/http's words

func (c *chunkTail) Read(p []byte) (int, error) {
	switch {
	case c.err != nil:
		return 0, c.err
	case c.n > 0:
		if int64(len(p)) > c.n {
			p = p[:c.n]
		}
		k, err := c.br.Read(p)
		c.n -= int64(k)
		c.crlf = c.n == 0
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		c.err = err
		return k, err
	case c.crlf:
		var end [2]byte
		if _, err := io.ReadFull(c.br, end[:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.err = err
			return 0, err
		}
		if end != [2]byte{'\r', '\n'} {
			c.err = errMalformedChunk
			return 0, c.err
		}
		c.crlf = false
	}
	return c.next.Read(p)
}
