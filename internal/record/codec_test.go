package record

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// encodingJSON is what Writer wrote before AppendJSON: the reference.
func encodingJSON(t testing.TB, r *Record) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(r)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// sampleRecords cover every field, empty and set, and the awkward values.
func sampleRecords() []Record {
	at := time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	return []Record{
		{},
		{Schema: Schema, RunID: "20261127T120102Z-3fa9c1", Label: "latency", Seq: 3, Phase: PhaseMeasure,
			Model: "org/m", URL: "http://127.0.0.1:8000/v1/completions", Endpoint: "completions", Stream: true,
			Concurrency: 16, Rate: 0, MaxTokens: 128, Search: SearchConcurrency, SearchSLO: "ttft=500ms tpot=50ms", SearchMinGoodput: 0.95, ScheduledAt: at, SentAt: at.Add(1500 * time.Nanosecond),
			QueueMs: 0.0015, TTFTMs: Float(12.345678), LatencyMs: 100.25, ITLMs: []float64{1, 2.5, 0.000123, 1e-7, 123456789},
			TPOTMs: Float(0.0028213999999999887), PromptTokens: 15, OutputTokens: 16, TokensFrom: TokensFromUsage,
			FinishReason: "length", Status: 200, OK: true,
			Shard: "1/3", Host: "genload-0", ClockSkewMs: Float(-12.5), ClockSkewErrMs: Float(1000),
			ServerVersion: "0.11.0", ModelRoot: "/models/Llama-3.1-8B"},
		{Schema: Schema, RunID: "r", Seq: 7, Phase: PhaseMeasure, RequestID: "r-7", Endpoint: "chat", Stream: true,
			TTFTMs: Float(20.5), TTFOMs: Float(60.25), LatencyMs: 90, OutputTokens: 12, TokensFrom: TokensFromBadUsage,
			ReasoningTokens: 8, ReasoningFrom: TokensFromChunks, CachedTokens: 64, InputTokensRequested: 1024, ToolCalls: 2, FinishReason: "tool_calls", OK: true,
			TimesFrom: TimesFromKernel, ReadLagP99Ms: Float(0.25), ReadLagMaxMs: Float(3.5), CoalescedEvents: 4, LateChunks: 2,
			SessionID: "r-s3", Turn: 2, HistoryMessages: 3, PromptSalt: SaltRun},
		{Schema: 1, RunID: "r", Label: "a<b>&c \"quoted\" back\\slash \n\r\t\b\f \x00\x1f\x7f", Seq: -1,
			RequestID: "id \"\xff\u2028", ReasoningTokens: -1, CachedTokens: -5, InputTokensRequested: -3, ToolCalls: -2, ReasoningFrom: "\n",
			TimesFrom: "\u2028", ReadLagP99Ms: Float(-0.0), ReadLagMaxMs: Float(1e21), CoalescedEvents: -3, LateChunks: -1,
			SessionID: "s \"\xff\u2029", Turn: -1, HistoryMessages: -3, PromptSalt: "\x00",
			Error: "bad \xff\xfe utf-8, \u2028 \u2029 é 日本 🎉", ErrorKind: ErrHTTP, Status: 503, ServerVersion: "\u2028\x00", ModelRoot: "\xff<",
			Rate: 1e21, QueueMs: -1e-7, LatencyMs: 1e20, ITLMs: []float64{}, TokensFrom: TokensFromNone,
			ScheduledAt: at.Truncate(time.Second), SentAt: time.Date(9999, 12, 31, 23, 59, 59, 1, time.UTC)},
		{Schema: 1, RunID: "r", Search: "\u2028", SearchSLO: "\xff", SearchMinGoodput: 1e-7, Rate: 0.5, QueueMs: math.Copysign(0, -1), LatencyMs: 5e-324, TTFTMs: Float(math.MaxFloat64),
			Shard: "\xff\u2028", Host: "h\"\n", ClockSkewMs: Float(1e-7), ClockSkewErrMs: Float(0),
			ITLMs: []float64{math.SmallestNonzeroFloat64, 1e-6, 9.999999e-7, 1e21, 999999999999999999999}},
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for i, r := range sampleRecords() {
		want, err := encodingJSON(t, &r)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := AppendJSON([]byte("prefix"), &r)
		if !ok || string(got) != "prefix"+string(want) {
			t.Errorf("record %d:\ngot  %s\nwant prefix%s", i, got, want)
		}
	}
}

func TestAppendJSONDeclines(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for name, r := range map[string]Record{
		"NaN":         {LatencyMs: math.NaN()},
		"Inf in ITL":  {ITLMs: []float64{1, math.Inf(1)}},
		"NaN TPOT":    {TPOTMs: Float(math.NaN())},
		"local time":  {SentAt: time.Date(2026, 1, 1, 0, 0, 0, 0, paris)},
		"year 10000":  {SentAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"negative yr": {ScheduledAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got, ok := AppendJSON([]byte("x"), &r); ok || string(got) != "x" {
			t.Errorf("%s: ok=%v, %q", name, ok, got)
		}
	}
	// The Writer then falls back to encoding/json: its error for NaN, its
	// output for a time in another zone.
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Write(&Record{LatencyMs: math.NaN()}); err == nil || !strings.Contains(err.Error(), "unsupported value") {
		t.Errorf("NaN: %v", err)
	}
	r := Record{RunID: "z", SentAt: time.Date(2026, 1, 1, 0, 0, 0, 0, paris)}
	if err := w.Write(&r); err != nil {
		t.Fatal(err)
	}
	want, _ := encodingJSON(t, &r)
	if buf.String() != string(want)+"\n" {
		t.Errorf("fallback wrote %q, want %q", buf.String(), want)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("run", "label <&>", "err \"x\"\n", 1.5, 0.001, 1e-7, 2e21, int64(1795782164123456789), true)
	f.Add("\xff", "\u2028", "", -0.0, 5e-324, math.MaxFloat64, 1e300, int64(0), false)
	f.Fuzz(func(t *testing.T, runID, label, msg string, a, b, c, d float64, nanos int64, ok bool) {
		at := time.Unix(0, nanos).UTC()
		r := Record{Schema: 1, RunID: runID, Label: label, Error: msg, ErrorKind: label, FinishReason: runID, Shard: label, Host: msg, ClockSkewMs: Float(a), ClockSkewErrMs: Float(d),
			ServerVersion: msg, ModelRoot: label,
			Rate: a, QueueMs: b, LatencyMs: c, Search: label, SearchSLO: msg, SearchMinGoodput: d, ITLMs: []float64{a, b, c, d}, TTFTMs: Float(d), TPOTMs: Float(b),
			ScheduledAt: at, SentAt: at.Add(time.Duration(nanos % 1000)), OK: ok, Stream: !ok, Seq: int(nanos),
			SessionID: msg, Turn: int(nanos % 7), HistoryMessages: int(nanos % 13), PromptSalt: label}
		want, err := encodingJSON(t, &r)
		got, fast := AppendJSON(nil, &r)
		switch {
		case err != nil && fast:
			t.Fatalf("encoding/json fails (%v) but AppendJSON wrote %s", err, got)
		case err == nil && fast && !bytes.Equal(got, want):
			t.Fatalf("\ngot  %s\nwant %s", got, want)
		case err == nil && !fast:
			t.Fatalf("AppendJSON declined a record encoding/json writes: %s", want)
		}
	})
}

// decodeBoth decodes line with the Reader's decoder (falling back as the
// Reader does) and with encoding/json alone.
func decodeBoth(line []byte) (fast, ref Record, fastErr, refErr error, took bool) {
	var d decoder
	if took = d.decode(line, &fast); !took {
		fast = Record{}
		fastErr = json.Unmarshal(line, &fast)
	}
	refErr = json.Unmarshal(line, &ref)
	return
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	var lines [][]byte
	for _, r := range sampleRecords() {
		b, err := encodingJSON(t, &r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}
	lines = append(lines, [][]byte{
		[]byte(`{"schema":1,"run_id":"a","unknown":[1,2],"sched_latency":3.5,"x":null,"y":"s","z":true}`),
		[]byte(` { "schema" : 1 , "run_id" : "a" , "itl_ms" : [ 1 , 2 ] } `),
		[]byte(`{"schema":1,"RUN_ID":"a"}`),
		[]byte(`{"schema":1,"run_id":"a","run_id":"b"}`),
		[]byte(`{"schema":1.5,"run_id":"a"}`),
		[]byte(`{"schema":1,"run_id":"a\u0062"}`),
		[]byte(`{"schema":1,"run_id":"a","sent_at":"2026-02-29T00:00:00Z"}`),
		[]byte(`{"schema":1,"run_id":"a","sent_at":"2024-02-29T23:59:59.1Z"}`),
		[]byte(`{"schema":1,"run_id":"a","sent_at":"2024-02-29T23:59:59.1234567891Z"}`),
		[]byte(`{"schema":1,"run_id":"a","sent_at":"2024-02-29T23:59:59+02:00"}`),
		[]byte(`{"schema":1,"run_id":"a","ttft_ms":null,"itl_ms":null}`),
		[]byte(`{"schema":1,"run_id":"a","rate":1e400}`),
		[]byte(`{"schema":1,"run_id":"a","seq":99999999999999999999}`),
		[]byte(`{"schema":1,"run_id":"a"} x`),
		[]byte(`{"schema":1,"run_id":"a",}`),
		[]byte(`{}`),
		[]byte(`{"schema":1,"run_id":"a","shard":"0/3","host":"h","clock_skew_ms":-0.5,"clock_skew_err_ms":1000}`),
		[]byte(`{"schema":1,"run_id":"a","clock_skew_ms":null,"shard":"0/3","host":"h","shard":"1/3"}`),
	}...)
	tookAny := 0
	for _, line := range lines {
		fast, ref, fastErr, refErr, took := decodeBoth(line)
		if took {
			tookAny++
		}
		if (fastErr == nil) != (refErr == nil) || !reflect.DeepEqual(fast, ref) {
			t.Errorf("%s:\nfast %+v (%v, took %v)\nref  %+v (%v)", line, fast, fastErr, took, ref, refErr)
		}
	}
	if tookAny < 8 {
		t.Errorf("the fast decoder took only %d of %d lines", tookAny, len(lines))
	}
}

func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	for _, r := range sampleRecords() {
		b, _ := encodingJSON(f, &r)
		f.Add(b)
	}
	f.Add([]byte(`{"schema":1,"run_id":"a","unknown":-0.5e+3,"itl_ms":[]}`))
	f.Add([]byte(`{"schema":1,"run_id":"a","sent_at":"2024-02-29T23:59:59.1Z"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		fast, ref, fastErr, refErr, took := decodeBoth(line)
		if (fastErr == nil) != (refErr == nil) || !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q:\nfast %+v (%v, took %v)\nref  %+v (%v)", line, fast, fastErr, took, ref, refErr)
		}
	})
}

// TestDecodedRecordsAreIndependent: records kept by value after the next
// Scan must not change, and appending to one's ITL slice must not write
// into another's.
func TestDecodedRecordsAreIndependent(t *testing.T) {
	var in bytes.Buffer
	w := NewWriter(&in)
	for i := range 3 {
		w.Write(&Record{Schema: 1, RunID: "r", Seq: i, TTFTMs: Float(float64(i)), ITLMs: []float64{float64(i), float64(i)}})
	}
	rd := NewReader(&in, "-")
	var kept []Record
	for rd.Scan() {
		kept = append(kept, *rd.Record())
	}
	kept[0].ITLMs = append(kept[0].ITLMs, 99)
	for i, r := range kept {
		if r.Seq != i || *r.TTFTMs != float64(i) || r.ITLMs[0] != float64(i) || r.ITLMs[1] != float64(i) {
			t.Errorf("record %d changed: %+v ttft %v", i, r, *r.TTFTMs)
		}
	}
}
