package summary

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"servebench/internal/record"
)

// byField is a record field that groups can be split by (summarize --by).
type byField struct {
	name      string // its JSON key
	index     int    // in record.Record
	omitEmpty bool   // left out of a line when empty: its zero reads "none"
}

// recordFields are the record's fields by JSON key, from its struct tags:
// a field added to the record can be grouped by without a change here.
var recordFields = func() map[string]byField {
	m := map[string]byField{}
	t := reflect.TypeOf(record.Record{})
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = byField{name: name, index: i, omitEmpty: strings.Contains(opts, "omitempty")}
	}
	return m
}()

// notGroupable are the fields whose values are per request measurements
// or lists: a group per value would be a group per request.
var notGroupable = []string{"itl_ms"}

// ParseBy reads a comma-separated list of record fields to split groups
// by, such as "turn" or "model,url". The groups of a run and load point
// are then split by the fields' values, in that order.
func ParseBy(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		field, ok := recordFields[f]
		switch {
		case f == "":
			return nil, fmt.Errorf("%q: an empty field name in the list", s)
		case !ok:
			return nil, fmt.Errorf("%q: no record field %q (fields: %s)", s, f, strings.Join(groupableFields(), ", "))
		case slices.Contains(notGroupable, f):
			return nil, fmt.Errorf("%q: %s is a list of samples, not a value to group by", s, f)
		case slices.Contains(out, f):
			return nil, fmt.Errorf("%q names %s twice", s, f)
		}
		out = append(out, field.name)
	}
	return out, nil
}

func groupableFields() []string {
	var names []string
	for n := range recordFields {
		if !slices.Contains(notGroupable, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// WithBy splits every group by the values of the record fields named
// (ParseBy): "turn=2" becomes part of the group's Point (Point.By).
func WithBy(fields []string) Option { return func(a *Aggregator) { a.by = fields } }

// byValue is r's Point.By: "turn=2 model=m", fields in the order given.
func byValue(r *record.Record, fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	v := reflect.ValueOf(r).Elem()
	var b strings.Builder
	for i, name := range fields {
		f := recordFields[name]
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(formatField(v.Field(f.index), f.omitEmpty))
	}
	return b.String()
}

// formatField writes a field's value as a record line shows it (a time
// in RFC 3339); an empty field that lines leave out reads "none".
func formatField(v reflect.Value, omitEmpty bool) string {
	if omitEmpty && v.IsZero() {
		return "none"
	}
	switch x := v.Interface().(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *float64:
		if x == nil {
			return "none"
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v.Interface())
}
