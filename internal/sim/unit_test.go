package sim

import (
	"encoding/json"
	"testing"
	"time"
)

func TestCountWords(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"   \t\n", 0},
		{"one", 1},
		{" one  two\tthree\nfour ", 4},
		{"héllo wörld", 2},
		{"a\u00a0b", 2}, // no-break space separates, as unicode.IsSpace says
		{"日本語 テキスト", 2}, // no spaces inside CJK runs: one word each
	}
	for _, tt := range tests {
		if got := countWords(tt.in); got != tt.want {
			t.Errorf("countWords(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestPromptTokens(t *testing.T) {
	tests := []struct {
		raw  string
		want int // -1: a 400
	}{
		{`"a b c"`, 3},
		{`["a b"]`, 2},
		{`[1, 2, 3]`, 3},   // token ids
		{`[[5, 6]]`, 2},    // one list of token ids
		{`["a", "b"]`, -1}, // batches are not supported
		{`[]`, -1},
		{`""`, -1},
		{`null`, -1},
		{``, -1},
		{`{"a":1}`, -1},
		{`[true]`, -1},
	}
	for _, tt := range tests {
		got, err := promptTokens(json.RawMessage(tt.raw))
		if tt.want < 0 {
			if err == nil || err.code != 400 {
				t.Errorf("promptTokens(%s) = %d, %v; want a 400", tt.raw, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("promptTokens(%s) = %d, %v; want %d", tt.raw, got, err, tt.want)
		}
	}
}

func FuzzPromptTokens(f *testing.F) {
	for _, s := range []string{`"a b"`, `[1,2]`, `[["x"]]`, `[[1]]`, `["a"]`, `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := promptTokens(json.RawMessage(raw))
		if err == nil && n < 1 {
			t.Errorf("promptTokens(%q) accepted %d tokens", raw, n)
		}
	})
}

func TestEngineClock(t *testing.T) {
	const ms = time.Millisecond
	c := engineClock{stallAt: 100 * ms, stall: 50 * ms}
	tests := []struct {
		real, engine time.Duration
	}{
		{0, 0},
		{99 * ms, 99 * ms},
		{100 * ms, 100 * ms}, // the stall starts: engine time stops...
		{120 * ms, 100 * ms},
		{150 * ms, 100 * ms}, // ...and resumes at its end
		{170 * ms, 120 * ms},
	}
	for _, tt := range tests {
		if got := c.toEngine(tt.real); got != tt.engine {
			t.Errorf("toEngine(%v) = %v, want %v", tt.real, got, tt.engine)
		}
	}
	// Tokens due before the stall are on time; after it, late by its length.
	for _, tt := range []struct{ engine, real time.Duration }{{99 * ms, 99 * ms}, {100 * ms, 150 * ms}, {120 * ms, 170 * ms}} {
		if got := c.toReal(tt.engine); got != tt.real {
			t.Errorf("toReal(%v) = %v, want %v", tt.engine, got, tt.real)
		}
	}
	if none := (engineClock{stallAt: 5}); none.toEngine(7) != 7 || none.toReal(7) != 7 {
		t.Error("a zero stall must be the identity")
	}
}

func TestSlotsFIFO(t *testing.T) {
	s := newSlots(1)
	if _, ok := s.acquire(nil, mono()); !ok {
		t.Fatal("first acquire failed")
	}
	order := make(chan int, 3)
	cancelled := make(chan struct{})
	for i := range 3 {
		done := (<-chan struct{})(nil)
		if i == 1 {
			done = cancelled // the middle one gives up while queued
		}
		go func() {
			if _, ok := s.acquire(done, mono()); ok {
				order <- i
				s.release()
			}
		}()
		for s.waiting.Load() != int64(i+1) {
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(cancelled)
	for s.waiting.Load() != 2 {
		time.Sleep(100 * time.Microsecond)
	}
	s.release()
	if a, b := <-order, <-order; a != 0 || b != 2 {
		t.Errorf("admitted %d then %d, want 0 then 2", a, b)
	}
	for s.running.Load() != 0 {
		time.Sleep(100 * time.Microsecond)
	}
	if s.waiting.Load() != 0 {
		t.Errorf("waiting %d after all left", s.waiting.Load())
	}
}

func TestRNGLength(t *testing.T) {
	// Each token after the first ends the output with probability p: the
	// mean length of an uncapped output is 1 + 1/p.
	const p, trials = 0.25, 20000
	sum := 0
	for i := range trials {
		r := newRNG(1, uint64(i))
		n, stopped := r.length(1000, p)
		if !stopped || n < 2 {
			t.Fatalf("length %d stopped %v", n, stopped)
		}
		sum += n
	}
	if mean := float64(sum) / trials; mean < 4.8 || mean > 5.2 {
		t.Errorf("mean length %.2f, want about %.2f", mean, 1+1/p)
	}
	if r := newRNG(1, 1); func() bool { n, s := r.length(1, 1); return n != 1 || s }() {
		t.Error("max_tokens 1 must give one token, finish length")
	}
}

// TestSleeperPrecision checks the waker directly: never early, and late by
// well under a millisecond at the median.
func TestSleeperPrecision(t *testing.T) {
	w := getWaker()
	s := newSleeper()
	var late []time.Duration
	for i := range 30 {
		at := mono() + 3*time.Millisecond + time.Duration(i*97)*time.Microsecond
		if !s.sleepUntil(w, nil, at) {
			t.Fatal("sleepUntil gave up")
		}
		l := mono() - at
		if l < 0 {
			t.Fatalf("woke %v early", -l)
		}
		late = append(late, l)
	}
	t.Logf("median lateness %v (waker available: %v)", median(late), w != nil)
	if m := median(late); w != nil && m > 500*time.Microsecond {
		t.Errorf("median lateness %v, want < 0.5ms", m)
	}
	done := make(chan struct{})
	close(done)
	if s.sleepUntil(w, done, mono()+time.Second) {
		t.Error("sleepUntil ignored done")
	}
}
