package load

import "testing"

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
