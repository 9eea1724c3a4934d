package record

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"sync"
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

// slowWriter records the write calls it gets, each taking a while.
type slowWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	calls int
	delay time.Duration
	fail  error
}

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		return 0, s.fail
	}
	return s.buf.Write(p)
}

// TestWriterConcurrent: many writers, with and without a flush interval:
// every line whole, none lost once Flush returns, and fewer write calls
// than lines when writes overlap.
func TestWriterConcurrent(t *testing.T) {
	for _, interval := range []time.Duration{0, 2 * time.Millisecond} {
		out := &slowWriter{delay: 100 * time.Microsecond}
		w := NewWriter(out)
		w.SetFlushInterval(interval)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					if err := w.Write(&Record{Schema: 1, RunID: "r", Seq: g*1000 + i, Label: strings.Repeat("x", i)}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		rd := NewReader(&out.buf, "-")
		seen := map[int]bool{}
		for rd.Scan() {
			if rd.BadLine() != nil {
				t.Fatalf("interval %v: %v", interval, rd.BadLine())
			}
			seen[rd.Record().Seq] = true
		}
		if len(seen) != 1600 || out.calls >= 1600 {
			t.Errorf("interval %v: %d distinct lines in %d write calls", interval, len(seen), out.calls)
		}
	}
}

// TestWriterIntervalWrites: with an interval and no Flush, a line still
// goes out by itself shortly after.
func TestWriterIntervalWrites(t *testing.T) {
	out := &slowWriter{}
	w := NewWriter(out)
	w.SetFlushInterval(time.Millisecond)
	w.Write(&Record{Schema: 1, RunID: "r"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		out.mu.Lock()
		n := out.buf.Len()
		out.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the line was never written")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWriterErrorSticks: after a failed write every call reports it.
func TestWriterErrorSticks(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Millisecond} {
		out := &slowWriter{fail: errors.New("broken pipe")}
		w := NewWriter(out)
		w.SetFlushInterval(interval)
		w.Write(&Record{Schema: 1, RunID: "r"})
		w.Flush()
		if err := w.Write(&Record{Schema: 1, RunID: "r"}); err == nil || err.Error() != "broken pipe" {
			t.Errorf("interval %v: Write after a failure: %v", interval, err)
		}
		if err := w.Flush(); err == nil {
			t.Errorf("interval %v: Flush after a failure: nil", interval)
		}
	}
}

// TestAbandonedReaderStops: a Reader dropped before the end of its input
// does not leave its decoding goroutine behind.
func TestAbandonedReaderStops(t *testing.T) {
	line := `{"schema":1,"run_id":"a"}` + "\n"
	before := runtime.NumGoroutine()
	for range 10 {
		r := NewReader(strings.NewReader(strings.Repeat(line, 10*readerBatches*readerBatchSize)), "-")
		if !r.Scan() {
			t.Fatal("no line")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
