package summary

import (
	"strings"
	"testing"

	"servebench/internal/record"
)

// TestBy: --by turn splits a run's load point by turn, each group with its
// TTFT, sessions and turns; fields combine; a field a line leaves out reads
// none.
func TestBy(t *testing.T) {
	var recs []record.Record
	for s := 1; s <= 3; s++ {
		for turn := 1; turn <= 2; turn++ {
			r := okRecord("r", 2*s+turn, 100)
			r.SessionID, r.Turn, r.HistoryMessages = "r-s"+string(rune('0'+s)), turn, 2*turn-1
			r.TTFTMs = record.Float(float64(10 * turn))
			recs = append(recs, r)
		}
	}
	single := okRecord("r", 20, 100)
	recs = append(recs, single)
	by, err := ParseBy("turn")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAggregator(WithBy(by))
	for i := range recs {
		a.Add(&recs[i])
	}
	groups := a.Groups([]float64{50})
	if len(groups) != 3 {
		t.Fatalf("%d groups", len(groups))
	}
	for i, want := range []struct {
		by                      string
		requests, sessions, ttp int
		ttft                    float64
	}{{"turn=1", 3, 3, 3, 10}, {"turn=2", 3, 3, 3, 20}, {"turn=none", 1, 0, 0, 10}} {
		g := groups[i]
		if g.By != want.by || g.Requests != want.requests || g.Sessions != want.sessions || g.Turns != want.ttp || g.Metrics[TTFT].Median != want.ttft {
			t.Errorf("group %d: by %q requests %d sessions %d turns %d ttft %v; want %+v", i, g.By, g.Requests, g.Sessions, g.Turns, g.Metrics[TTFT].Median, want)
		}
		if !strings.HasSuffix(g.String(), ", "+want.by) {
			t.Errorf("name %q", g.String())
		}
	}
	whole := summarizeRecords([]float64{50}, recs...)
	if len(whole) != 1 || whole[0].Sessions != 3 || whole[0].Turns != 6 || whole[0].Requests != 7 {
		t.Errorf("without --by: %+v", whole)
	}
	two, _ := ParseBy("model, turn")
	if got := byValue(&recs[0], two); got != "model=m turn=1" {
		t.Errorf("two fields: %q", got)
	}
	if got := byValue(&single, []string{"ttfo_ms", "ok", "rate", "sent_at"}); got != "ttfo_ms=none ok=true rate=0 sent_at=2026-11-27T12:00:20Z" {
		t.Errorf("formats: %q", got)
	}
}

func TestParseBy(t *testing.T) {
	for s, want := range map[string]string{
		"nope":      `no record field "nope" (fields: cached_tokens,`,
		"turn,":     "an empty field name",
		"itl_ms":    "a list of samples",
		"turn,turn": "names turn twice",
	} {
		if _, err := ParseBy(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
	if f, err := ParseBy(" "); err != nil || f != nil {
		t.Errorf("empty: %v %v", f, err)
	}
}

// FuzzParseBy: any list parses to known, distinct fields or fails.
func FuzzParseBy(f *testing.F) {
	f.Add("turn")
	f.Add("model, url,session_id")
	f.Fuzz(func(t *testing.T, s string) {
		fields, err := ParseBy(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, name := range fields {
			if _, ok := recordFields[name]; !ok || seen[name] {
				t.Fatalf("%q gave %q", s, fields)
			}
			seen[name] = true
		}
		byValue(&record.Record{}, fields)
	})
}

// TestSaltedHitsWarning: a salted run's first request (lowest seq) served
// cached tokens is said: nothing of the run came before it, and its salt
// leads its prompt. Hits on later requests are the run's own sharing (a
// repeated literal prompt, a shared prefix, a conversation's history) and
// are not; nor are runs with --same-prompts or records without prompt_salt.
func TestSaltedHitsWarning(t *testing.T) {
	warned := func(salt string, recs ...[2]int) bool { // each {seq, cached}
		var rs []record.Record
		for _, sc := range recs {
			r := okRecord("r", sc[0], 100)
			r.PromptSalt, r.CachedTokens = salt, sc[1]
			rs = append(rs, r)
		}
		g := summarizeRecords([]float64{50}, rs...)[0]
		for _, w := range g.Warnings {
			if strings.Contains(w, "did not start cold") {
				return true
			}
		}
		return false
	}
	if !warned(record.SaltRun, [2]int{0, 16}) || !warned(record.SaltRun, [2]int{3, 0}, [2]int{1, 32}, [2]int{2, 0}) {
		t.Error("a salted run's first request served from the cache is not said")
	}
	if warned(record.SaltRun, [2]int{0, 0}, [2]int{1, 48}, [2]int{2, 48}) || warned(record.SaltOff, [2]int{0, 16}) || warned("", [2]int{0, 16}) {
		t.Error("warned where no warm cache is in question")
	}
}
