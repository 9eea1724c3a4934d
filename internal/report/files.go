package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"servebench/internal/summary"
)

// AppendCSV appends one row per group to the CSV file at path, writing the
// header first only when the file is new or empty. When the file starts with
// a different header (other percentiles, an older column set) it fails with
// a *HeaderError and writes nothing: mixing column sets would corrupt the
// spreadsheet.
//
// All rows go out in a single write on a file opened with O_APPEND, so the
// rows of concurrent appenders do not interleave; where the platform has
// flock, an exclusive lock also keeps two new-file appenders from both
// writing a header.
func AppendCSV(path string, rep *summary.Report) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := lockFile(f); err != nil { // released by Close
		return fmt.Errorf("lock %s: %w", path, err)
	}

	want := Header(rep.Percentiles)
	have, err := fileHeader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if have != nil {
		if err := sameHeader(have, want); err != nil {
			return &HeaderError{Path: path, Err: err, Missing: missingColumns(have)}
		}
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep, have == nil); err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("append %s: %w", path, err)
	}
	return f.Close()
}

// fileHeader returns the header row of f, nil for an empty file. It refuses a
// file whose last line is unfinished: appending would glue a row onto it.
func fileHeader(f *os.File) ([]string, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := info.Size()
	if size == 0 {
		return nil, nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return nil, err
	}
	if last[0] != '\n' {
		return nil, errors.New("not appending: the file does not end with a newline (an unfinished row?)")
	}
	r := csv.NewReader(io.NewSectionReader(f, 0, size))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("not appending: cannot read its CSV header: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a BOM a spreadsheet may add
	}
	return header, nil
}

// sameHeader explains the first difference between the file's header and ours.
func sameHeader(have, want []string) error {
	if slices.Equal(have, want) {
		return nil
	}
	for i := range min(len(have), len(want)) {
		if have[i] != want[i] {
			return fmt.Errorf("its header differs from the current columns: column %d is %q in the file, %q now", i+1, have[i], want[i])
		}
	}
	return fmt.Errorf("its header differs from the current columns: the file has %d columns, now %d", len(have), len(want))
}

// HeaderError is AppendCSV's refusal of a file whose header is not the
// current one, so that the program can say what to do about it.
type HeaderError struct {
	Path string
	Err  error // the first difference between the headers
	// Missing are the columns every header has now (all but the
	// percentiles') that the file lacks, such as the goodput columns (slo,
	// goodput_req_per_s, slo_met_ratio) added after the first release: an
	// older summarize wrote it. Empty when only the percentiles differ.
	Missing []string
}

func (e *HeaderError) Error() string { return e.Path + ": not appending: " + e.Err.Error() }
func (e *HeaderError) Unwrap() error { return e.Err }

// missingColumns lists the columns of Header(nil) that have lacks.
func missingColumns(have []string) []string {
	var missing []string
	for _, col := range Header(nil) {
		if !slices.Contains(have, col) {
			missing = append(missing, col)
		}
	}
	return missing
}

// AppendLog appends block to the log file at path in a single O_APPEND write.
func AppendLog(path string, block []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(block); err != nil {
		f.Close()
		return fmt.Errorf("append %s: %w", path, err)
	}
	return f.Close()
}
