package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"servebench/internal/summary"
)

func FuzzAppendCSV(f *testing.F) {
	rep := &summary.Report{Groups: []summary.Group{testGroup("l")}, Percentiles: []float64{99}}
	var good bytes.Buffer
	WriteCSV(&good, rep, true)
	f.Add(good.Bytes())
	f.Add([]byte{})
	f.Add([]byte("\ufeff" + good.String()))
	f.Add([]byte("a,b\n"))
	f.Add([]byte(`"unterminated` + "\n"))
	f.Add([]byte("run_id"))
	f.Add(bytes.ReplaceAll(good.Bytes(), []byte("\n"), []byte("\r\n"))) // saved by a spreadsheet
	f.Fuzz(func(t *testing.T, existing []byte) {
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, existing, 0o644); err != nil {
			t.Fatal(err)
		}
		err := AppendCSV(path, rep)
		after, _ := os.ReadFile(path)
		if err != nil {
			if !bytes.Equal(after, existing) {
				t.Fatalf("failed append changed the file: %v", err)
			}
			return
		}
		if !bytes.HasPrefix(after, existing) {
			t.Fatal("append rewrote existing content")
		}
		added := string(after[len(existing):])
		var rows bytes.Buffer
		WriteCSV(&rows, rep, len(existing) == 0)
		if added != rows.String() {
			t.Fatalf("appended %q, want %q", added, rows.String())
		}
		if len(existing) > 0 {
			header, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(existing), "\ufeff"))).Read()
			if err != nil || !slices.Equal(header, Header(rep.Percentiles)) {
				t.Fatalf("appended to a file with another header: %q", existing)
			}
		}
	})
}

// TestAppendCSVOlderFile: a file written before the goodput columns
// existed is refused, untouched, naming the columns it lacks, so that the
// advice fits (cmd/summarize words it); a file with other percentiles lacks
// none.
func TestAppendCSVOlderFile(t *testing.T) {
	rep := &summary.Report{Groups: []summary.Group{testGroup("l")}, Percentiles: []float64{99}}
	var old []string
	for _, col := range Header(rep.Percentiles) {
		if col != "slo" && col != "goodput_req_per_s" && col != "slo_met_ratio" {
			old = append(old, col)
		}
	}
	tests := []struct {
		name, header, missing string
	}{
		{"older summarize", strings.Join(old, ","), "slo, goodput_req_per_s, slo_met_ratio"},
		{"other percentiles", strings.Join(Header([]float64{50}), ","), ""},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "runs.csv")
		existing := []byte(tt.header + "\n")
		os.WriteFile(path, existing, 0o644)
		err := AppendCSV(path, rep)
		var he *HeaderError
		if !errors.As(err, &he) || strings.Join(he.Missing, ", ") != tt.missing || !strings.Contains(err.Error(), path+": not appending: its header differs") {
			t.Errorf("%s: %v, want a header error missing %q", tt.name, err, tt.missing)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, existing) {
			t.Errorf("%s: the file changed", tt.name)
		}
	}
}
