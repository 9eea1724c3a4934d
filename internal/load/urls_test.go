package load

import (
	"strings"
	"testing"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

func TestURLsConfig(t *testing.T) {
	for name, tt := range map[string]struct {
		urls []string
		mix  string
		want string // "" = valid
	}{
		"one":              {urls: []string{"http://a:1"}},
		"two":              {urls: []string{"http://a:1", "http://b:1/v1"}},
		"least-inflight":   {urls: []string{"http://a:1", "http://b:1"}, mix: URLLeastInflight},
		"unknown mix":      {urls: []string{"http://a:1", "http://b:1"}, mix: "fastest", want: "URLMix \"fastest\""},
		"unknown, one URL": {urls: []string{"http://a:1"}, mix: "fastest", want: "URLMix"},
		"twice":            {urls: []string{"http://a:1", "http://a:1/v1"}, want: "names http://a:1/v1/completions twice"},
		"bad second":       {urls: []string{"http://a:1", "b:1"}, want: "bad URL"},
		"other endpoint":   {urls: []string{"http://a:1", "http://b:1/v1/chat/completions"}, want: "names the chat endpoint"},
	} {
		c := &Config{URL: tt.urls[0], URLs: tt.urls, URLMix: tt.mix, Requests: 1, Dataset: dataset.Config{Prompts: []string{"x"}}}
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", name, err, tt.want)
		case tt.want == "" && len(tt.urls) > 1 && (len(c.targets) != len(tt.urls) || c.URLMix == ""):
			t.Errorf("%s: targets %v, mix %q", name, c.targets, c.URLMix)
		}
	}
}

// TestReplicaPick: round-robin and random are functions of the request
// index (the same in every shard), random's shares are fair, and
// least-inflight goes where fewest are in flight.
func TestReplicaPick(t *testing.T) {
	rs := &replicas{list: []*replica{{}, {}, {}}, mix: URLRoundRobin, seed: 3}
	for seq := range 9 {
		if rs.pick(job{seq: seq}) != rs.list[seq%3] {
			t.Fatalf("round-robin: seq %d", seq)
		}
	}
	rs.mix = URLRandom
	count := map[*replica]int{}
	for seq := range 3000 {
		p := rs.pick(job{seq: seq})
		if p != rs.pick(job{seq: seq}) {
			t.Fatal("random: the same request went to two replicas")
		}
		count[p]++
	}
	for i, r := range rs.list {
		if c := count[r]; c < 900 || c > 1100 { // 1000 ± 3.5 sigma
			t.Errorf("random: replica %d got %d of 3000", i, c)
		}
	}
	rs.mix = URLLeastInflight
	rs.list[0].inflight.Store(2)
	rs.list[1].inflight.Store(1)
	rs.list[2].inflight.Store(3)
	if rs.pick(job{seq: 0}) != rs.list[1] {
		t.Error("least-inflight did not pick the least loaded")
	}
	rs.list[2].inflight.Store(1)
	if rs.pick(job{seq: 2}) != rs.list[2] || rs.pick(job{seq: 1}) != rs.list[1] {
		t.Error("least-inflight: ties do not go round-robin")
	}
}

// TestRequestsSplitAcrossReplicas: each replica gets its share, and each
// record names the replica that answered it; least-inflight sends fewer
// requests to a replica that is ten times slower.
func TestRequestsSplitAcrossReplicas(t *testing.T) {
	fast := &openaitest.Server{Tokens: 2, TTFT: 2 * time.Millisecond}
	slow := &openaitest.Server{Tokens: 2, TTFT: 40 * time.Millisecond}
	a, b := httptestServer(t, fast), httptestServer(t, slow)
	// Streamed on the read loop too: one loop serves every replica.
	for _, mix := range []string{URLRoundRobin, URLLeastInflight, URLRoundRobin + "/loop"} {
		fast.Completions.Store(0)
		slow.Completions.Store(0)
		loop := strings.HasSuffix(mix, "/loop")
		mix = strings.TrimSuffix(mix, "/loop")
		recs := shardRun(t, a, Shard{}, func(c *Config) {
			c.URLs, c.URLMix, c.Concurrencies, c.Requests = []string{a, b}, mix, []int{4}, 40
			c.Stream = loop
			if loop {
				c.Reads = ReadsLoop
			}
		})
		byURL := map[string]int{}
		for _, r := range recs {
			byURL[r.URL]++
		}
		fa, sb := byURL[a+"/v1/completions"], byURL[b+"/v1/completions"]
		if fa != int(fast.Completions.Load()) || sb != int(slow.Completions.Load()) || fa+sb != 40 {
			t.Fatalf("%s: records %v, servers answered %d and %d", mix, byURL, fast.Completions.Load(), slow.Completions.Load())
		}
		switch mix {
		case URLRoundRobin:
			if fa != 20 || sb != 20 {
				t.Errorf("round-robin: %d and %d, want 20 each", fa, sb)
			}
			for _, r := range recs {
				if want := []string{a, b}[r.Seq%2] + "/v1/completions"; r.URL != want {
					t.Errorf("round-robin: seq %d went to %s", r.Seq, r.URL)
				}
			}
		case URLLeastInflight:
			if sb >= fa {
				t.Errorf("least-inflight: the slow replica got %d, the fast %d", sb, fa)
			}
		}
		for _, r := range recs {
			if !r.OK || r.Phase != record.PhaseMeasure {
				t.Errorf("%s: %+v", mix, r)
			}
		}
	}
}
