package record

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// benchRecord is a streaming record as genload writes it for a 16-token
// answer: 15 ITL samples.
func benchRecord() *Record {
	at := time.Date(2026, 11, 27, 12, 28, 25, 886467885, time.UTC)
	itl := make([]float64, 15)
	for i := range itl {
		itl[i] = 0.002234 + float64(i)*0.000113
	}
	return &Record{Schema: Schema, RunID: "20261127T122825Z-ad4167", Label: "throughput", Seq: 1234, Phase: PhaseMeasure,
		RequestID: "20261127T122825Z-ad4167-1234",
		Model:     "llmsim/tiny", URL: "http://127.0.0.1:39701/v1/completions", Endpoint: "completions", Stream: true, IgnoreEOS: true,
		Concurrency: 8, MaxTokens: 16, ScheduledAt: at, SentAt: at.Add(5109 * time.Nanosecond), QueueMs: 0.005109,
		TTFTMs: Float(3.560665), TTFOMs: Float(3.560665), LatencyMs: 3.602986, ITLMs: itl, TPOTMs: Float(0.0028213999999999887),
		PromptTokens: 15, OutputTokens: 16, TokensFrom: TokensFromUsage, FinishReason: "length", Status: 200, OK: true}
}

// BenchmarkAppendJSON is the record encoding genload does per request.
func BenchmarkAppendJSON(b *testing.B) {
	r := benchRecord()
	buf, _ := AppendJSON(nil, r)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendJSON(buf[:0], r)
	}
}

// BenchmarkEncodingJSON is the same with encoding/json, for comparison.
func BenchmarkEncodingJSON(b *testing.B) {
	r := benchRecord()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodingJSON(b, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriter is a whole Write: encoding, gathering and the write call
// (to io.Discard).
func BenchmarkWriter(b *testing.B) {
	w := NewWriter(io.Discard)
	r := benchRecord()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader is summarize's decoding, per record.
func BenchmarkReader(b *testing.B) {
	line, _ := AppendJSON(nil, benchRecord())
	line = append(line, '\n')
	input := bytes.Repeat(line, 10000)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	rd := NewReader(bytes.NewReader(input), "bench")
	for b.Loop() {
		if !rd.Scan() {
			rd = NewReader(bytes.NewReader(input), "bench")
			rd.Scan()
		}
		if rd.Record() == nil {
			b.Fatal(rd.BadLine())
		}
	}
}
