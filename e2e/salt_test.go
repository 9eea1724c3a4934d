package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"servebench/internal/record"
)

// saltRun runs genload against a fresh llmsim logging its requests and
// returns the records and the logged requests in arrival order of seq.
func saltRun(t *testing.T, flags string) ([]record.Record, []loggedRequest) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "requests.jsonl")
	url := startSim(t, "--ttft", "1ms", "--itl", "1ms", "--log-requests", log)
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" "+flags+" -q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := readRecords(t, strings.NewReader(out))
	slices.SortFunc(recs, func(a, b record.Record) int { return a.Seq - b.Seq })
	reqs := readRequestLog(t, log)
	var ordered []loggedRequest
	for _, r := range recs {
		ordered = append(ordered, reqs[r.RequestID])
	}
	return recs, ordered
}

// firstText is the text a request leads with: its prompt, or its first
// message.
func firstText(r loggedRequest) string {
	if len(r.Body.Messages) > 0 {
		return r.Body.Messages[0].Content
	}
	return r.Body.Prompt
}

// TestColdCacheSalt: two runs of one --seed lead every prompt with a salt
// of 4 words, the same in all requests of a run (conversations included:
// every session's first message) and another in the other run, the rest as
// the seed says; --same-prompts sends the same bytes in both runs. The
// records say which (prompt_salt). Once llmsim has a prefix cache, the
// second salted run must show no cached tokens, and a --same-prompts
// repeat against the same server must: extend here.
func TestColdCacheSalt(t *testing.T) {
	for _, flags := range []string{
		"--endpoint chat --input-tokens 20 --max-tokens 2 -n 6 -c 2 --seed 4",
		"--endpoint completions --turns 2 --input-tokens 10 --max-tokens 2 -n 3 -c 3 --seed 4",
	} {
		var salts []string
		var rests [][]string
		for range 2 {
			recs, reqs := saltRun(t, flags)
			runSalts := map[string]bool{}
			var rest []string
			for i, r := range reqs {
				if recs[i].PromptSalt != record.SaltRun {
					t.Fatalf("%s: prompt_salt %q, want %q", flags, recs[i].PromptSalt, record.SaltRun)
				}
				w := strings.Fields(firstText(r))
				runSalts[strings.Join(w[:4], " ")] = true
				if recs[i].Turn <= 1 {
					rest = append(rest, strings.Join(w[4:], " "))
				}
			}
			if len(runSalts) != 1 {
				t.Fatalf("%s: %d salts in one run: %v", flags, len(runSalts), runSalts)
			}
			for s := range runSalts {
				salts = append(salts, s)
			}
			slices.Sort(rest) // sessions' first turns go out in any order
			rests = append(rests, rest)
		}
		if salts[0] == salts[1] {
			t.Errorf("%s: two runs had the same salt %q", flags, salts[0])
		}
		if !slices.Equal(rests[0], rests[1]) {
			t.Errorf("%s: past the salt, one seed sent other prompts", flags)
		}
	}
	var bodies [2][]string
	for i := range bodies {
		recs, reqs := saltRun(t, "--endpoint chat --input-tokens 20 --max-tokens 2 -n 4 --seed 4 --same-prompts")
		for j, r := range reqs {
			if recs[j].PromptSalt != record.SaltOff {
				t.Fatalf("--same-prompts: prompt_salt %q", recs[j].PromptSalt)
			}
			bodies[i] = append(bodies[i], firstText(r))
		}
	}
	if !slices.Equal(bodies[0], bodies[1]) {
		t.Errorf("--same-prompts: two runs of one seed sent other prompts:\n%q\n%q", bodies[0], bodies[1])
	}
}
