package openai

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestTLSConfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":[{"id":"m"}]}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	target, _ := ParseTarget(srv.URL)
	list := func(caFile string, insecure bool) error {
		cfg, err := TLSConfig(caFile, insecure)
		if err != nil {
			return err
		}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		_, err = ListModels(context.Background(), hc, target, "")
		return err
	}
	if err := list("", false); err == nil {
		t.Error("an unknown CA was accepted")
	}
	if err := list(ca, false); err != nil {
		t.Errorf("with --ca-cert: %v", err)
	}
	if err := list("", true); err != nil {
		t.Errorf("with --insecure: %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a cert"), 0o600)
	if _, err := TLSConfig(bad, false); err == nil {
		t.Error("a file without PEM was accepted")
	}
}

func TestAPIKey(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "key")
	os.WriteFile(f, []byte("  sk-from-file \nsecond line\n"), 0o600)
	t.Setenv("OPENAI_API_KEY", "")
	if k, err := APIKey("", f); err != nil || k != "sk-from-file" {
		t.Errorf("file: %q %v", k, err)
	}
	if k, _ := APIKey("sk-flag", ""); k != "sk-flag" {
		t.Errorf("flag: %q", k)
	}
	if _, err := APIKey("sk-flag", f); err == nil {
		t.Error("flag and file both accepted")
	}
	t.Setenv("OPENAI_API_KEY", "sk-env")
	if k, err := APIKey("sk-env", f); err != nil || k != "sk-from-file" { // the file beats the environment
		t.Errorf("env and file: %q %v", k, err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	if _, err := APIKey("", empty); err == nil {
		t.Error("empty key file accepted")
	}
}

// TestAPIKeyChecked: a key is trimmed; one with a control character inside
// (a CR or LF would end the Authorization header) is refused.
func TestAPIKeyChecked(t *testing.T) {
	if k, err := APIKey("  sk-abc\r\n", ""); err != nil || k != "sk-abc" {
		t.Errorf("got %q %v", k, err)
	}
	for _, bad := range []string{"sk-a\r\nX-Injected: 1", "sk\x00a", "sk\x7fa"} {
		if _, err := APIKey(bad, ""); !errors.Is(err, ErrKeyControl) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
