package record

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteThenRead(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	at := time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	in := Record{Schema: Schema, RunID: "r1", Label: "a<b", Seq: 3, Phase: PhaseMeasure,
		ScheduledAt: at, SentAt: at.Add(time.Millisecond), QueueMs: 1, TTFTMs: Float(12.5),
		LatencyMs: 100, ITLMs: []float64{1, 2}, OutputTokens: 3, TokensFrom: TokensFromUsage, OK: true, Status: 200}
	if err := w.Write(&in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"label":"a<b"`) {
		t.Errorf("HTML escaping should be off: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"sent_at":"2026-11-27T12:00:00.124456789Z"`) {
		t.Errorf("sent_at not RFC 3339 nano UTC: %s", buf.String())
	}
	r := NewReader(&buf, "x")
	if !r.Scan() {
		t.Fatal("no line")
	}
	got := r.Record()
	if got == nil || got.RunID != "r1" || *got.TTFTMs != 12.5 || len(got.ITLMs) != 2 || !got.SentAt.Equal(in.SentAt) {
		t.Fatalf("round trip: %+v, bad %v", got, r.BadLine())
	}
	if end := got.EndAt(); !end.Equal(in.SentAt.Add(100 * time.Millisecond)) {
		t.Errorf("EndAt = %v", end)
	}
	if r.Scan() {
		t.Fatal("extra line")
	}
}

func TestReaderBadLines(t *testing.T) {
	good := `{"schema":1,"run_id":"a","seq":1,"ok":true}`
	input := strings.Join([]string{
		good,
		"",                                       // blank: skipped, not counted
		"not json",                               // line 3
		`{"schema":1,"run_id":"a",`,              // line 4: truncated
		`{"hello":"world"}`,                      // line 5: not a record
		good + "\r",                              // line 6: CRLF is fine
		"{\"schema\":1,\"run_id\":\"\xff\xfe\"}", // line 7: invalid UTF-8 is replaced, not fatal
		`{"schema":1,"run_id":"a","seq":9`,       // line 8: truncated last line, no newline
	}, "\n")
	r := NewReader(strings.NewReader(input), "in.jsonl")
	var goodLines, badLines []int
	for r.Scan() {
		if b := r.BadLine(); b != nil {
			badLines = append(badLines, b.Line)
			if !strings.HasPrefix(b.Error(), "in.jsonl:") {
				t.Errorf("error lacks file name: %v", b)
			}
			continue
		}
		goodLines = append(goodLines, r.Line())
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if want := []int{1, 6, 7}; !equalInts(goodLines, want) {
		t.Errorf("good lines %v, want %v", goodLines, want)
	}
	if want := []int{3, 4, 5, 8}; !equalInts(badLines, want) {
		t.Errorf("bad lines %v, want %v", badLines, want)
	}
}

func TestReaderLongLine(t *testing.T) {
	long := `{"schema":1,"run_id":"` + strings.Repeat("x", MaxLineBytes+10) + `"}`
	input := long + "\n" + `{"schema":1,"run_id":"b"}` + "\n"
	r := NewReader(strings.NewReader(input), "-")
	if !r.Scan() || r.BadLine() == nil {
		t.Fatal("long line not reported")
	}
	if !r.Scan() || r.Record() == nil || r.Record().RunID != "b" || r.Line() != 2 {
		t.Fatalf("line after long line lost: %v", r.BadLine())
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"schema":1,"run_id":"a","seq":1,"ok":true,"itl_ms":[1,2]}` + "\n"))
	f.Add([]byte("garbage\n\n{\"schema\":1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz")
		n := 0
		for r.Scan() {
			n++
			if (r.Record() == nil) == (r.BadLine() == nil) {
				t.Fatal("exactly one of Record and BadLine must be set")
			}
		}
		if n > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d lines from %d newlines", n, bytes.Count(data, []byte("\n")))
		}
	})
}
