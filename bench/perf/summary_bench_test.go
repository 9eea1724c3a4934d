package main

// Benchmarks of summarize's per-record work, through the packages' exported
// API only (internal/summary is not this directory's to change):
// decoding a line (record.Reader), folding it into the statistics
// (summary.Aggregator.Add), and the statistics at the end (Sampled: sorting
// and percentiles), each reported per record.

import (
	"bytes"
	"io"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"servebench/internal/record"
	reportfmt "servebench/internal/report"
	"servebench/internal/summary"
)

// benchLines is n streaming records of 16 tokens (15 ITL samples), in 10
// runs, as genload writes them.
func benchLines(n int) []byte {
	at := time.Date(2026, 11, 27, 12, 28, 25, 886467885, time.UTC)
	var buf bytes.Buffer
	w := record.NewWriter(&buf)
	for i := range n {
		itl := make([]float64, 15)
		for j := range itl {
			itl[j] = 0.002 + float64((i*7+j*13)%1000)*1e-6
		}
		sent := at.Add(time.Duration(i) * 100 * time.Microsecond)
		r := &record.Record{Schema: record.Schema, RunID: "20261127T122825Z-ad4167-r00" + string(rune('0'+i%10)), Label: "throughput",
			Seq: i, Phase: record.PhaseMeasure, Model: "llmsim/tiny", URL: "http://127.0.0.1:39701/v1/completions",
			Endpoint: "completions", Stream: true, IgnoreEOS: true, Concurrency: 8, MaxTokens: 16,
			ScheduledAt: sent.Add(-5 * time.Microsecond), SentAt: sent, QueueMs: 0.005,
			TTFTMs: record.Float(3.5 + float64(i%1000)/1000), LatencyMs: 3.6 + float64(i%1000)/1000, ITLMs: itl,
			TPOTMs: record.Float(0.0028 + float64(i%100)/1e5), PromptTokens: 15, OutputTokens: 16,
			TokensFrom: record.TokensFromUsage, FinishReason: "length", Status: 200, OK: true}
		if err := w.Write(r); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}

// BenchmarkSummarizeDecode is record.Reader's cost per line.
func BenchmarkSummarizeDecode(b *testing.B) {
	input := benchLines(10000)
	b.SetBytes(int64(len(input) / 10000))
	b.ReportAllocs()
	rd := record.NewReader(bytes.NewReader(input), "bench")
	for b.Loop() {
		if !rd.Scan() {
			rd = record.NewReader(bytes.NewReader(input), "bench")
			rd.Scan()
		}
	}
}

// BenchmarkSummarizeAdd is summary.Aggregator.Add's cost per record.
func BenchmarkSummarizeAdd(b *testing.B) {
	var recs []record.Record
	rd := record.NewReader(bytes.NewReader(benchLines(10000)), "bench")
	for rd.Scan() {
		recs = append(recs, *rd.Record())
	}
	agg := summary.NewAggregator()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		agg.Add(&recs[i%len(recs)])
		i++
	}
}

// BenchmarkSummarizeStatistics is the end of a run per record: sorting
// every group's samples and taking the percentiles, over 100,000 records.
func BenchmarkSummarizeStatistics(b *testing.B) {
	const n = 100_000
	var recs []record.Record
	rd := record.NewReader(bytes.NewReader(benchLines(n)), "bench")
	for rd.Scan() {
		recs = append(recs, *rd.Record())
	}
	ps := []float64{50, 90, 95, 99}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		agg := summary.NewAggregator()
		for i := range recs {
			agg.Add(&recs[i])
		}
		b.StartTimer()
		agg.Sampled(ps)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// TestProfileSummarize writes a CPU profile of summarize over the file in
// $SERVEBENCH_PROFILE_INPUT to $SERVEBENCH_PROFILE_OUTPUT; without them it
// is skipped. For performance work only.
func TestProfileSummarize(t *testing.T) {
	in, out := os.Getenv("SERVEBENCH_PROFILE_INPUT"), os.Getenv("SERVEBENCH_PROFILE_OUTPUT")
	if in == "" || out == "" {
		t.Skip("set SERVEBENCH_PROFILE_INPUT and SERVEBENCH_PROFILE_OUTPUT")
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	defer pprof.StopCPUProfile()
	if err := summarizeFile(io.Discard, in); err != nil {
		t.Fatal(err)
	}
}

// summarizeFile is summarize's work on one file without its command line:
// reading, the statistics and the text report.
func summarizeFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	agg := summary.NewAggregator()
	rep := &summary.Report{Percentiles: []float64{50, 90, 95, 99}}
	rd := record.NewReader(f, path)
	for rd.Scan() {
		if r := rd.Record(); r != nil {
			agg.Add(r)
		} else {
			rep.BadLines++
		}
	}
	if err := rd.Err(); err != nil {
		return err
	}
	rep.Records, rep.Groups = agg.Records(), agg.Groups(rep.Percentiles)
	return reportfmt.WriteText(w, rep, reportfmt.TextOptions{})
}

// TestSummarizePhases times summarize's two phases over the file in
// $SERVEBENCH_PROFILE_INPUT: reading (decoding on the Reader's goroutine,
// aggregating on this one) and the statistics. Skipped without it.
func TestSummarizePhases(t *testing.T) {
	in := os.Getenv("SERVEBENCH_PROFILE_INPUT")
	if in == "" {
		t.Skip("set SERVEBENCH_PROFILE_INPUT")
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	agg := summary.NewAggregator()
	rd := record.NewReader(f, in)
	n := 0
	for rd.Scan() {
		if r := rd.Record(); r != nil {
			agg.Add(r)
			n++
		}
	}
	read := time.Since(start)
	agg.Sampled([]float64{50, 90, 95, 99})
	t.Logf("%d records: reading %v, statistics %v", n, read.Round(time.Millisecond), (time.Since(start) - read).Round(time.Millisecond))
	start = time.Now()
	f.Seek(0, 0)
	rd = record.NewReader(f, in)
	for rd.Scan() {
	}
	t.Logf("decoding alone: %v", time.Since(start).Round(time.Millisecond))
}
