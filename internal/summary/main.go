package summary

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"servebench/internal/cmdline"
	"servebench/internal/record"
	"servebench/internal/report"
	"servebench/internal/stats"
)

// ExitBadInput is summarize's own exit code: with --strict, some input lines
// were not records. The shared codes are cmdline's: 0 success, 1 runtime
// failure (unreadable input, no records, an output that cannot be written),
// 2 usage error.
const ExitBadInput = 3

// maxBadLineMessages caps the bad-line messages on stderr; the rest are
// counted in one line.
const maxBadLineMessages = 20

// Config is what the command line asks for.
type Config struct {
	Files       []string         // inputs; none, or "-", read stdin
	Format      string           // stdout format: "text" (default), "csv" or "json"
	Percentiles string           // e.g. "50,90,99.9"; empty means stats.DefaultPercentiles
	CSVFile     string           // also append one CSV row per group here
	LogFile     string           // also append a timestamped text block here
	Strict      bool             // any bad input line fails the run (ExitBadInput)
	Now         func() time.Time // clock for log timestamps; nil means time.Now
}

// Main is the summarize program: it reads records from cfg.Files (or stdin),
// reports bad lines on stderr, and writes the report to stdout and the
// optional CSV and log files. The files are written before stdout, so an
// error such as a CSV header mismatch leaves every output untouched.
//
// The error carries the exit code for cmdline.Code: a cmdline.UsageError
// (2), a cmdline.CodeError with ExitBadInput (3), or any other error (1).
func Main(stdout, stderr io.Writer, stdin io.Reader, cfg Config) error {
	format := cfg.Format
	if format == "" {
		format = "text"
	}
	if format != "text" && format != "csv" && format != "json" {
		return cmdline.Usagef("--format %q: want text, csv or json", cfg.Format)
	}
	spec := cfg.Percentiles
	if strings.TrimSpace(spec) == "" {
		spec = stats.DefaultPercentiles
	}
	ps, err := stats.ParsePercentiles(spec)
	if err != nil {
		return cmdline.Usagef("--percentiles: %v", err)
	}
	for _, name := range cfg.Files {
		if _, err := os.Stat(name); name != "-" && strings.HasPrefix(name, "-") && errors.Is(err, fs.ErrNotExist) {
			return cmdline.Usagef("%s: no such file; flags go before file names", name)
		}
	}
	rep, err := read(stderr, stdin, cfg.Files)
	if err != nil {
		return err
	}
	if cfg.Strict && rep.BadLines > 0 {
		return &cmdline.CodeError{Code: ExitBadInput, Err: fmt.Errorf("%d bad input %s (--strict)", rep.BadLines, plural(rep.BadLines, "line"))}
	}
	if rep.Records == 0 {
		return fmt.Errorf("no records in the input (%d bad %s)", rep.BadLines, plural(rep.BadLines, "line"))
	}
	rep.Percentiles = ps
	rep.Groups = rep.agg.Groups(ps)
	return write(stdout, &rep.Report, format, cfg)
}

// input is a report in the making.
type input struct {
	report.Report
	agg          *Aggregator
	schemaWarned bool
}

// read aggregates every input in order and reports bad lines on stderr, the
// first maxBadLineMessages of them in full.
func read(stderr io.Writer, stdin io.Reader, files []string) (*input, error) {
	in := &input{agg: NewAggregator()}
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
			in.BadLines++
			if in.BadLines <= maxBadLineMessages {
				fmt.Fprintf(stderr, "summarize: %v\n", bad)
			}
			continue
		}
		rec := rd.Record()
		if rec.Schema > record.Schema && !in.schemaWarned {
			in.schemaWarned = true
			msg := fmt.Sprintf("records of schema %d are newer than this build's (%d); fields it does not know are ignored", rec.Schema, record.Schema)
			fmt.Fprintf(stderr, "summarize: %s:%d: warning: %s\n", label, rd.Line(), msg)
			in.Warnings = append(in.Warnings, msg)
		}
		in.agg.Add(rec)
	}
	if err := rd.Err(); err != nil {
		return fmt.Errorf("read %s: %w", label, err)
	}
	return nil
}

// write renders the report for stdout, appends to the CSV and log files,
// and only then writes stdout.
func write(stdout io.Writer, rep *report.Report, format string, cfg Config) error {
	var out bytes.Buffer
	var err error
	switch format {
	case "csv":
		err = report.WriteCSV(&out, rep, true)
	case "json":
		err = report.WriteJSON(&out, rep)
	default:
		err = report.WriteText(&out, rep, report.ColorEnabled(stdout))
	}
	if err != nil {
		return err
	}
	if cfg.CSVFile != "" {
		if err := report.AppendCSV(cfg.CSVFile, rep); err != nil {
			return err
		}
	}
	if cfg.LogFile != "" {
		now := cfg.Now
		if now == nil {
			now = time.Now
		}
		if err := report.AppendLog(cfg.LogFile, report.LogBlock(rep, now())); err != nil {
			return err
		}
	}
	_, err = stdout.Write(out.Bytes())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
