package load

import (
	"bytes"
	"io"
	"time"
	"unsafe"

	"servebench/internal/h1"
	"servebench/internal/openai"
)

// pusher is a Body the read loop can push (h1.Response on the loop).
type pusher interface {
	Push(s h1.Sink) bool
}

// A reader is the h1.Sink of a pushed stream: it parses the stream's
// events as the read loop receives its bytes, the plain events servers
// send, "data: ...\n\n", straight from the loop's buffer into the stream's
// account (streamRead.event). Anything else stops it, from the start of
// the line it could not take: a comment, an event: or error: line, CR line
// ends, data over several lines, a byte-order mark, a chunk that does not
// parse, the response's byte limit. The pull readers then read from that
// byte on, so every unusual stream is read by the same code, to the same
// record, as without the loop.
//
// pushed is what the push keeps between reads.
type pushed struct {
	carry []byte // an event not complete yet; once stopped, what is left
	end   bool   // the stream ended with an event: err is its failure, or nil
	err   error
	usage openai.Usage // the latest event's (openai.ParseEvent)
	// prefix: the bytes this stream's chunks begin with, scanned once.
	prefix openai.Prefix
	// The arrival of the bytes being parsed, as Body was given it: the
	// stream's clock asks the reader for it (Arrival) while it pushes.
	at    time.Time
	reads uint64
}

// maxCarry bounds an event kept while it arrives: a longer one is left to
// the pull readers (which assemble lines of any length).
const maxCarry = 16 << 10

// startPush readies rd for a push.
func (rd *reader) startPush() {
	rd.push = pushed{carry: rd.push.carry[:0]}
}

// Arrival is the arrival of the bytes being pushed (arrivals).
func (rd *reader) Arrival() (time.Time, uint64, bool) {
	return rd.push.at, rd.push.reads, !rd.push.at.IsZero()
}

// Body takes body bytes (h1.Sink); false stops the push.
func (rd *reader) Body(b []byte, at, now time.Time, reads uint64) bool {
	p, lb := &rd.push, &rd.body
	p.at, p.reads = at, reads
	if lb.n+int64(len(p.carry)+len(b)) > lb.max { // the pull readers fail it, at the same byte
		p.carry = append(p.carry, b...)
		return false
	}
	if len(p.carry) > 0 {
		p.carry = append(p.carry, b...)
		b = p.carry
	}
	i := 0
	for i < len(b) {
		n, data := plainEvent(b[i:])
		if n < 0 {
			return p.keep(b[i:], false)
		}
		if n == 0 {
			if len(b)-i > maxCarry {
				return p.keep(b[i:], false)
			}
			return p.keep(b[i:], true)
		}
		if n == 1 { // a blank line
			lb.took(b[i : i+n])
			i += n
			continue
		}
		ev, err := openai.ParseEvent(data, &p.usage, &p.prefix)
		if err != nil { // the pull readers fail it, in their words
			return p.keep(b[i:], false)
		}
		lb.took(b[i : i+n])
		i += n
		if end, err := rd.stream.event(&ev, now); end {
			p.end, p.err = true, err
			return p.keep(b[i:], false)
		}
	}
	p.carry = p.carry[:0]
	return true
}

// Warm touches the stream's state (h1.Sink): the loop warms the sinks of
// its ready sockets together, before it feeds them one by one, so that
// their misses of cache overlap. That is the pooled reader up to the
// bytes kept for messages (all a pushed token uses of it), the record's
// ITL slice and the end of its array, where the token's gap goes.
func (rd *reader) Warm() {
	sum := h1.Touch(unsafe.Pointer(rd), readerHot)
	if itl := rd.stream.rec.ITLMs; len(itl) > 0 {
		sum += uintptr(itl[len(itl)-1])
	}
	if lags := rd.lags; len(lags) > 0 {
		sum += uintptr(lags[len(lags)-1])
	}
	warmed += sum
}

// readerHot is how much of a reader Warm touches: up to the bytes kept
// for messages.
const readerHot = unsafe.Offsetof(reader{}.body) + unsafe.Offsetof(reader{}.body.first)

// warmed keeps Warm's loads from being dropped as unused.
var warmed uintptr

// keep keeps rest (which may lie in carry itself) and returns more.
func (p *pushed) keep(rest []byte, more bool) bool {
	p.carry = append(p.carry[:0], rest...)
	return more
}

var dataPrefix = []byte("data:")

// plainEvent reads one plain event from the start of b: "data:", an
// optional space, the data, LF, LF. n is its length and data its data,
// trimmed (as the stream reader trims it); a blank line (LF) is n 1 (no
// event is shorter); n 0 when b ends before the event does; n -1 for anything else.
func plainEvent(b []byte) (n int, data []byte) {
	if b[0] == '\n' {
		return 1, nil
	}
	if !bytes.HasPrefix(b, dataPrefix) {
		if len(b) < len(dataPrefix) && bytes.HasPrefix(dataPrefix, b) {
			return 0, nil
		}
		return -1, nil
	}
	lf := bytes.IndexByte(b, '\n')
	if lf < 0 {
		if bytes.IndexByte(b, '\r') >= 0 {
			return -1, nil
		}
		return 0, nil
	}
	line := b[:lf]
	switch {
	case bytes.IndexByte(line, '\r') >= 0:
		return -1, nil
	case lf+1 == len(b):
		return 0, nil // the blank line that ends it is still to come
	case b[lf+1] != '\n':
		return -1, nil // another line of the same event
	}
	value := bytes.TrimPrefix(line[len(dataPrefix):], []byte(" "))
	return lf + 2, bytes.TrimSpace(value)
}

// resumePull makes the pull readers go on where the push stopped: the
// bytes it kept, then the rest of the body.
func (rd *reader) resumePull() {
	resp := rd.body.r
	if len(rd.push.carry) > 0 {
		rd.body.r = io.MultiReader(bytes.NewReader(rd.push.carry), resp)
	}
	if rd.body.n == 0 {
		rd.sr.Reset(&rd.body) // nothing was taken: a byte-order mark may still come
		return
	}
	rd.sr.Resume(&rd.body)
}

// took counts bytes read, or parsed by the push: the size so far, and the
// first bytes.
func (l *limitedBody) took(b []byte) {
	if l.nfirst < len(l.first) {
		l.nfirst += copy(l.first[l.nfirst:], b)
	}
	l.n += int64(len(b))
}
