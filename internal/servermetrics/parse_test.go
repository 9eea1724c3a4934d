package servermetrics

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The testdata files are /metrics bodies written from each server's
// documented names and exposition (prometheus_client's text for vLLM
// and SGLang, the Rust metrics exporter's for TGI, llama-server's own).
func TestParseServers(t *testing.T) {
	for _, tc := range []struct {
		file       string
		gauges     map[string]float64
		counters   map[string]float64
		histograms map[string][2]float64 // sum, count
		models     []string
		engines    []string
	}{
		{ // two engines (data parallel): running and waiting summed, KV usage averaged; the deprecated names beside the new ones are not counted twice
			file:   "vllm.txt",
			gauges: map[string]float64{Running: 8, Waiting: 3, KVCacheUsage: 0.5},
			counters: map[string]float64{
				PromptTokens: 10000, GenerationTokens: 2000, Preemptions: 2,
				PrefixCacheQueries: 4000, PrefixCacheHits: 2000, RequestsFinished: 20,
				SpecDrafts: 100, SpecDraftTokens: 300, SpecAcceptedTokens: 210,
			},
			histograms: map[string][2]float64{TTFTSeconds: {2, 20}, ITLSeconds: {23.8, 1190}, QueueSeconds: {0.2, 10}, E2ESeconds: {30, 10}},
			models:     []string{"meta-llama/Llama-3.1-8B-Instruct"},
			engines:    []string{"0", "1"},
		},
		{ // before 0.9: gpu_cache_usage_perc, gpu_prefix_cache_*, time_per_output_token
			file:       "vllm-0.8.txt",
			gauges:     map[string]float64{Running: 2, Waiting: 0, KVCacheUsage: 0.125},
			counters:   map[string]float64{PrefixCacheQueries: 800, PrefixCacheHits: 200, GenerationTokens: 64},
			histograms: map[string][2]float64{ITLSeconds: {0.31, 62}},
			models:     []string{"Qwen/Qwen2.5-0.5B"},
			engines:    []string{"0"},
		},
		{ // the prefix cache in tokens: cached prompt tokens over all prompt tokens
			file:       "sglang.txt",
			gauges:     map[string]float64{Running: 6, Waiting: 2, KVCacheUsage: 0.4, SpecAcceptRate: 0.7},
			counters:   map[string]float64{PromptTokens: 5000, PrefixCacheQueries: 5000, PrefixCacheHits: 1250, GenerationTokens: 900, RequestsFinished: 9},
			histograms: map[string][2]float64{TTFTSeconds: {1.8, 9}, ITLSeconds: {13.365, 891}, QueueSeconds: {0.09, 9}, E2ESeconds: {18, 9}},
			models:     []string{"Qwen/Qwen2.5-7B-Instruct"},
		},
		{ // no TTFT, no KV usage, no token counters
			file:       "tgi.txt",
			gauges:     map[string]float64{Running: 4, Waiting: 3},
			counters:   map[string]float64{RequestsFinished: 42},
			histograms: map[string][2]float64{QueueSeconds: {2.1, 42}, E2ESeconds: {84, 42}, TPOTSeconds: {0.84, 42}},
		},
		{
			file:       "llamacpp.txt",
			gauges:     map[string]float64{Running: 2, Waiting: 1, KVCacheUsage: 0.0625},
			counters:   map[string]float64{PromptTokens: 1200, GenerationTokens: 340},
			histograms: map[string][2]float64{},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := Parse(f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Gauges, tc.gauges) {
				t.Errorf("gauges %v, want %v", s.Gauges, tc.gauges)
			}
			if !reflect.DeepEqual(s.Counters, tc.counters) {
				t.Errorf("counters %v, want %v", s.Counters, tc.counters)
			}
			got := map[string][2]float64{}
			for k, h := range s.Histograms {
				got[k] = [2]float64{math.Round(h.Sum*1e9) / 1e9, h.Count}
			}
			if !reflect.DeepEqual(got, tc.histograms) {
				t.Errorf("histograms %v, want %v", got, tc.histograms)
			}
			if !reflect.DeepEqual(s.Models, tc.models) || !reflect.DeepEqual(s.Engines, tc.engines) {
				t.Errorf("models %v engines %v, want %v %v", s.Models, s.Engines, tc.models, tc.engines)
			}
		})
	}
}

// Buckets of several engines add up bound by bound; +Inf is the count.
func TestParseHistogramBuckets(t *testing.T) {
	f, _ := os.ReadFile("testdata/vllm.txt")
	s, err := Parse(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	want := []Bucket{{0.001, 1}, {0.1, 14}}
	if got := s.Histograms[TTFTSeconds].Buckets; !reflect.DeepEqual(got, want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
}

func TestParseBad(t *testing.T) {
	for _, body := range []string{
		"<html><body>not found</body></html>\n",
		"vllm:num_requests_running{model_name=\"x\" 1\n", // unclosed labels
		"# TYPE a counter\na 1\n# TYPE a gauge\na 2\n",   // a family declared twice
		"vllm:num_requests_running abc\n",                // not a number
	} {
		if _, err := Parse(strings.NewReader(body)); err == nil {
			t.Errorf("Parse(%q) = nil error", body)
		}
	}
	s, err := Parse(strings.NewReader("# TYPE go_goroutines gauge\ngo_goroutines 12\n"))
	if err != nil || !s.Empty() {
		t.Errorf("a server publishing nothing servebench knows: %+v, %v", s, err)
	}
}

// A percent reporter is scaled into a fraction (none of the four servers
// needs it today: the table entry is for one that does).
func TestPercentScale(t *testing.T) {
	saved := sources
	defer func() { sources = saved }()
	sources = []source{{"x_kv_usage_percent", KVCacheUsage, kindGauge, aggMean, scalePercent}}
	s, err := Parse(strings.NewReader("# TYPE x_kv_usage_percent gauge\nx_kv_usage_percent 42\n"))
	if err != nil || s.Gauges[KVCacheUsage] != 0.42 {
		t.Errorf("percent: %v, %v", s.Gauges, err)
	}
}

// Not-a-number values (a gauge that was never set) are left out rather
// than written: JSON has no NaN.
func TestParseNaN(t *testing.T) {
	s, err := Parse(strings.NewReader("# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc NaN\n# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Gauges[KVCacheUsage]; ok || s.Gauges[Running] != 1 {
		t.Errorf("gauges %v", s.Gauges)
	}
}

func TestIncrease(t *testing.T) {
	for _, tc := range []struct {
		vs     []float64
		inc    float64
		resets int
	}{
		{nil, 0, 0},
		{[]float64{5}, 0, 0},
		{[]float64{5, 7, 10}, 5, 0},
		{[]float64{5, 10, 3, 4}, 5 + 3 + 1, 1}, // restarted between 10 and 3: the 3 counted from zero
	} {
		inc, resets := Increase(tc.vs)
		if inc != tc.inc || resets != tc.resets {
			t.Errorf("Increase(%v) = %v, %d; want %v, %d", tc.vs, inc, resets, tc.inc, tc.resets)
		}
	}
	sum, count, resets := HistogramIncrease([]Histogram{{Sum: 1, Count: 2}, {Sum: 3, Count: 5}, {Sum: 0.5, Count: 1}})
	if sum != 2.5 || count != 4 || resets != 1 {
		t.Errorf("HistogramIncrease = %v, %v, %d", sum, count, resets)
	}
}

func TestLineRoundTrip(t *testing.T) {
	f, _ := os.ReadFile("testdata/vllm.txt")
	s, _ := Parse(bytes.NewReader(f))
	l := Line{RunID: "r1", Label: "x", Concurrency: 4, Sample: s}
	l.At = l.At.Add(1)
	b, err := AppendLine(nil, &l)
	if err != nil {
		t.Fatal(err)
	}
	if !IsLine(b) {
		t.Fatalf("IsLine(%s) = false", b)
	}
	back, err := DecodeLine(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, l) {
		t.Errorf("round trip:\n%+v\n%+v", back, l)
	}
	if IsLine([]byte(`{"schema":1,"run_id":"r"}`)) {
		t.Error("a record is not a sample line")
	}
}

// FuzzParse: whatever /metrics says, Parse returns (never panics) and a
// sample it returns encodes as JSON (every value finite).
func FuzzParse(f *testing.F) {
	for _, name := range []string{"vllm.txt", "vllm-0.8.txt", "sglang.txt", "tgi.txt", "llamacpp.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("vllm:num_requests_running +Inf\n"))
	f.Add([]byte("# TYPE vllm:e2e_request_latency_seconds histogram\nvllm:e2e_request_latency_seconds_bucket{le=\"NaN\"} 1\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Parse(bytes.NewReader(body))
		if err != nil {
			return
		}
		l := Line{RunID: "r", Sample: s}
		l.At = l.At.Add(1)
		b, err := AppendLine(nil, &l)
		if err != nil {
			t.Fatalf("sample does not encode: %v (%+v)", err, s)
		}
		var back Line
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeLine: a sample line summarize reads beside the records never
// panics the reader, IsLine agrees with DecodeLine on the kind, and a line
// it accepts encodes and reads back the same.
func FuzzDecodeLine(f *testing.F) {
	b, _ := os.ReadFile("testdata/vllm.txt")
	s, _ := Parse(bytes.NewReader(b))
	l := Line{RunID: "r", Label: "x", Concurrency: 2, Sample: s}
	l.At = l.At.Add(5)
	line, _ := AppendLine(nil, &l)
	f.Add(line)
	f.Add([]byte(`{"kind":"server_metrics","run_id":"r","at":"2026-01-01T00:00:00Z","gauges":{"running":1e308},"histograms":{"ttft_seconds":{"sum":1,"count":2,"buckets":[{"le":0.1,"count":1}]}}}`))
	f.Add([]byte(`{"schema":1,"run_id":"r"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := DecodeLine(line)
		if err != nil {
			return
		}
		if !IsLine(line) {
			t.Fatalf("DecodeLine took %q, IsLine refuses it", line)
		}
		again, err := AppendLine(nil, &l)
		if err != nil {
			t.Fatalf("a decoded line does not encode: %v", err)
		}
		// What is written reads back as the same line: compared as
		// encoded, since decoding may keep what encoding normalises (a
		// time's representation, empty versus absent lists).
		back, err := DecodeLine(again)
		if err != nil {
			t.Fatalf("the line written does not read back (%v): %q", err, again)
		}
		twice, err := AppendLine(nil, &back)
		if err != nil || !bytes.Equal(twice, again) {
			t.Fatalf("round trip of %q:\n%s\n%s (%v)", line, again, twice, err)
		}
	})
}
