package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai/openaitest"
)

// TestKeyNeverWritten runs every tool with an API key, from the environment
// and from a file, against a server that echoes the key in its errors, then
// greps every output and every file for it.
func TestKeyNeverWritten(t *testing.T) {
	const key = "sk-e2e-very-secret-4242"
	fake := &openaitest.Server{Model: "m", Tokens: 3}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			t.Errorf("request without the key: %s", r.URL)
		}
		if strings.HasSuffix(r.URL.Path, "/chat/completions") { // an echoing, rejecting endpoint
			w.WriteHeader(401)
			w.Write([]byte(`{"error":{"message":"Incorrect API key provided: ` + key + `"}}`))
			return
		}
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	env := "OPENAI_API_KEY=" + key + " "
	outputs := []string{}
	for _, script := range []string{
		env + "probe --smoke --json --url " + srv.URL,
		"probe --smoke --json --api-key-file " + quote(keyFile) + " --url " + srv.URL,
		env + "genload --url " + srv.URL + " -n 3 | tee " + quote(dir+"/ok.jsonl") + " | summarize --csv " + quote(dir+"/s.csv") + " --log " + quote(dir+"/s.log"),
		"genload --api-key-file " + quote(keyFile) + " --url " + srv.URL + "/v1/chat/completions -n 2 | tee " + quote(dir+"/rejected.jsonl") + " | summarize --format csv",
		env + "SERVEBENCH_BIN=" + quote(binDir) + " ../scripts/run_benchmarks.sh --url " + srv.URL + " --results " + quote(dir+"/results") +
			" --latency-requests 2 --throughput-requests 2 --concurrency 2",
	} {
		out, stderr, _ := sh(t, time.Minute, script)
		outputs = append(outputs, out, stderr)
	}
	if rejected, _ := os.ReadFile(dir + "/rejected.jsonl"); !strings.Contains(string(rejected), "provided: [redacted]") {
		t.Error("the echoed key should show as [redacted] in the rejected records")
	}
	for i, o := range outputs {
		if strings.Contains(o, key) {
			t.Errorf("output %d contains the key:\n%s", i, o)
		}
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == keyFile {
			return err
		}
		if data, _ := os.ReadFile(path); strings.Contains(string(data), key) {
			t.Errorf("%s contains the key", path)
		}
		return nil
	})
}
