package main

import (
	"fmt"
	"io"
	"os"

	"servebench/internal/cmdline"
	"servebench/internal/record"
	"servebench/internal/servermetrics"
	"servebench/internal/summary"
)

// maxBadLineMessages caps the bad-line messages on stderr; the rest are
// counted in one line.
const maxBadLineMessages = 20

// input is a report in the making: the counts of what was read, and the
// groups folded so far.
type input struct {
	summary.Report
	agg          *summary.Aggregator
	failures     failureMessages // for --html
	schemaWarned bool
	// server are the genload --server-metrics samples read beside the
	// records (lines of kind server_metrics): not records, not bad lines.
	server []servermetrics.Line
	slicer *summary.Slicer // with --slice: what the slices need of each record
}

// read aggregates every input in order (none, or "-", is stdin) and
// reports bad lines on stderr, the first maxBadLineMessages of them in
// full: a bad line is data about the input, not a reason to stop.
func read(stderr io.Writer, stdin io.Reader, files []string, opts ...summary.Option) (*input, error) {
	return readSliced(stderr, stdin, files, nil, opts...)
}

// readSliced is read that also keeps what time slices need (slicer; nil
// for none).
func readSliced(stderr io.Writer, stdin io.Reader, files []string, slicer *summary.Slicer, opts ...summary.Option) (*input, error) {
	in := &input{agg: summary.NewAggregator(opts...), failures: failureMessages{}, slicer: slicer}
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		if err := in.readFile(stderr, stdin, name); err != nil {
			return nil, err
		}
	}
	if more := in.BadLines - maxBadLineMessages; more > 0 {
		fmt.Fprintf(stderr, "summarize: ... %d more bad %s\n", more, plural(more, "line"))
	}
	in.Records = in.agg.Records()
	return in, nil
}

func (in *input) readFile(stderr io.Writer, stdin io.Reader, name string) error {
	r, label := stdin, "stdin"
	if name == "-" && cmdline.IsTerminal(stdin) {
		fmt.Fprintln(stderr, "summarize: reading records from the terminal (stdin): paste JSON lines and end with Ctrl-D, or give files (summarize runs.jsonl)")
	}
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err // *fs.PathError: names the file
		}
		defer f.Close()
		r, label = f, name
	}
	rd := record.NewReader(r, label)
	for rd.Scan() {
		if bad := rd.BadLine(); bad != nil {
			if text := rd.Text(); servermetrics.IsLine(text) {
				l, err := servermetrics.DecodeLine(text)
				if err == nil {
					in.server = append(in.server, l)
					continue
				}
				bad.Err = err
			}
			in.badLine(stderr, bad)
			continue
		}
		rec := rd.Record()
		if rec.Schema > record.Schema && !in.schemaWarned {
			in.newerSchema(stderr, label, rd.Line(), rec.Schema)
		}
		in.agg.Add(rec)
		in.failures.add(rec)
		if in.slicer != nil {
			in.slicer.Add(rec)
		}
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("read %s: %w", label, err)
	}
	return nil
}

func (in *input) badLine(stderr io.Writer, bad error) {
	in.BadLines++
	if in.BadLines <= maxBadLineMessages {
		fmt.Fprintf(stderr, "summarize: %v\n", bad)
	}
}

// newerSchema warns, once, that records come from a newer genload: on
// stderr where it was found, and in the report.
func (in *input) newerSchema(stderr io.Writer, label string, line, schema int) {
	in.schemaWarned = true
	msg := fmt.Sprintf("records of schema %d are newer than this build's (%d); fields it does not know are ignored", schema, record.Schema)
	fmt.Fprintf(stderr, "summarize: %s:%d: warning: %s\n", label, line, msg)
	in.Warnings = append(in.Warnings, msg)
}

// checkInput fails on bad lines under --strict (before anything is
// written) and on an input without a single record. side names the side of
// a comparison the input is, "" when summarizing.
func checkInput(in *input, strict bool, side string) error {
	where := "the input"
	if side != "" {
		where = side
	}
	if strict && in.BadLines > 0 {
		if side != "" {
			side = " in " + side
		}
		return &cmdline.CodeError{Code: cmdline.ExitBadInput, Err: fmt.Errorf("%d bad input %s%s (--strict)", in.BadLines, plural(in.BadLines, "line"), side)}
	}
	if in.Records == 0 {
		return fmt.Errorf("no records in %s (%d bad %s)", where, in.BadLines, plural(in.BadLines, "line"))
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
