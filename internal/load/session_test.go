package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/dataset"
)

// TestProgressTotals: the progress line's total counts requests: turns of
// synthetic sessions, the replayed part of a trace, "?" for sessions of a
// file (their turns vary).
func TestProgressTotals(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.jsonl")
	os.WriteFile(trace, []byte(strings.Repeat(`{"offset_ms": 5, "input_tokens": 3, "output_tokens": 1}`+"\n", 9)), 0o644)
	convs := filepath.Join(dir, "c.jsonl")
	os.WriteFile(convs, []byte(`{"turns":["a","b"]}`+"\n"), 0o644)
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Requests: 4, Warmup: 1, Conversations: dataset.ConversationConfig{Turns: 3}, Dataset: dataset.Config{InputTokens: 2}}, "15"},
		{Config{Requests: 4, Conversations: dataset.ConversationConfig{File: convs}}, "?"},
		{Config{TraceFile: trace}, "9"},
		{Config{TraceFile: trace, Requests: 5}, "5"},
		{Config{Requests: 4, Concurrencies: []int{1, 2}}, "8"},
	} {
		cfg := tc.cfg
		cfg.URL, cfg.Model = "http://127.0.0.1:1", "m"
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		p := &progress{cfg: &cfg, start: time.Now()}
		if got := p.total(); got != tc.want {
			t.Errorf("%+v: total %s, want %s", tc.cfg, got, tc.want)
		}
	}
}
