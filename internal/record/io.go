package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Writer writes records as JSON lines, safe for concurrent use. A line
// only ever goes out whole, in a write call of whole lines.
//
// By default a Write returns once its line is written, or handed to the
// Write call that is writing at that moment, which writes it before
// returning (group commit): a lone writer never waits, and lines that
// arrive during a write call share the next one.
//
// With SetFlushInterval(d), lines are gathered and written at most d after
// their Write (or as soon as 64 KiB are waiting), so that a busy run makes
// one write call per interval instead of one per record; Flush writes
// what is left, and must be called before the output is abandoned. A crash
// then loses at most the requests in flight and the last interval's lines.
//
// When the output is slow, callers wait once maxPendingBytes are gathered,
// so memory stays bounded and the output's pace holds the run back.
type Writer struct {
	mu       sync.Mutex
	cond     sync.Cond // signalled after every write call
	w        io.Writer
	pending  []byte // whole lines waiting to be written
	spare    []byte // the other buffer, swapped with pending
	writing  bool   // a caller is writing pending out
	err      error
	interval time.Duration
	timer    *time.Timer
	timerSet bool

	buf bytes.Buffer // encoding/json's output, for records AppendJSON declines
	enc *json.Encoder
}

const (
	// maxPendingBytes bounds the lines gathered while a write is in progress.
	maxPendingBytes = 1 << 20
	// flushBytes: with a flush interval, this much waiting is written at once.
	flushBytes = 64 << 10
)

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: w}
	wr.cond.L = &wr.mu
	wr.enc = json.NewEncoder(&wr.buf)
	wr.enc.SetEscapeHTML(false)
	return wr
}

// SetFlushInterval makes lines wait up to d to be written together with
// others; 0 writes each at once. See Writer.
func (w *Writer) SetFlushInterval(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.interval = d
}

// Write encodes r as one line and writes it out (see Writer). After the
// first write error every later call returns that error: a broken pipe
// stops the run's output rather than silently dropping lines in the middle.
func (w *Writer) Write(r *Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.err == nil && w.writing && len(w.pending) >= maxPendingBytes {
		w.cond.Wait()
	}
	if w.err != nil {
		return w.err
	}
	var ok bool
	if w.pending, ok = AppendJSON(w.pending, r); ok {
		w.pending = append(w.pending, '\n')
	} else {
		w.buf.Reset()
		if err := w.enc.Encode(r); err != nil { // Encode appends the newline
			return fmt.Errorf("encode record %d: %w", r.Seq, err)
		}
		w.pending = append(w.pending, w.buf.Bytes()...)
	}
	if w.interval > 0 && len(w.pending) < flushBytes {
		if !w.timerSet {
			w.timerSet = true
			if w.timer == nil {
				w.timer = time.AfterFunc(w.interval, w.flushLater)
			} else {
				w.timer.Reset(w.interval)
			}
		}
		return nil
	}
	if w.writing {
		return nil // the caller writing now takes this line too
	}
	return w.writeOut()
}

// flushLater is the flush interval's timer.
func (w *Writer) flushLater() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timerSet = false
	if !w.writing {
		_ = w.writeOut() // the error is kept for the next Write or Flush
	}
}

// Flush writes every line gathered so far and returns the first write
// error, if any.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.writing {
		w.cond.Wait()
	}
	if w.timerSet {
		w.timer.Stop()
		w.timerSet = false
	}
	if w.err != nil {
		return w.err
	}
	return w.writeOut()
}

// writeOut writes what is pending, and what is added meanwhile, with w.mu
// held (released during each write call) and nobody else writing.
func (w *Writer) writeOut() error {
	w.writing = true
	for len(w.pending) > 0 && w.err == nil {
		out := w.pending
		w.pending = w.spare[:0]
		w.mu.Unlock()
		_, err := w.w.Write(out)
		w.mu.Lock()
		w.spare = out[:0]
		if err != nil {
			w.err = err
		}
		w.cond.Broadcast()
	}
	w.writing = false
	w.cond.Broadcast()
	return w.err
}

// MaxLineBytes bounds one input line. A longer line is reported as bad and
// skipped without holding it in memory.
const MaxLineBytes = 16 << 20

// LineError is a line that could not be read as a record. It is a value in
// the stream, not a fatal error: the reader goes on with the next line.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ErrLineTooLong marks a line longer than MaxLineBytes.
var ErrLineTooLong = errors.New("line too long")

// Reader reads JSON lines of records, in the manner of bufio.Scanner:
//
//	for r.Scan() {
//		if bad := r.BadLine(); bad != nil { report(bad); continue }
//		use(r.Record())
//	}
//	if err := r.Err(); err != nil { ... }
//
// Blank lines are skipped. A line that is not a record (not JSON, truncated,
// no run_id) comes back as BadLine with its number, so one bad line never
// costs the good ones around it.
//
// Lines are read ahead in batches by a goroutine of the Reader's own and
// decoded by up to readerDecoders more, a batch each, while the caller
// takes the batches in input order: decoding is most of the cost of
// reading records, and this way it runs on other cores than whatever the
// caller does with them. The goroutines start at the first Scan and end at
// the end of the input, or when the Reader is garbage collected.
type Reader struct {
	src     *lineSplitter
	started bool
	ordered chan *batch // every batch filled, in input order
	free    chan *batch
	done    chan struct{}
	cur     *batch
	pos     int
	it      *item
	err     error
}

// batch is a run of lines and, once ready has a value, their records; err
// ends the input after them.
type batch struct {
	items []item
	text  []byte // the lines of items, end to end
	err   error
	ready chan struct{}
}

// item is one non-blank line: its record, or why it is not one.
type item struct {
	rec        Record
	bad        *LineError
	line       int
	start, end int // the line in batch.text
}

// Batches in flight between the reading goroutine, the decoders and Scan;
// lines and bytes per batch (a batch ends at whichever comes first); and
// decoding goroutines: enough to keep every side busy, little enough to
// stay small.
const (
	readerBatches   = 8
	readerBatchSize = 256
	readerBatchText = 256 << 10
	readerDecoders  = 4
)

// NewReader reads from r; name labels error messages (a file name or "-").
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{src: &lineSplitter{br: bufio.NewReaderSize(r, 256<<10), name: name}}
}

// Scan advances to the next non-blank line. It returns false at the end of
// input or on a read error (see Err).
func (r *Reader) Scan() bool {
	if !r.started {
		r.start()
	}
	for {
		if r.cur != nil && r.pos < len(r.cur.items) {
			r.it = &r.cur.items[r.pos]
			r.pos++
			return true
		}
		if r.cur != nil {
			if r.cur.err != nil {
				r.err = r.cur.err
			}
			r.free <- r.cur // never blocks: there are readerBatches places
			r.cur = nil
		}
		b, ok := <-r.ordered
		if !ok {
			return false
		}
		<-b.ready
		r.cur, r.pos = b, 0
	}
}

// start launches the reading and decoding goroutines. They hold no
// reference to r, so that a Reader abandoned before the end of its input
// can be collected, and its cleanup then stops them.
func (r *Reader) start() {
	r.started = true
	r.ordered = make(chan *batch, readerBatches)
	r.free = make(chan *batch, readerBatches)
	r.done = make(chan struct{})
	work := make(chan *batch, readerBatches)
	for range readerBatches {
		r.free <- &batch{ready: make(chan struct{}, 1)}
	}
	runtime.AddCleanup(r, func(done chan struct{}) { close(done) }, r.done)
	go r.src.run(r.ordered, work, r.free, r.done)
	for range max(1, min(runtime.GOMAXPROCS(0), readerDecoders)) {
		go decodeBatches(r.src.name, work)
	}
}

// run fills batches with lines until the end of the input or done, and
// hands each to the decoders (work) and, in order, to Scan (ordered).
func (r *lineSplitter) run(ordered, work chan<- *batch, free <-chan *batch, done <-chan struct{}) {
	defer close(work)
	defer close(ordered)
	for {
		var b *batch
		select {
		case b = <-free:
		case <-done:
			return
		}
		if cap(b.text) > 4*readerBatchText {
			b.text = nil // after a very long line
		}
		b.items, b.text, b.err = b.items[:0], b.text[:0], nil
		more := true
		for more && len(b.items) < readerBatchSize && len(b.text) < readerBatchText {
			b.items = slices.Grow(b.items, 1)[:len(b.items)+1] // a short input needs few
			if more, b.err = r.next(b, &b.items[len(b.items)-1]); !more {
				b.items = b.items[:len(b.items)-1]
			}
		}
		ordered <- b // neither blocks: each has a place for every batch
		work <- b
		if !more {
			return
		}
	}
}

// decodeBatches decodes the lines of each batch from work, then marks it
// ready.
func decodeBatches(name string, work <-chan *batch) {
	var dec decoder
	for b := range work {
		for i := range b.items {
			it := &b.items[i]
			if it.bad != nil {
				continue
			}
			if err := parse(&dec, b.text[it.start:it.end], &it.rec); err != nil {
				it.bad = &LineError{File: name, Line: it.line, Err: err}
			}
		}
		b.ready <- struct{}{}
	}
}

// Record returns the record of the current line, or nil when the line was
// bad. It is valid until the next call to Scan.
func (r *Reader) Record() *Record {
	if r.it == nil || r.it.bad != nil {
		return nil
	}
	return &r.it.rec
}

// BadLine returns the current line's problem, or nil when it was a record.
func (r *Reader) BadLine() *LineError {
	if r.it == nil {
		return nil
	}
	return r.it.bad
}

// Text is the current line as read (blank space trimmed; empty for a line
// over MaxLineBytes), valid until the next Scan: a reader that meets lines
// of other kinds beside records (server-metrics samples carry a "kind")
// takes them from here when BadLine says they are not records.
func (r *Reader) Text() []byte {
	if r.it == nil || r.cur == nil {
		return nil
	}
	return r.cur.text[r.it.start:r.it.end]
}

// Line is the number of the current line (1-based).
func (r *Reader) Line() int {
	if r.it == nil {
		return 0
	}
	return r.it.line
}

// Err returns the first read error other than io.EOF.
func (r *Reader) Err() error { return r.err }

// lineSplitter splits the input into lines, on the Reader's reading
// goroutine.
type lineSplitter struct {
	br   *bufio.Reader
	name string
	line int
	long []byte
}

// next reads the next non-blank line into b as it; more is false at the
// end of the input, with err set if it ended on a read error other than
// io.EOF.
func (r *lineSplitter) next(b *batch, it *item) (more bool, err error) {
	for {
		line, err := r.readLine()
		if err != nil && len(line) == 0 && !errors.Is(err, ErrLineTooLong) {
			if err != io.EOF {
				return false, err
			}
			return false, nil
		}
		r.line++
		it.line, it.bad, it.start, it.end = r.line, nil, len(b.text), len(b.text)
		if errors.Is(err, ErrLineTooLong) {
			it.bad = &LineError{File: r.name, Line: r.line, Err: fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, MaxLineBytes)}
			return true, nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue // blank; a following EOF ends the scan on the next read
		}
		b.text = append(b.text, line...)
		it.end = len(b.text)
		return true, nil
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLineBytes is drained and reported with ErrLineTooLong.
func (r *lineSplitter) readLine() ([]byte, error) {
	r.long = r.long[:0]
	for {
		frag, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(r.long)+len(frag) > MaxLineBytes {
				r.long = r.long[:0]
				for err == bufio.ErrBufferFull { // drain the rest of the line
					_, err = r.br.ReadSlice('\n')
				}
				return nil, ErrLineTooLong
			}
			r.long = append(r.long, frag...)
			continue
		}
		if len(r.long) > 0 {
			if len(r.long)+len(frag) > MaxLineBytes+1 { // +1: the newline
				r.long = r.long[:0]
				return nil, ErrLineTooLong
			}
			r.long = append(r.long, frag...)
			frag = r.long
		}
		if err == nil {
			frag = frag[:len(frag)-1]
		}
		return frag, err
	}
}

// parse decodes line into rec with dec, or says why it is not a record.
func parse(dec *decoder, line []byte, rec *Record) error {
	*rec = Record{}
	if line[0] != '{' {
		return errors.New("not a JSON object")
	}
	if !dec.decode(line, rec) { // a line the fast decoder leaves to encoding/json
		*rec = Record{}
		if err := json.Unmarshal(line, rec); err != nil {
			return fmt.Errorf("bad JSON: %w", err)
		}
	}
	if rec.RunID == "" || rec.Schema == 0 {
		return errors.New("not a servebench record (no schema or run_id)")
	}
	return nil
}
