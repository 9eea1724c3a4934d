package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"servebench/internal/cmdline"
	"servebench/internal/plot"
	"servebench/internal/report"
	"servebench/internal/summary"
)

// write renders the report for stdout, appends to the CSV file (which may
// refuse: other columns), writes the picture, the HTML page and the log, and only then
// writes stdout: the CSV goes first so that a header mismatch leaves every
// output untouched.
func write(stdout io.Writer, rep *summary.Report, format string, cfg config, picture, page []byte) error {
	out, err := render(rep, format, report.TextOptions{Color: cmdline.UseColor(stdout), Brief: cfg.Brief})
	if err != nil {
		return err
	}
	if cfg.CSVFile != "" {
		if err := appendCSV(cfg.CSVFile, rep); err != nil {
			return err
		}
	}
	if err := writeRendered(cfg.Plot, picture); err != nil {
		return err
	}
	if err := writeRendered(cfg.HTML, page); err != nil {
		return err
	}
	if cfg.LogFile != "" {
		if err := report.AppendLog(cfg.LogFile, report.LogBlock(rep, now())); err != nil {
			return err
		}
	}
	_, err = stdout.Write(out)
	return err
}

// render writes the report in the --format asked for, in memory.
func render(rep *summary.Report, format string, text report.TextOptions) ([]byte, error) {
	var out bytes.Buffer
	var err error
	switch format {
	case "csv":
		if len(rep.Slices) > 0 { // --slice: the slices' rows
			err = report.WriteSlicesCSV(&out, rep)
			break
		}
		err = report.WriteCSV(&out, rep, true)
	case "json":
		err = report.WriteJSON(&out, rep)
	default:
		err = report.WriteText(&out, rep, text)
	}
	return out.Bytes(), err
}

// appendCSV appends the report's rows to the --csv file and, when the file
// has other columns, says what to do about it.
func appendCSV(path string, rep *summary.Report) error {
	err := report.AppendCSV(path, rep)
	var mismatch *report.HeaderError
	switch {
	case !errors.As(err, &mismatch):
		return err
	case len(mismatch.Missing) > 0:
		return fmt.Errorf("%w; an older summarize wrote it, without the columns %s: move it aside and start a new file", err, strings.Join(mismatch.Missing, ", "))
	}
	return fmt.Errorf("%w; write to a new file or summarize with the file's --percentiles", err)
}

// renderPlot draws fig in the format path's extension names, in memory:
// the file is written later, with the other outputs, so that a failure
// before then leaves no file behind. A figure with nothing to draw (every
// request failed) is a warning and no file, not a failure: the numbers are
// still reported, and a cron run should still log them.
func renderPlot(stderr io.Writer, path string, fig *plot.Figure, warnings []string) ([]byte, error) {
	for _, w := range warnings {
		fmt.Fprintf(stderr, "summarize: warning: --plot: %s\n", w)
	}
	var buf bytes.Buffer
	err := plot.Render(&buf, strings.ToLower(filepath.Ext(path)), fig)
	if errors.Is(err, plot.ErrNothingToDraw) {
		fmt.Fprintf(stderr, "summarize: warning: --plot %s: %v; no file written\n", path, err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--plot %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// writeRendered writes a rendered file (--plot, --html), if there is one.
func writeRendered(path string, data []byte) error {
	if data == nil {
		return nil
	}
	return os.WriteFile(path, data, 0o644)
}
