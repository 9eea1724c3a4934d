package report

import (
	"bytes"
	"encoding/json"
	"io"

	"servebench/internal/summary"
)

// jsonReport is the JSON document: the groups, then the input's counts.
type jsonReport struct {
	Groups []jsonGroup `json:"groups"`
	// Capacity has one object per capacity search, with the groups' keys
	// (summary.Capacity.Row), omitted when there is none.
	Capacity    []jsonGroup `json:"capacity,omitempty"`
	Records     int         `json:"records"`
	BadLines    int         `json:"bad_lines"`
	Percentiles []float64   `json:"percentiles"`
	Warnings    []string    `json:"warnings"`
	Slices      []jsonSlice `json:"slices,omitempty"` // with summarize --slice
}

// jsonGroup is one group as a flat object whose keys are the CSV columns, in
// the same order, followed by "warnings". Numbers are full floats; values
// without data are null.
type jsonGroup struct {
	g      *summary.Group
	ps     []float64
	search bool // the report holds a capacity search: the capacity keys follow
}

// MarshalJSON writes the fixed fields through the json tags of row, then
// continues the same object with the metric fields, whose names depend on the
// percentiles and so cannot be struct tags.
func (j jsonGroup) MarshalJSON() ([]byte, error) {
	fixed, err := json.Marshal(newRow(j.g))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(fixed[:len(fixed)-1]) // drop the closing brace
	names := metricColumns(j.ps)
	k := 0
	for m := range j.g.Metrics {
		for _, v := range metricValues(j.g.Metrics[m], len(j.ps)) {
			key, _ := json.Marshal(names[k])
			k++
			b.WriteByte(',')
			b.Write(key)
			b.WriteByte(':')
			b.Write(jsonFloat(v))
		}
	}
	for i, v := range serverValues(j.g.ServerMetrics) {
		key, _ := json.Marshal(serverColumns[i])
		b.WriteByte(',')
		b.Write(key)
		b.WriteByte(':')
		b.Write(jsonFloat(v))
	}
	for i, v := range capacityValues(j.g) {
		if !j.search {
			break
		}
		key, _ := json.Marshal(capacityColumns[i])
		b.WriteByte(',')
		b.Write(key)
		b.WriteByte(':')
		b.Write(v.json)
	}
	warnings, err := json.Marshal(nonNil(j.g.Warnings))
	if err != nil {
		return nil, err
	}
	b.WriteString(`,"warnings":`)
	b.Write(warnings)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// WriteJSON writes rep as one indented JSON document.
func WriteJSON(w io.Writer, rep *summary.Report) error {
	doc := jsonReport{
		Groups:      make([]jsonGroup, len(rep.Groups)),
		Records:     rep.Records,
		BadLines:    rep.BadLines,
		Percentiles: rep.Percentiles,
		Warnings:    nonNil(rep.Warnings),
	}
	if doc.Percentiles == nil {
		doc.Percentiles = []float64{}
	}
	for i := range rep.Groups {
		doc.Groups[i] = jsonGroup{&rep.Groups[i], rep.Percentiles, hasSearch(rep)}
	}
	for i := range rep.Capacities {
		doc.Capacity = append(doc.Capacity, jsonGroup{&rep.Capacities[i].Row, rep.Percentiles, true})
	}
	for i := range rep.Slices {
		doc.Slices = append(doc.Slices, jsonSlice{&rep.Slices[i], rep.Percentiles})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
