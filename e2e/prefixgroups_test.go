package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPrefixGroups: --prefix-groups 5 sends 5 distinct 20-word prefixes
// (llmsim's request log), every request one of them and then words of its
// own; with --prefix-mix zipf:1.5 the most frequent group takes about
// 1/H(5, 1.5) = 57% of the requests, uniform about 20%.
func TestPrefixGroups(t *testing.T) {
	for mix, share := range map[string]float64{"uniform": 0.2, "zipf:1.5": 0.57} {
		t.Run(mix, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "requests.jsonl")
			url := startSim(t, "--ttft", "1ms", "--itl", "1ms", "--log-requests", log)
			_, stderr, code := sh(t, time.Minute, "genload --url "+url+" --input-tokens 10 --shared-prefix-tokens 20 --prefix-groups 5 --prefix-mix "+mix+" -n 300 -c 4 --max-tokens 2 --seed 2 -q > /dev/null")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			groups, tails := map[string]int{}, map[string]bool{}
			for _, r := range readRequestLog(t, log) {
				w := strings.Fields(r.Body.Prompt)[4:] // after the run's salt
				if len(w) != 30 {
					t.Fatalf("%d words, want 20 + 10", len(w))
				}
				groups[strings.Join(w[:20], " ")]++
				tails[strings.Join(w[20:], " ")] = true
			}
			if len(groups) != 5 || len(tails) != 300 {
				t.Fatalf("%d prefixes, %d distinct rests; want 5 and 300", len(groups), len(tails))
			}
			var counts []int
			for _, n := range groups {
				counts = append(counts, n)
			}
			slices.Sort(counts)
			if top := float64(counts[4]) / 300; top < share-0.1 || top > share+0.1 {
				t.Errorf("the most frequent group has %.0f%% of the requests (%v), want about %.0f%%", 100*top, counts, 100*share)
			}
		})
	}
}
