package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// updateDocs rewrites docs/report-sweep.html and its screenshot
// docs/report-sweep.png from the browser test's comparison of two sweeps.
var updateDocs = flag.Bool("update-docs", false, "rewrite docs/report-sweep.html and docs/report-sweep.png from TestBrowserReports")

// chromium finds the browser, or skips the test: make test says so when
// it is missing (.ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SERVEBENCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install chromium, or set SERVEBENCH_CHROMIUM): the HTML report is not tested in a browser")
	return ""
}

// browserOut is where the screenshots go, for a person to look at:
// $SERVEBENCH_BROWSER_OUT, or servebench-browser under the temporary
// directory.
func browserOut(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SERVEBENCH_BROWSER_OUT")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "servebench-browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserReports builds the HTML reports of real llmsim runs (a single
// load point with failures, a sweep, two sweeps compared) and opens each
// in headless Chromium, driven over the DevTools protocol with chromedp:
// no console error, no network request but the file itself, every chart
// drawn and not empty, hovering a point shows its exact value, dark and
// print styles apply, the page reads with JavaScript off, and in the
// comparison every verdict and delta cell reads as summarize --baseline
// prints it. A screenshot of each report is written to browserOut.
func TestBrowserReports(t *testing.T) {
	chrome := chromium(t)
	simFlags := []string{"--itl", "10ms", "--max-num-seqs", "8", "--itl-per-seq", "500us"}
	fast := startSim(t, append([]string{"--ttft", "30ms"}, simFlags...)...)
	slow := startSim(t, append([]string{"--ttft", "40ms"}, simFlags...)...)
	faulty := startSim(t, "--ttft", "20ms", "--itl", "5ms", "--fault-cycle", "none,none,none,http500")
	dir := t.TempDir()
	sweep := " -c 1,2,4,8,16 -n 16 --warmup 1 --max-tokens 16 --ignore-eos --label sweep -q"
	script := fmt.Sprintf(`cd %s
genload --url %s -n 12 --warmup 1 --max-tokens 8 --label latency -q > single.jsonl
genload --url %s %s --server-metrics base.metrics.jsonl --server-metrics-interval 100ms > base.jsonl
genload --url %s %s --server-metrics new.metrics.jsonl --server-metrics-interval 100ms > new.jsonl
summarize --html single.html single.jsonl > /dev/null
summarize --html sweep.html base.jsonl base.metrics.jsonl > /dev/null
summarize --html compare.html --fail-on 'ttft_median_ms>+10%%' --baseline base.jsonl --baseline base.metrics.jsonl new.jsonl new.metrics.jsonl > compare.txt 2>/dev/null || test $? -eq 10
`, quote(dir), faulty, fast, sweep, slow, sweep)
	if _, stderr, code := sh(t, 2*time.Minute, script); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancel()
	browser, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chrome, err)
	}
	out := browserOut(t)
	cases := []struct {
		name   string
		charts []string
		text   []string // the page must say these
	}{
		// without server metrics: no such section, no timeline
		{"single", []string{"ttft-cdf", "latency-cdf", "itl-hist"}, []string{"3 (3 http)", "llmsim fault http500"}},
		// with the server's metrics: their table and the timeline
		{"sweep", []string{"ttft-cdf", "latency-cdf", "itl-hist", "sweep", "server-timeline"}, []string{"No request failed.", "Server metrics", "running mean / max"}},
		{"compare", []string{"ttft-cdf", "latency-cdf", "itl-hist", "sweep", "server-timeline"}, []string{"REGRESSION", "Warnings: read these first", "Server metrics — baseline", "Server metrics — new"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, c.name+".html")
			compareText := ""
			if c.name == "compare" {
				compareText = filepath.Join(dir, "compare.txt")
			}
			shot := openReport(t, browser, file, c.charts, c.text, compareText)
			png := filepath.Join(out, "report-"+c.name+".png")
			if err := os.WriteFile(png, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", png)
			checkWithoutScript(t, browser, file, len(c.charts))
			if c.name == "compare" && *updateDocs {
				writeDocsExample(t, file, shot)
			}
		})
	}
}

// events collects what a tab must not do: console errors, uncaught
// exceptions, log entries of level error, requests for anything but the
// page.
type events struct {
	mu       sync.Mutex
	page     string
	problems []string
}

func (e *events) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request.URL != e.page {
			problem = "network request: " + ev.Request.URL
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value))
			}
			problem = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		problem = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			problem += " " + ev.ExceptionDetails.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
			problem = fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		}
	}
	if problem != "" {
		e.mu.Lock()
		e.problems = append(e.problems, problem)
		e.mu.Unlock()
	}
}

// chartInfo is what the page says of one chart.
type chartInfo struct {
	ID     string  `json:"id"`
	Width  float64 `json:"w"`
	Height float64 `json:"h"`
	Points int     `json:"points"`
	NoData bool    `json:"nodata"`
}

// hoverTarget is a point of a chart on screen, and the value it shows.
type hoverTarget struct {
	X, Y float64
	Tip  string
}

// openReport opens file in a new tab, checks it (against the text of
// summarize --baseline in compareText, when not "") and returns a
// full-page screenshot.
func openReport(t *testing.T, browser context.Context, file string, wantCharts, wantText []string, compareText string) []byte {
	t.Helper()
	ev := &events{page: "file://" + file}
	tab, cancel := chromedp.NewContext(browser, chromedp.WithListener(ev.listen))
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(ev.page)); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wantText {
		if !strings.Contains(body, w) {
			t.Errorf("the page does not say %q", w)
		}
	}
	charts, err := chromedp.Run(tab, chromedp.Evaluate[[]chartInfo](`[...document.querySelectorAll("svg.chart")].map(s => {
		const r = s.getBoundingClientRect();
		return {id: s.id, w: r.width, h: r.height, points: s.querySelectorAll(".pt").length, nodata: s.textContent.includes("no data")};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range charts {
		ids = append(ids, c.ID)
		if c.Width < 200 || c.Height < 100 || c.Points == 0 || c.NoData {
			t.Errorf("chart %s is empty or tiny: %+v", c.ID, c)
		}
	}
	if strings.Join(ids, " ") != strings.Join(wantCharts, " ") {
		t.Errorf("charts %v, want %v", ids, wantCharts)
	}
	hover(t, tab, wantCharts[len(wantCharts)-1])
	checkMedia(t, tab)
	if compareText != "" {
		checkVerdictCells(t, tab, compareText)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the last events arrive
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, p := range ev.problems {
		t.Errorf("%s: %s", filepath.Base(file), p)
	}
	return shot
}

// hover moves the mouse onto a point of chart id and checks that the
// tooltip shows the value of the point under the pointer.
func hover(t *testing.T, tab context.Context, id string) {
	t.Helper()
	target, err := chromedp.Run(tab, chromedp.Evaluate[hoverTarget](`(() => {
		const el = document.querySelector("#`+id+` .pt");
		el.scrollIntoView({block: "center"});
		const r = el.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
		const top = document.elementFromPoint(x, y);
		return {X: x, Y: y, Tip: top && top.classList.contains("pt") && top.querySelector("title").textContent || ""};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if target.Tip == "" {
		t.Fatalf("chart %s: no point under its own centre", id)
	}
	if err := chromedp.Do(tab, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, target.X, target.Y)); err != nil {
		t.Fatal(err)
	}
	tip, err := chromedp.Run(tab, chromedp.Evaluate[string](`(() => { const t = document.getElementById("tip"); return t.hidden ? "(hidden)" : t.textContent; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if tip != target.Tip || !regexp.MustCompile(`\d\.\d{3} ms`).MatchString(tip) {
		t.Errorf("chart %s: hovering shows %q, want the point's value %q", id, tip, target.Tip)
	}
}

// checkVerdictCells compares each row of the page's comparison tables
// (the verdicts per load point, and each metric's row) with the line of
// summarize --baseline's text that starts alike: the same words, only the
// spacing differs.
func checkVerdictCells(t *testing.T, tab context.Context, textFile string) {
	t.Helper()
	text, err := os.ReadFile(textFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(text), "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	rows, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.verdicts tr, table.compare tr")].slice(0).map(tr =>
		[...tr.cells].map(c => c.innerText.trim()).filter(s => s !== "").join(" "))`))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range rows {
		row := strings.Join(strings.Fields(r), " ")
		if strings.HasPrefix(row, "metric ") || strings.HasPrefix(row, "load point ") {
			continue // the headers differ in words
		}
		checked++
		if !lines[row] {
			t.Errorf("row %q is not a line of summarize --baseline", row)
		}
	}
	if checked < 10 {
		t.Errorf("only %d comparison rows checked", checked)
	}
}

// checkMedia checks the page follows a dark colour scheme and hides the
// tooltip on paper, then puts the light screen back for the screenshot.
func checkMedia(t *testing.T, tab context.Context) {
	t.Helper()
	for _, m := range []struct {
		media, scheme, js, want string
	}{
		{"screen", "dark", `getComputedStyle(document.body).backgroundColor`, "rgb(22, 22, 22)"},
		{"screen", "light", `getComputedStyle(document.body).backgroundColor`, "rgb(255, 255, 255)"},
		{"print", "light", `getComputedStyle(document.getElementById("tip")).display + " " + getComputedStyle(document.querySelector(".hint")).display`, "none none"},
	} {
		params := emulation.SetEmulatedMediaParams{Media: m.media, Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: m.scheme}}}
		if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, params); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(tab, chromedp.Evaluate[string](m.js))
		if err != nil {
			t.Fatal(err)
		}
		if got != m.want {
			t.Errorf("%s, %s: %s = %q, want %q", m.media, m.scheme, m.js, got, m.want)
		}
	}
	if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
}

// checkWithoutScript opens file with JavaScript off: the tables and the
// charts are all there, each point still carrying its value (a <title>).
func checkWithoutScript(t *testing.T, browser context.Context, file string, charts int) {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[[]int](`[document.querySelectorAll("svg.chart").length,
		[...document.querySelectorAll("svg.chart")].filter(s => s.getBoundingClientRect().height > 100 && s.querySelector(".pt title")).length,
		document.querySelectorAll("table.headline tr").length]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != charts || got[1] != charts || got[2] < 3 {
		t.Errorf("without JavaScript: %d charts, %d drawn with point values, %d table rows; want %d, %d, at least 3", got[0], got[1], got[2], charts, charts)
	}
}

// writeDocsExample puts the comparison report and its screenshot under
// docs/, as the manual's example.
func writeDocsExample(t *testing.T, file string, shot []byte) {
	t.Helper()
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("../docs/report-sweep.html", page, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("../docs/report-sweep.png", shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote docs/report-sweep.html (%d bytes) and docs/report-sweep.png", len(page))
}
