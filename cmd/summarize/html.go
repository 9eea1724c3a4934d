package main

import (
	"bytes"
	"fmt"
	"slices"

	"servebench/internal/compare"
	"servebench/internal/record"
	"servebench/internal/report"
	"servebench/internal/summary"
)

// maxFailureMessages is how many distinct error messages the HTML report
// keeps per group: the first ones, which usually say what went wrong.
const maxFailureMessages = 5

// failureMessages collects the first distinct "kind: message" of each
// group's measured failures, keyed by summary.Group.String(): records are
// not kept, so the messages are taken as they stream by.
type failureMessages map[string][]string

func (f failureMessages) add(r *record.Record) {
	if r.OK || r.Phase != record.PhaseMeasure {
		return
	}
	g := summary.Group{RunID: r.RunID, Point: summary.Point{Label: r.Label, Concurrency: r.Concurrency, Rate: r.Rate}}
	key := g.String()
	msg := r.ErrorKind + ": " + r.Error
	if msgs := f[key]; len(msgs) < maxFailureMessages && !slices.Contains(msgs, msg) {
		f[key] = append(msgs, msg)
	}
}

// renderHTML writes the --html page in memory, for write to put in place
// with the other outputs; nil without --html.
func renderHTML(path string, sides []report.HTMLSide, res *compare.Result) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, &report.HTML{Generated: now(), Sides: sides, Comparison: res}); err != nil {
		return nil, fmt.Errorf("--html %s: %w", path, err)
	}
	return buf.Bytes(), nil
}
