package load

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Shard
		bad  bool
	}{
		{in: "0/3", want: Shard{0, 3}},
		{in: " 2/3 ", want: Shard{2, 3}},
		{in: "0/1", want: Shard{0, 1}}, // one shard: the whole run
		{in: "3/3", bad: true},         // K is 0-based
		{in: "-1/3", bad: true},
		{in: "1/0", bad: true},
		{in: "1", bad: true},
		{in: "a/b", bad: true},
		{in: "", bad: true},
	} {
		got, err := ParseShard(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v", tt.in, got, err)
		}
	}
	if s := (Shard{0, 1}); s.On() || s.String() != "" || !s.Owns(5) || s.Share(7) != 7 {
		t.Errorf("one shard is not the whole run: %+v", s)
	}
}

// TestShareAndOwnsAgree: the requests i mod N == K are exactly Share(R)
// of R, the shares add up to the total, and the remainder goes to the
// first shards.
func TestShareAndOwnsAgree(t *testing.T) {
	for n := 1; n <= 5; n++ {
		for total := 0; total <= 13; total++ {
			sum := 0
			for k := range n {
				s := Shard{k, n}
				owned := 0
				for i := range total {
					if s.Owns(i) {
						owned++
					}
				}
				if owned != s.Share(total) {
					t.Errorf("%d/%d of %d: owns %d, share %d", k, n, total, owned, s.Share(total))
				}
				if k > 0 && s.Share(total) > (Shard{k - 1, n}).Share(total) {
					t.Errorf("%d/%d of %d: a later shard got more", k, n, total)
				}
				sum += s.Share(total)
			}
			if sum != total {
				t.Errorf("%d shards of %d add up to %d", n, total, sum)
			}
		}
	}
}

func TestResolveStartAt(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 41, 5e8, time.UTC)
	for _, tt := range []struct {
		spec, base string
		want       time.Time
		bad        bool
	}{
		{spec: "2026-12-01T12:05:00Z", want: time.Date(2026, 12, 1, 12, 5, 0, 0, time.UTC)},
		{spec: "2026-12-01T13:05:00.25+01:00", want: time.Date(2026, 12, 1, 12, 5, 0, 25e7, time.UTC)},
		{spec: "+30s", want: time.Date(2026, 12, 1, 12, 1, 30, 0, time.UTC)}, // the next whole minute, plus 30 s
		{spec: "+0s", want: time.Date(2026, 12, 1, 12, 1, 0, 0, time.UTC)},
		{spec: "+30s", base: "2026-12-01T11:00:00Z", want: time.Date(2026, 12, 1, 11, 0, 30, 0, time.UTC)},
		{spec: "+30s", base: "yesterday", bad: true},
		{spec: "+-5s", bad: true},
		{spec: "+5", bad: true},
		{spec: "12:00", bad: true},
		{spec: "", bad: true},
	} {
		got, err := ResolveStartAt(tt.spec, tt.base, now)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("ResolveStartAt(%q, %q) = %v, %v", tt.spec, tt.base, got, err)
		}
	}
	// Shards launched seconds apart within the minute agree.
	a, _ := ResolveStartAt("+30s", "", now)
	b, _ := ResolveStartAt("+30s", "", now.Add(15*time.Second))
	if !a.Equal(b) {
		t.Errorf("shards 15 s apart disagree: %v, %v", a, b)
	}
}

func TestShardRunID(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	id := ShardRunID(at, 42)
	if id != ShardRunID(at, 42) || !strings.HasPrefix(id, "20261201T120000Z-s") {
		t.Errorf("run id %q", id)
	}
	if id == ShardRunID(at, 43) || id == ShardRunID(at.Add(time.Second), 42) {
		t.Error("different seeds or starts give the same run id")
	}
}

func TestShardConfigChecks(t *testing.T) {
	base := func() *Config {
		return &Config{URL: "http://127.0.0.1:1", Requests: 9, Concurrencies: []int{3}, Shard: Shard{1, 3}, RunID: "r",
			Dataset: dataset.Config{Prompts: []string{"hi"}}}
	}
	for name, tt := range map[string]struct {
		mutate func(*Config)
		want   string // "" = valid
	}{
		"ok":               {mutate: func(*Config) {}},
		"too few workers":  {mutate: func(c *Config) { c.Concurrencies = []int{4, 2} }, want: "Concurrencies 2 cannot be split into 3 shards"},
		"too few requests": {mutate: func(c *Config) { c.Requests = 2 }, want: "Requests 2 cannot be split"},
		"too small a cap":  {mutate: func(c *Config) { c.Concurrencies, c.Rates, c.MaxConcurrency = nil, []float64{5}, 2 }, want: "MaxConcurrency 2 cannot"},
		"no cap is fine":   {mutate: func(c *Config) { c.Concurrencies, c.Rates = nil, []float64{5} }},
		"no common run id": {mutate: func(c *Config) { c.RunID = "" }, want: "Shard needs a run id"},
		"run id from the start": {mutate: func(c *Config) {
			c.RunID, c.StartAt, c.Seed = "", time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), 5
		}},
	} {
		c := base()
		tt.mutate(c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", name, err, tt.want)
		}
		if name == "run id from the start" && c.RunID != ShardRunID(c.StartAt, 5) {
			t.Errorf("derived run id %q", c.RunID)
		}
	}
}

// shardRun runs one shard (or the whole run, Shard{}) against srv and
// returns its records.
func shardRun(t *testing.T, url string, s Shard, mutate func(*Config)) []record.Record {
	t.Helper()
	cfg := &Config{URL: url, Stream: true, MaxTokens: 4, Timeout: 5 * time.Second, Grace: time.Second, RunID: "r", Seed: 11,
		Shard: s, Dataset: dataset.Config{InputTokens: 12, InputTokensRange: 0.5}}
	mutate(cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var recs []record.Record
	rd := record.NewReader(&out, "out")
	for rd.Scan() {
		recs = append(recs, *rd.Record())
	}
	return recs
}

// sent is what a record says was sent: its index, phase, prompt length
// and load point (the whole run's, in every shard).
type sent struct {
	seq          int
	phase        string
	promptTokens int
	concurrency  int
	rate         float64
}

func sentOf(recs []record.Record) []sent {
	var out []sent
	for _, r := range recs {
		out = append(out, sent{r.Seq, r.Phase, r.PromptTokens, r.Concurrency, r.Rate})
	}
	slices.SortFunc(out, func(a, b sent) int { return a.seq - b.seq })
	return out
}

// TestShardsSendTheWholeRun: three shards together send the requests one
// process sends (same seq, phase, prompt, load point), each its share; in
// open loop at the same offsets from the common start.
func TestShardsSendTheWholeRun(t *testing.T) {
	f := &openaitest.Server{Tokens: 4}
	srv := httptestServer(t, f)
	for name, mutate := range map[string]func(*Config){
		"closed loop": func(c *Config) { c.Concurrencies, c.Requests, c.Warmup = []int{4}, 11, 2 },
		"sweep":       func(c *Config) { c.Concurrencies, c.Requests, c.Warmup = []int{3, 5}, 7, 1 },
		"open loop":   func(c *Config) { c.Rates, c.Requests, c.MaxConcurrency = []float64{200}, 20, 4 },
	} {
		whole := shardRun(t, srv, Shard{}, mutate)
		start := time.Now().Add(100 * time.Millisecond)
		var merged []record.Record
		for k := range 3 {
			recs := shardRun(t, srv, Shard{k, 3}, func(c *Config) { mutate(c); c.StartAt = start })
			for _, r := range recs {
				if r.Shard != (Shard{k, 3}).String() {
					t.Fatalf("%s: shard %d wrote seq %d as shard %q", name, k, r.Seq, r.Shard)
				}
			}
			merged = append(merged, recs...)
		}
		if a, b := sentOf(whole), sentOf(merged); !slices.Equal(a, b) {
			t.Errorf("%s: the shards sent\n%v\none process sent\n%v", name, b, a)
		}
		if name != "open loop" {
			continue
		}
		// Offsets from the start: one process's first request is at 0,
		// the shards' schedule counts from StartAt.
		at := map[int]time.Duration{}
		first := whole[slices.IndexFunc(whole, func(r record.Record) bool { return r.Seq == 0 })].ScheduledAt
		for _, r := range whole {
			at[r.Seq] = r.ScheduledAt.Sub(first)
		}
		for _, r := range merged {
			if got := r.ScheduledAt.Sub(start); got != at[r.Seq] {
				t.Errorf("seq %d at %v from the start, one process at %v", r.Seq, got, at[r.Seq])
			}
		}
	}
}

// TestLateShardCountsTheLag: a shard that reaches --start-at late keeps the
// schedule counted from it, and the lateness is in queue_ms.
func TestLateShardCountsTheLag(t *testing.T) {
	srv := httptestServer(t, &openaitest.Server{Tokens: 4})
	start := time.Now().Add(-300 * time.Millisecond)
	var stderr bytes.Buffer
	cfg := &Config{URL: srv, Stream: true, MaxTokens: 4, Timeout: 5 * time.Second, RunID: "r", Rates: []float64{100}, Requests: 3,
		Shard: Shard{0, 1}, StartAt: start, Dataset: dataset.Config{Prompts: []string{"hi"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), context.Background(), cfg, record.NewWriter(&out), &stderr); err != nil {
		t.Fatal(err)
	}
	rd := record.NewReader(&out, "out")
	for rd.Scan() {
		r := rd.Record()
		if r.Seq == 0 && (r.QueueMs < 250 || !r.ScheduledAt.Equal(start)) {
			t.Errorf("first request: queue %.1f ms, scheduled %v (start %v)", r.QueueMs, r.ScheduledAt, start)
		}
	}
	if !strings.Contains(stderr.String(), "after --start-at") {
		t.Errorf("stderr %q does not say the start was late", stderr.String())
	}
}

func httptestServer(t *testing.T, f *openaitest.Server) string {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

// FuzzParseShard: whatever the input, no panic; an accepted K/N is in
// range and reads back as itself.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/3", "2/3", "3/3", "-1/2", "1/0", " 1/2 ", "1/2/3", "+1/2", "01/02", "9223372036854775807/9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseShard(in)
		if err != nil {
			return
		}
		if s.K < 0 || s.K >= s.N {
			t.Fatalf("%q: accepted %+v", in, s)
		}
		if s.On() {
			if back, err := ParseShard(s.String()); err != nil || back != s {
				t.Fatalf("%q: %+v reads back as %+v, %v", in, s, back, err)
			}
		}
	})
}

// FuzzResolveStartAt: no panic; an accepted time is UTC, and a relative
// one is its base (or the next minute) plus a non-negative duration.
func FuzzResolveStartAt(f *testing.F) {
	for _, s := range []string{"+30s", "+0s", "+-1s", "+1h2m", "2026-12-01T12:00:00Z", "2026-12-01T12:00:00.5+01:00", "+", "", "+9999999h"} {
		f.Add(s, "")
		f.Add(s, "2026-12-01T11:00:00Z")
	}
	now := time.Date(2026, 12, 1, 12, 0, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec, base string) {
		at, err := ResolveStartAt(spec, base, now)
		if err != nil {
			return
		}
		if at.Location() != time.UTC {
			t.Fatalf("%q: %v is not UTC", spec, at)
		}
		if strings.HasPrefix(strings.TrimSpace(spec), "+") && base == "" && at.Before(now) {
			t.Fatalf("%q: %v is before now without a base", spec, at)
		}
	})
}

// TestShardProgressTotal: a shard's progress counts its share of each
// phase, not the whole run's.
func TestShardProgressTotal(t *testing.T) {
	cfg := &Config{Requests: 10, Warmup: 2, Points: []Point{{Concurrency: 3}, {Concurrency: 6}}, Shard: Shard{1, 3}}
	if got := (&progress{cfg: cfg}).requests(); got != (3+1)*2 {
		t.Errorf("shard 1/3 of 2 points of 2+10 requests: total %d, want 8", got)
	}
	cfg.Shard = Shard{}
	if got := (&progress{cfg: cfg}).requests(); got != 24 {
		t.Errorf("the whole run: total %d, want 24", got)
	}
}
