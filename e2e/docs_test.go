package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"servebench/e2e/e2etest"
)

// The manual runs: TestDocExamples executes every shell example of
// README.md and docs/*.md against llmsim, as benchstat's doc test runs its
// documented examples, so that a flag renamed or an exit code changed
// breaks the build rather than the reader's paste.
//
// An example is a fenced block marked sh (or bash, shell) that runs a
// servebench command: probe, genload, summarize, llmsim or
// scripts/run_benchmarks.sh. Other blocks (make, cron lines, output) are
// prose. The blocks of one page run in order in one temporary directory, so
// that an example that writes runs.jsonl feeds the next, each under
// bash -e -o pipefail with the binaries first on PATH. An HTML comment on
// the line before the fence changes what is expected:
//
//	<!-- exit 10 -->           the block ends with exit code 10 (default 0)
//	<!-- skip: REASON -->      not run (a GPU server, a long run): reported
//	                           as a skipped subtest with REASON
//
// The documented server, http://localhost:8000, is an llmsim started for
// the page (default flags) and given as SERVEBENCH_URL too. A block that
// starts llmsim itself (a line "llmsim ... &", or an llmsim that serves
// until stopped) gets that llmsim on a free port instead, checked by its
// startup line and stopped when the block ends; the URLs of its documented
// --addr (default 127.0.0.1:8000) are rewritten to it.

// docExample is one runnable block of a page.
type docExample struct {
	line     int    // of the opening fence
	script   string // the block's text
	exitCode int    // expected
	skip     string // why it is not run, "" to run it
}

var (
	docMarkerRE = regexp.MustCompile(`^<!--\s*(exit\s+(\d+)|skip:\s*(.*?))\s*-->$`)
	// docCommandRE finds a servebench command where a shell runs one: at
	// the start of a line or after a pipe, ;, &, ( or a word such as flock.
	docCommandRE = regexp.MustCompile(`(^|[\s|;&(])(probe|genload|summarize|llmsim|scripts/run_benchmarks\.sh)(\s|$)`)
	docAddrRE    = regexp.MustCompile(`--addr[ =](\S+)`)
)

// parseDocExamples returns the runnable blocks of a Markdown page.
func parseDocExamples(t *testing.T, page, text string) []docExample {
	t.Helper()
	var examples []docExample
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		info := strings.TrimSpace(strings.TrimPrefix(fence, "```"))
		start := i
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		if info != "sh" && info != "bash" && info != "shell" {
			continue
		}
		ex := docExample{line: start + 1, script: strings.Join(body, "\n")}
		if !runsServebench(ex.script) {
			continue
		}
		if start > 0 {
			if m := docMarkerRE.FindStringSubmatch(strings.TrimSpace(lines[start-1])); m != nil {
				if m[2] != "" {
					ex.exitCode, _ = strconv.Atoi(m[2])
				} else {
					ex.skip = m[3]
				}
			} else if strings.HasPrefix(strings.TrimSpace(lines[start-1]), "<!--") {
				t.Errorf("%s:%d: unknown marker %q (want <!-- exit N --> or <!-- skip: REASON -->)", page, start, lines[start-1])
			}
		}
		examples = append(examples, ex)
	}
	return examples
}

// runsServebench says whether a block runs a servebench command outside
// its comments.
func runsServebench(script string) bool {
	for _, line := range strings.Split(script, "\n") {
		if docCommandRE.MatchString(stripComment(line)) {
			return true
		}
	}
	return false
}

// stripComment drops a shell comment: a # at the start or after a blank.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// logicalLines joins backslash-continued lines.
func logicalLines(script string) []string {
	var out []string
	cur := ""
	for _, line := range strings.Split(script, "\n") {
		if strings.HasSuffix(line, `\`) {
			cur += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		out = append(out, cur+line)
		cur = ""
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// docPages are the pages whose examples run, as paths from e2e/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, pages...)
}

func TestDocExamples(t *testing.T) {
	scripts, err := filepath.Abs("../scripts")
	if err != nil {
		t.Fatal(err)
	}
	total, ran := 0, 0
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(page, "../")
		examples := parseDocExamples(t, name, string(data))
		total += len(examples)
		if len(examples) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// The suite is run as scripts/run_benchmarks.sh, from the
			// page's directory.
			if err := os.Symlink(scripts, filepath.Join(dir, "scripts")); err != nil {
				t.Fatal(err)
			}
			pageURL := ""
			for _, ex := range examples {
				if ex.skip == "" && pageURL == "" {
					pageURL = startSim(t)
				}
			}
			for _, ex := range examples {
				t.Run(fmt.Sprintf("line%d", ex.line), func(t *testing.T) {
					if ex.skip != "" {
						t.Skip(ex.skip)
					}
					for _, tool := range []string{"jq", "flock"} {
						if strings.Contains(ex.script, tool+" ") {
							if _, err := exec.LookPath(tool); err != nil {
								t.Skipf("%s is not installed", tool)
							}
						}
					}
					runDocExample(t, name, dir, pageURL, ex)
					ran++
				})
			}
		})
	}
	t.Logf("%d examples found, %d ran", total, ran)
	if total == 0 {
		t.Error("no examples found: is the parser broken?")
	}
}

// startAndWaitURL starts an llmsim command and returns the URL of its
// startup line ("llmsim: serving MODEL on http://HOST:PORT (...)").
func startAndWaitURL(cmd *exec.Cmd) (string, error) {
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var seen []byte
		for {
			n, err := stderr.Read(buf)
			seen = append(seen, buf[:n]...)
			if m := docStartupRE.FindSubmatch(seen); m != nil {
				select {
				case found <- string(m[1]):
				default:
				}
			}
			if err != nil {
				close(found)
				return
			}
		}
	}()
	select {
	case u, ok := <-found:
		if ok {
			return u, nil
		}
		cmd.Wait()
		return "", fmt.Errorf("llmsim %v exited without its startup line", cmd.Args[1:])
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		return "", fmt.Errorf("llmsim %v printed no startup line in 10s", cmd.Args[1:])
	}
}

var docStartupRE = regexp.MustCompile(`llmsim: serving \S+ on (http://\S+)`)

// runDocExample runs one block and checks its exit code.
func runDocExample(t *testing.T, page, dir, pageURL string, ex docExample) {
	t.Helper()
	urls := map[string]string{"8000": pageURL} // documented port -> real URL
	var rest []string
	for _, line := range logicalLines(ex.script) {
		fields := strings.Fields(stripComment(line))
		if len(fields) == 0 || fields[0] != "llmsim" {
			rest = append(rest, line)
			continue
		}
		port, flags := "8000", []string{"--addr", "127.0.0.1:0"}
		for i := 1; i < len(fields); i++ {
			switch {
			case fields[i] == "&":
			case fields[i] == "--addr" && i+1 < len(fields):
				_, port, _ = strings.Cut(fields[i+1], ":")
				i++
			case docAddrRE.MatchString(fields[i]):
				_, port, _ = strings.Cut(docAddrRE.FindStringSubmatch(fields[i])[1], ":")
			default:
				flags = append(flags, strings.TrimSuffix(fields[i], "&"))
			}
		}
		cmd := exec.Command(bin("llmsim"), flags...)
		cmd.Dir = dir // where the block runs: a file it names (--log-requests) is the block's
		u, err := startAndWaitURL(cmd)
		if err != nil {
			t.Fatalf("%s:%d: %v", page, ex.line, err)
		}
		stopAtCleanup(t, cmd)
		urls[port] = u
	}
	script := strings.Join(rest, "\n")
	if strings.TrimSpace(stripComments(script)) == "" {
		return // only llmsim: its startup line was the check
	}
	for port, u := range urls {
		script = strings.ReplaceAll(script, "http://localhost:"+port, u)
		script = strings.ReplaceAll(script, "http://127.0.0.1:"+port, u)
	}
	env := []string{"SERVEBENCH_URL=" + urls["8000"], "SERVEBENCH_BIN=" + binDir}
	start := time.Now()
	stdout, stderr, code := e2etest.Sh(t, binDir, env, 60*time.Second,
		"set -e\ncd "+quote(dir)+"\n"+script)
	t.Logf("%s:%d: exit %d in %v", page, ex.line, code, time.Since(start).Round(time.Millisecond))
	if code != ex.exitCode {
		t.Errorf("%s:%d: exit code %d, the docs say %d\nscript:\n%s\nstdout:\n%s\nstderr:\n%s",
			page, ex.line, code, ex.exitCode, script, tail(stdout, 2000), tail(stderr, 4000))
	}
}

// stripComments drops the comments of every line of a script.
func stripComments(script string) string {
	var b strings.Builder
	for _, line := range strings.Split(script, "\n") {
		b.WriteString(stripComment(line))
		b.WriteByte('\n')
	}
	return b.String()
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
