package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"servebench/internal/summary"
)

func TestCapacityRow(t *testing.T) {
	nan := math.NaN()
	g := summary.Group{RunID: "s", Point: summary.Point{Concurrency: 5}, Requests: 72, OK: 72, Errors: make([]int, 7),
		DurationS: 3, ReqPerS: 24, OutputTokPerS: nan, TotalTokPerS: nan, InputTokPerS: nan, SLO: "ttft=100ms",
		GoodputReqPerS: nan, SLOMetRatio: 0.792, MeanPromptTokens: nan, MeanOutputTokens: nan, Search: "concurrency"}
	row := g
	row.Point.Concurrency, row.Requests, row.IsCapacity, row.Capacity, row.CapacityFailed, row.SearchMinGoodput = 4, 168, true, 4, 5, 0.85
	rep := &summary.Report{Groups: []summary.Group{g}, Capacities: []summary.Capacity{{RunID: "s", Search: "concurrency", Row: row}}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep, true); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("%d rows (%v), want header, group, capacity", len(rows), err)
	}
	tail := func(r []string) string { return strings.Join(r[len(r)-4:], ",") }
	if got := tail(rows[0]); got != "search,capacity,capacity_failed,capacity_min_goodput" {
		t.Errorf("header ends %q", got)
	}
	if got := tail(rows[1]); got != "concurrency,,," {
		t.Errorf("group row ends %q", got)
	}
	if got := tail(rows[2]); got != "concurrency,4,5,0.85" {
		t.Errorf("capacity row ends %q", got)
	}
	buf.Reset()
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups   []map[string]any `json:"groups"`
		Capacity []map[string]any `json:"capacity"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Capacity) != 1 || doc.Capacity[0]["capacity"] != 4.0 || doc.Capacity[0]["capacity_failed"] != 5.0 || doc.Groups[0]["capacity"] != nil {
		t.Errorf("JSON %s", buf.String())
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, &HTML{Sides: []HTMLSide{{Report: rep}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `<section id="capacity"><h2>Capacity search</h2>`) {
		t.Error("the HTML page has no capacity section")
	}
	// Without a search the columns are not there at all.
	rep = &summary.Report{Groups: []summary.Group{{RunID: "p", Errors: make([]int, 7)}}}
	buf.Reset()
	if err := WriteCSV(&buf, rep, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "capacity") {
		t.Errorf("a report without a search has capacity columns:\n%s", buf.String())
	}
}
