package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTMLFile: --html writes the page beside the other outputs, with each
// group's first distinct failure messages (five at most, no repeats), and
// a comparison's page has its verdicts; a usage error writes no page.
func TestHTMLFile(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for seq := range 20 {
		r := okRecord("r1", seq, 100+float64(seq))
		if seq%2 == 1 {
			r = failed(r, "http")
			r.Error = "HTTP 500: boom " + string(rune('a'+seq%7))
		}
		in.WriteString(lines(t, r))
	}
	page := filepath.Join(dir, "r.html")
	if _, stderr, code := runArgs(t, in.String(), "--html", page, "--format", "csv"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(data)
	if n := strings.Count(html, "<li><code>http: HTTP 500: boom "); n != maxFailureMessages {
		t.Errorf("%d failure messages, want the first %d distinct ones:\n%s", n, maxFailureMessages, html)
	}
	if !strings.Contains(html, "10 (10 http)") || !strings.Contains(html, `id="ttft-cdf"`) {
		t.Error("page lacks the failure counts or the TTFT chart")
	}

	cmp := filepath.Join(dir, "c.html")
	if _, stderr, code := runArgs(t, "", "--html", cmp, "--baseline", filepath.Join(fixtures, oldFile), filepath.Join(fixtures, newFile)); code != 0 {
		t.Fatalf("comparison: exit %d: %s", code, stderr)
	}
	if data, _ := os.ReadFile(cmp); !strings.Contains(string(data), `id="comparison"`) || !strings.Contains(string(data), "worse") {
		t.Errorf("comparison page lacks its verdicts")
	}

	bad := filepath.Join(dir, "bad.html")
	if _, _, code := runArgs(t, in.String(), "--html", bad, "--format", "xml"); code != 2 {
		t.Errorf("bad format: exit %d", code)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a usage error wrote the page")
	}
}
