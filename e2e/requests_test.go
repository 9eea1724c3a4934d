package e2e

import (
	"encoding/json"
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
