// Package docs holds servebench's manual (the Markdown pages beside this
// file) and a test that keeps its links working. It has no Go code of its
// own.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pages are the Markdown files whose links are checked, relative to this
// directory: the README and every page here.
func pages(t *testing.T) []string {
	t.Helper()
	here, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, here...)
}

// link is a Markdown link or image target, where it was found.
type link struct {
	line   int
	target string
}

var (
	// linkRE matches [text](target) and ![alt](target), with an optional
	// "title" after the target.
	linkRE = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// codeSpanRE matches inline code, whose brackets are not links.
	codeSpanRE = regexp.MustCompile("`[^`]*`")
	headingRE  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

// scan returns the links of a Markdown text and the anchors its headings
// define, skipping fenced code blocks.
func scan(text string) (links []link, anchors map[string]bool) {
	anchors = map[string]bool{}
	seen := map[string]int{}
	fence := ""
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			s := slug(m[1])
			if n := seen[s]; n > 0 {
				anchors[fmt.Sprintf("%s-%d", s, n)] = true
			} else {
				anchors[s] = true
			}
			seen[s]++
		}
		for _, m := range linkRE.FindAllStringSubmatch(codeSpanRE.ReplaceAllString(line, ""), -1) {
			links = append(links, link{i + 1, m[1]})
		}
	}
	return links, anchors
}

// slug is GitHub's anchor for a heading: the text without markup, lower
// case, punctuation other than '-' and '_' dropped, spaces made hyphens.
func slug(heading string) string {
	heading = linkRE.ReplaceAllStringFunc(heading, func(s string) string {
		return s[strings.Index(s, "[")+1 : strings.Index(s, "]")]
	})
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"Goodput: `--slo` and `--min-goodput-ratio`":       "goodput---slo-and---min-goodput-ratio",
		"CSV columns (and JSON keys)":                      "csv-columns-and-json-keys",
		"The statistics, and how many runs you need":       "the-statistics-and-how-many-runs-you-need",
		"Testing against a real engine (`make test-real`)": "testing-against-a-real-engine-make-test-real",
		"See [the table](#x)":                              "see-the-table",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

// TestLinks: every relative link of the README and the docs pages names a
// file that exists and, with a #fragment into a Markdown page, a heading of
// that page.
func TestLinks(t *testing.T) {
	anchorsOf := map[string]map[string]bool{}
	texts := map[string]string{}
	load := func(path string) (map[string]bool, error) {
		path = filepath.Clean(path)
		if a, ok := anchorsOf[path]; ok {
			return a, nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		texts[path] = string(data)
		_, a := scan(string(data))
		anchorsOf[path] = a
		return a, nil
	}
	checked := 0
	for _, page := range pages(t) {
		if _, err := load(page); err != nil {
			t.Fatal(err)
		}
		links, _ := scan(texts[filepath.Clean(page)])
		name := strings.TrimPrefix(page, "../")
		if name == page {
			name = "docs/" + page
		}
		for _, l := range links {
			if strings.Contains(l.target, "://") || strings.HasPrefix(l.target, "mailto:") {
				continue
			}
			checked++
			file, frag, _ := strings.Cut(l.target, "#")
			target := page
			if file != "" {
				target = filepath.Join(filepath.Dir(page), file)
			}
			info, err := os.Stat(target)
			if err != nil {
				t.Errorf("%s:%d: link %s: no file %s", name, l.line, l.target, file)
				continue
			}
			if frag == "" || info.IsDir() || !strings.HasSuffix(target, ".md") {
				continue
			}
			anchors, err := load(target)
			if err != nil {
				t.Errorf("%s:%d: link %s: %v", name, l.line, l.target, err)
				continue
			}
			if !anchors[frag] {
				t.Errorf("%s:%d: link %s: %s has no heading #%s", name, l.line, l.target, file, frag)
			}
		}
	}
	if checked == 0 {
		t.Error("no relative links found: is the scan broken?")
	}
	t.Logf("%d relative links checked", checked)
}
