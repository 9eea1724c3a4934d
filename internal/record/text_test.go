package record

import (
	"strings"
	"testing"
)

// Text gives each line as read, records and others alike.
func TestReaderText(t *testing.T) {
	in := "{\"schema\":1,\"run_id\":\"r\"}\n\n  {\"kind\":\"server_metrics\"}  \nnot json\n"
	rd := NewReader(strings.NewReader(in), "t")
	var got []string
	for rd.Scan() {
		got = append(got, string(rd.Text()))
	}
	want := []string{`{"schema":1,"run_id":"r"}`, `{"kind":"server_metrics"}`, "not json"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Text: %q, want %q", got, want)
	}
}
