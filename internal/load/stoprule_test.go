package load

import (
	"testing"
	"time"
)

func TestFailWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rule    StopRule
		outcome string // F failed, . ok
		trip    int    // index of the attempt that trips it, -1 none
	}{
		{"not judged before the window is full", StopRule{0.5, 4}, "FFF", -1},
		{"all failed trips at the window", StopRule{0.5, 4}, "FFFF", 3},
		{"at the limit is not above it", StopRule{0.5, 4}, "FF..FF..", -1},
		{"one more failure is", StopRule{0.5, 4}, "FF..FF.F", 7},
		{"old failures leave the window", StopRule{0.25, 4}, "F.....F...F...", -1},
		{"zero rate: any failure in a full window", StopRule{0, 3}, "...F", 3},
		{"trips once", StopRule{0, 2}, "FFFF", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newFailWindow(tc.rule)
			got := -1
			for i, c := range tc.outcome {
				if _, trip := w.add(c == 'F'); trip {
					if got >= 0 {
						t.Fatalf("tripped twice: at %d and %d", got, i)
					}
					got = i
				}
			}
			if got != tc.trip {
				t.Errorf("tripped at %d, want %d", got, tc.trip)
			}
		})
	}
	if newFailWindow(StopRule{}) != nil {
		t.Error("a zero window must be no rule")
	}
}

func TestSearchResultString(t *testing.T) {
	nan := SearchResult{Dim: "rate", SLO: "ttft=500ms tpot=50ms", MinGoodput: 0.95, Points: 9, Elapsed: 192 * time.Second}
	for _, tc := range []struct {
		capacity, failed float64
		want             string
	}{
		{7.6, 8, "capacity 7.6 req/s (95% goodput for ttft<=500ms,tpot<=50ms); 7.6-8 bracket; 9 load points, 3m12s"},
		{0, 2, "capacity below 2 req/s (95% goodput for ttft<=500ms,tpot<=50ms); even the lowest load searched failed; 9 load points, 3m12s"},
		{64, 0, "capacity at least 64 req/s (95% goodput for ttft<=500ms,tpot<=50ms); the highest load searched passed; 9 load points, 3m12s"},
	} {
		r := nan
		r.Capacity, r.Failed = tc.capacity, tc.failed
		if got := r.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
	for in, want := range map[float64]float64{11.700000000000001: 11.7, 23.4: 23.4, 5860.4: 5860, 0.123456: 0.123456} {
		if got := roundLoad(in); got != want {
			t.Errorf("roundLoad(%v) = %v, want %v", in, got, want)
		}
	}
}

// TestSearchLengthensRatePoints: a rate point lasts long enough for an
// overload of Precision to break the SLO: L/(e·R) = 30ms/(0.05·0.8) =
// 750 ms, so 300 requests at 400 req/s, at most 20 times --requests.
func TestSearchLengthensRatePoints(t *testing.T) {
	s := &Search{Dim: "rate", MinGoodput: 0.8, Precision: 0.05, QueueLimit: 30 * time.Millisecond}
	if got := s.minWindow(); got != 750*time.Millisecond {
		t.Errorf("minWindow %v, want 750ms", got)
	}
	for _, tc := range []struct {
		load     float64
		requests int
		dur      time.Duration
		want     int
		short    bool
	}{
		{400, 40, 0, 300, false},
		{10, 40, 0, 40, false},   // 40 requests at 10 req/s last 4 s already
		{4000, 40, 0, 800, true}, // capped at 20 times
		{400, 0, time.Second, 0, false},
		{400, 0, time.Second / 2, 0, true},
	} {
		n, short := s.requestsAt(tc.load, &Config{Requests: tc.requests, Duration: tc.dur})
		if n != tc.want || short != tc.short {
			t.Errorf("requestsAt(%v, -n %d, --duration %v) = %d, %v; want %d, %v", tc.load, tc.requests, tc.dur, n, short, tc.want, tc.short)
		}
	}
	c := &Search{Dim: "concurrency", MinGoodput: 0.8, Precision: 0.05, QueueLimit: time.Second}
	if c.minWindow() != 0 {
		t.Error("a closed loop needs no minimum window")
	}
}
