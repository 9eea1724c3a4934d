package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestModelMix: one run over two models served by llmsim, weighted 3:1:
// every record says the model it asked for, the shares are exact, and
// summarize gives each model its own row.
func TestModelMix(t *testing.T) {
	url := startSim(t, "--model", "org/a", "--model", "org/b", "--ttft", "2ms", "--itl", "1ms")
	raw := quote(filepath.Join(t.TempDir(), "mix.jsonl"))
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" --model org/a,org/b --model-mix org/a=3,org/b=1 -n 8 -c 2 --max-tokens 4 -q | tee "+raw+" | summarize --format json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Groups []struct {
			Model    string `json:"model"`
			Requests int    `json:"requests"`
			OK       int    `json:"ok"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, g := range doc.Groups {
		if g.OK != g.Requests {
			t.Errorf("%s: %d of %d ok", g.Model, g.OK, g.Requests)
		}
		got[g.Model] = g.Requests
	}
	if len(doc.Groups) != 2 || got["org/a"] != 6 || got["org/b"] != 2 {
		t.Errorf("groups %+v, want org/a 6 and org/b 2", doc.Groups)
	}
	text, _, _ := sh(t, time.Minute, "summarize --brief "+raw)
	if !strings.Contains(text, "c=2 org/a ") || !strings.Contains(text, "c=2 org/b ") {
		t.Errorf("the table names each model's row:\n%s", text)
	}
	// A mix naming a model the server does not serve sends nothing.
	_, stderr, code = sh(t, time.Minute, "genload --url "+url+" --model org/a,org/c -n 2 -q")
	if code != 5 || !strings.Contains(stderr, `model "org/c" is not served`) {
		t.Errorf("unserved model in the mix: exit %d, %s", code, stderr)
	}
}

// TestRequestIDsAndHeaders: every request carries x-request-id
// <run_id>-<seq>, unique, equal to its record's request_id; --header adds
// to every request and can fix the id; a header that would split the
// request is refused before anything is sent.
func TestRequestIDsAndHeaders(t *testing.T) {
	log := filepath.Join(t.TempDir(), "requests.jsonl")
	url := startSim(t, "--ttft", "1ms", "--itl", "1ms", "--log-requests", log)
	out, stderr, code := sh(t, time.Minute, "genload --url "+url+" -n 5 -c 2 --max-tokens 3 -q --run-id rid --header 'X-Tenant: team-a' --header 'User-Agent: bench/1'")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recorded := map[string]bool{}
	for _, r := range readRecords(t, strings.NewReader(out)) {
		recorded[r.RequestID] = true
	}
	sent := map[string]bool{}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var req struct {
			Headers map[string][]string `json:"headers"`
		}
		if err := json.Unmarshal([]byte(l), &req); err != nil {
			t.Fatal(err)
		}
		id := strings.Join(req.Headers["x-request-id"], ",")
		if sent[id] || !recorded[id] || strings.Join(req.Headers["x-tenant"], ",") != "team-a" || strings.Join(req.Headers["user-agent"], ",") != "bench/1" {
			t.Errorf("request %s: id %q (records %v)", l, id, recorded)
		}
		sent[id] = true
	}
	if len(sent) != 5 || !sent["rid-0"] || !sent["rid-4"] {
		t.Errorf("ids sent %v, want rid-0..rid-4", sent)
	}
	out, _, code = sh(t, time.Minute, "genload --url "+url+" -n 2 --max-tokens 3 -q --header 'X-Request-Id: fixed-1'")
	for _, r := range readRecords(t, strings.NewReader(out)) {
		if code != 0 || r.RequestID != "fixed-1" {
			t.Errorf("fixed id: exit %d, request_id %q", code, r.RequestID)
		}
	}
	_, stderr, code = sh(t, time.Minute, "genload --url "+url+" -n 1 -q --header \"X-A: $(printf 'a\\rX-Injected: 1')\"")
	if code != 2 || !strings.Contains(stderr, "control character") {
		t.Errorf("CR in a header: exit %d, %s", code, stderr)
	}
}
