package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Writer writes records as JSON lines. Each record goes out in a single
// Write of one complete line followed by a flush, so a reader tailing the
// output (tee -a, tail -f) or a crash never sees half a line, and at most the
// requests in flight are lost. Writer is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	err error
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	wr.enc = json.NewEncoder(&wr.buf)
	wr.enc.SetEscapeHTML(false)
	return wr
}

// Write encodes r as one line and flushes it. After the first write error
// every later call returns that error: a broken pipe stops the run's output
// rather than silently dropping lines in the middle.
func (w *Writer) Write(r *Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf.Reset()
	if err := w.enc.Encode(r); err != nil { // Encode appends the newline
		return fmt.Errorf("encode record %d: %w", r.Seq, err)
	}
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		w.err = err
		return err
	}
	if err := w.w.Flush(); err != nil {
		w.err = err
		return err
	}
	return nil
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
type Reader struct {
	br   *bufio.Reader
	name string
	line int
	rec  Record
	bad  *LineError
	err  error
	long []byte
}

// NewReader reads from r; name labels error messages (a file name or "-").
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 256<<10), name: name}
}

// Scan advances to the next non-blank line. It returns false at the end of
// input or on a read error (see Err).
func (r *Reader) Scan() bool {
	for {
		line, err := r.readLine()
		if err != nil && len(line) == 0 && !errors.Is(err, ErrLineTooLong) {
			if err != io.EOF {
				r.err = err
			}
			return false
		}
		r.line++
		if errors.Is(err, ErrLineTooLong) {
			r.bad = &LineError{File: r.name, Line: r.line, Err: fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, MaxLineBytes)}
			return true
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue // blank; a following EOF ends the scan on the next read
		}
		r.bad = nil
		if perr := r.parse(line); perr != nil {
			r.bad = &LineError{File: r.name, Line: r.line, Err: perr}
		}
		return true
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLineBytes is drained and reported with ErrLineTooLong.
func (r *Reader) readLine() ([]byte, error) {
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

func (r *Reader) parse(line []byte) error {
	r.rec = Record{}
	if line[0] != '{' {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(line, &r.rec); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	if r.rec.RunID == "" || r.rec.Schema == 0 {
		return errors.New("not a servebench record (no schema or run_id)")
	}
	return nil
}

// Record returns the record of the current line, or nil when the line was
// bad. It is valid until the next call to Scan.
func (r *Reader) Record() *Record {
	if r.bad != nil {
		return nil
	}
	return &r.rec
}

// BadLine returns the current line's problem, or nil when it was a record.
func (r *Reader) BadLine() *LineError { return r.bad }

// Line is the number of the current line (1-based).
func (r *Reader) Line() int { return r.line }

// Err returns the first read error other than io.EOF.
func (r *Reader) Err() error { return r.err }
