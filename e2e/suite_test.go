package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProbeExitCodes drives probe through its outcomes against llmsim.
func TestProbeExitCodes(t *testing.T) {
	_, stderr, code := sh(t, 30*time.Second, "probe --url "+deadURL(t)+" --timeout 1s")
	if code != 3 || !strings.Contains(stderr, "is the server running") {
		t.Errorf("unreachable: exit %d, %q", code, stderr)
	}
	url := startSim(t, "--startup-delay", "1500ms", "--model", "org/m1")
	_, stderr, code = sh(t, 30*time.Second, "probe --url "+url)
	if code != 4 || !strings.Contains(stderr, "--wait") {
		t.Errorf("starting: exit %d, %q", code, stderr)
	}
	out, stderr, code := sh(t, 30*time.Second, "probe --url "+url+" --wait 20s --interval 100ms --smoke --json")
	if code != 0 || !strings.Contains(out, `"status":"ready"`) || !strings.Contains(out, `"model":"org/m1"`) {
		t.Errorf("wait: exit %d, %s %s", code, out, stderr)
	}
	_, stderr, code = sh(t, 30*time.Second, "probe --url "+url+" --model nope")
	if code != 5 || !strings.Contains(stderr, "org/m1") {
		t.Errorf("model missing: exit %d, %q", code, stderr)
	}
	_, _, code = sh(t, 30*time.Second, "probe --url not-a-url")
	if code != 2 {
		t.Errorf("bad URL: exit %d, want 2", code)
	}
}

// TestRunBenchmarksScript runs the standard suite as make bench does, into
// a results folder whose name has spaces, twice, then checks the files.
func TestRunBenchmarksScript(t *testing.T) {
	results := filepath.Join(t.TempDir(), "my results")
	script := "SERVEBENCH_BIN=" + quote(binDir) + " ../scripts/run_benchmarks.sh --sim --results " + quote(results) +
		" --latency-requests 3 --throughput-requests 6 --concurrency 3 --max-tokens 8"
	for i := 0; i < 2; i++ {
		out, stderr, code := sh(t, 2*time.Minute, script)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr)
		}
		// stdout: the answer, one row per test; the blocks are in the log.
		if !strings.Contains(out, "load point ") || !strings.Contains(out, "\nlatency c=1 ") || !strings.Contains(out, "\nthroughput c=3 ") ||
			strings.Contains(out, "Serving Benchmark Result") || !strings.Contains(stderr, "latency test") {
			t.Fatalf("run %d: report missing:\n%s\n%s", i, out, stderr)
		}
		// The end says where everything went, then the verdict.
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if last := lines[len(lines)-1]; !strings.HasSuffix(last, "verdict: OK: 2 tests passed") {
			t.Errorf("run %d: last line %q", i, last)
		}
		for _, want := range []string{"results: report " + results + "/benchmark_results.log", "results: CSV " + results + "/benchmarks.csv",
			"results: records " + results + "/raw/", "results: plot " + results + "/plots/", "results: HTML report " + results + "/reports/"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("run %d: stderr lacks %q:\n%s", i, want, stderr)
			}
		}
	}
	csv, _ := os.ReadFile(filepath.Join(results, "benchmarks.csv"))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 5 || strings.Count(string(csv), "run_id,") != 1 {
		t.Fatalf("CSV should have one header and 4 rows:\n%s", csv)
	}
	logData, _ := os.ReadFile(filepath.Join(results, "benchmark_results.log"))
	if n := len(regexp.MustCompile(`(?m)^=== \d{4}-`).FindAll(logData, -1)); n != 2 || !strings.Contains(string(logData), "Serving Benchmark Result") {
		t.Errorf("log should have two blocks, in full:\n%s", logData)
	}
	raws, _ := filepath.Glob(filepath.Join(results, "raw", "*.jsonl"))
	if len(raws) != 4 {
		t.Errorf("raw files: %v", raws)
	}
	// The server's metrics of each test, under the raw file's name, joined
	// into the CSV: llmsim ran requests in every test.
	for _, raw := range raws {
		m, err := os.ReadFile(filepath.Join(results, "metrics", filepath.Base(raw)))
		if err != nil || !strings.Contains(string(m), `"kind":"server_metrics"`) {
			t.Errorf("server metrics of %s: %v %.200s", raw, err, m)
		}
	}
	header := strings.Split(lines[0], ",")
	col := slices.Index(header, "server_gen_tok_per_s")
	for _, row := range lines[1:] {
		if cells := strings.Split(row, ","); col < 0 || col >= len(cells) || cells[col] == "" {
			t.Errorf("CSV row without server_gen_tok_per_s: %s", row)
		}
	}
}

// TestRunBenchmarksExitCodes: not ready, usage, and the lock held by a
// concurrent run.
func TestRunBenchmarksExitCodes(t *testing.T) {
	results := t.TempDir()
	env := "SERVEBENCH_BIN=" + quote(binDir) + " "
	_, stderr, code := sh(t, time.Minute, env+"../scripts/run_benchmarks.sh --url "+deadURL(t)+" --wait 1s --results "+quote(results))
	if code != 3 || !strings.Contains(stderr, "not ready") { // probe's "unreachable", passed on
		t.Errorf("dead server: exit %d\n%s", code, stderr)
	}
	_, _, code = sh(t, time.Minute, env+"../scripts/run_benchmarks.sh --bogus")
	if code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	_, stderr, code = sh(t, time.Minute, env+"../scripts/run_benchmarks.sh --url localhost:8000 --results "+quote(results))
	if code != 2 || !strings.Contains(stderr, "did you mean http://localhost:8000?") || strings.Contains(stderr, "probing") {
		t.Errorf("URL without a scheme: exit %d (want 2, before probing)\n%s", code, stderr)
	}
	_, stderr, code = sh(t, time.Minute, env+"../scripts/run_benchmarks.sh --sim --results /proc/servebench-nope/results")
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "cannot create the results folder") {
		t.Errorf("results folder that cannot be made: exit %d (want 1, said once)\n%s", code, stderr)
	}
	// Hold the lock as a concurrent run would.
	lock := exec.Command("flock", filepath.Join(results, ".lock"), "sleep", "30")
	if err := lock.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Process.Kill(); _ = lock.Wait() }()
	time.Sleep(200 * time.Millisecond)
	_, stderr, code = sh(t, time.Minute, env+"../scripts/run_benchmarks.sh --sim --results "+quote(results))
	if code != 12 || !strings.Contains(stderr, "holds") {
		t.Errorf("locked: exit %d\n%s", code, stderr)
	}
}

// TestFailedRequestsFailTheSuite: llmsim serves one model, the suite asks
// for another: probe says so, and the suite passes its code on (5, model
// not served).
func TestSuiteWrongModel(t *testing.T) {
	url := startSim(t)
	_, stderr, code := sh(t, time.Minute, "SERVEBENCH_BIN="+quote(binDir)+" ../scripts/run_benchmarks.sh --url "+url+" --model nope --results "+quote(t.TempDir()))
	if code != 5 || !strings.Contains(stderr, "not served") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// TestInterruptKeepsEveryLine sends SIGINT to genload mid-run: every line
// written is a whole record, the server saw as many requests as were
// recorded, and the exit code says interrupted.
func TestInterruptKeepsEveryLine(t *testing.T) {
	url := startSim(t, "--ttft", "50ms", "--itl", "20ms")
	var out, errb bytes.Buffer
	cmd := exec.Command(bin("genload"), "--url", url, "--concurrency", "4", "--requests", "1000", "--max-tokens", "20", "--ignore-eos", "--grace", "5s")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130; stderr %s", err, errb.String())
	}
	recs := readRecords(t, &out)
	if len(recs) < 4 || len(recs) > 40 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		if !r.OK { // the grace period let the requests in flight finish
			t.Errorf("record %d failed: %s %s", r.Seq, r.ErrorKind, r.Error)
		}
	}
	if !strings.Contains(errb.String(), "no new requests") {
		t.Errorf("stderr %q", errb.String())
	}
	// The server finished exactly the requests that have records: none was
	// sent and lost, none recorded and not sent.
	if done := simCounter(t, url, "vllm:request_success_total") + simCounter(t, url, "llmsim_requests_aborted_total"); done != len(recs) {
		t.Errorf("llmsim finished %d requests, genload recorded %d", done, len(recs))
	}
	if want := "genload: run"; !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), " "+strconv.Itoa(len(recs))+" requests") {
		t.Errorf("final line should count %d requests: %q", len(recs), errb.String())
	}
}

// TestSecondInterruptCancels: a second SIGINT cancels the requests in
// flight at once; they are recorded as canceled.
func TestSecondInterruptCancels(t *testing.T) {
	url := startSim(t, "--ttft", "10ms", "--itl", "100ms")
	var out, errb bytes.Buffer
	cmd := exec.Command(bin("genload"), "--url", url, "--concurrency", "3", "--requests", "100", "--max-tokens", "200", "--ignore-eos", "--grace", "1m")
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	if time.Since(start) > 3*time.Second {
		t.Errorf("second SIGINT took %v to end the run", time.Since(start))
	}
	recs := readRecords(t, &out)
	if len(recs) != 3 {
		t.Fatalf("%d records, want the 3 in flight", len(recs))
	}
	for _, r := range recs {
		if r.ErrorKind != "canceled" {
			t.Errorf("record %d: kind %q", r.Seq, r.ErrorKind)
		}
	}
}

// simCounter sums the samples of a counter on llmsim's /metrics.
func simCounter(t *testing.T, url, name string) int {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	total := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			n, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Fatalf("metrics line %q", line)
			}
			total += int(n)
		}
	}
	return total
}

// TestSuiteSweepStage: the optional sweep stage adds one CSV row per point.
func TestSuiteSweepStage(t *testing.T) {
	results := t.TempDir()
	_, stderr, code := sh(t, 2*time.Minute, "SERVEBENCH_BIN="+quote(binDir)+" SIM_FLAGS='--ttft 2ms --itl 1ms' ../scripts/run_benchmarks.sh --sim --results "+quote(results)+
		" --latency-requests 2 --throughput-requests 2 --concurrency 2 --max-tokens 4 --sweep-concurrency 1,2,4 --sweep-rates 50,100 --sweep-requests 6")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	csv, _ := os.ReadFile(filepath.Join(results, "benchmarks.csv"))
	if got := strings.Count(string(csv), ",sweep-concurrency,"); got != 3 {
		t.Errorf("%d sweep-concurrency rows, want 3:\n%s", got, csv)
	}
	if got := strings.Count(string(csv), ",sweep-rate,"); got != 2 {
		t.Errorf("%d sweep-rate rows, want 2:\n%s", got, csv)
	}
}

// TestSuiteRotatesAnOldCSV: a benchmarks.csv with other columns (an older
// version's) is moved aside, not refused, so cron keeps running.
func TestSuiteRotatesAnOldCSV(t *testing.T) {
	results := t.TempDir()
	os.WriteFile(filepath.Join(results, "benchmarks.csv"), []byte("run_id,label,old_column\nr,l,1\n"), 0o644)
	_, stderr, code := sh(t, 2*time.Minute, "SERVEBENCH_BIN="+quote(binDir)+" ../scripts/run_benchmarks.sh --sim --results "+quote(results)+
		" --latency-requests 2 --throughput-requests 2 --concurrency 2 --max-tokens 4")
	if code != 0 || !strings.Contains(stderr, "had other columns") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	old, _ := filepath.Glob(filepath.Join(results, "benchmarks.*.old.csv"))
	csv, _ := os.ReadFile(filepath.Join(results, "benchmarks.csv"))
	if len(old) != 1 || strings.Contains(string(csv), "old_column") || strings.Count(string(csv), "\n") != 3 {
		t.Errorf("old files %v, new CSV:\n%s", old, csv)
	}
}

// TestProgressOnlyOnATerminal: genload draws a progress line when stderr
// is a terminal (script(1) gives it one) and nothing but the final line
// when it is a pipe.
func TestProgressOnlyOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	url := startSim(t, "--ttft", "10ms", "--itl", "10ms")
	run := "genload --url " + url + " -n 12 -c 1,2 --max-tokens 10 >/dev/null"
	out, _, code := sh(t, time.Minute, "script -qec "+quote(run)+" /dev/null")
	if code != 0 || !strings.Contains(out, "genload: run ") {
		t.Errorf("terminal: exit %d, %q", code, out)
	}
	// The line's fields: done/total, failures, in flight, the current rate,
	// the sweep's level, elapsed and left.
	line := regexp.MustCompile(`\r\x1b\[Kgenload: [0-9]+/24 done, 0 failed, [0-9]+ in flight, [0-9.]+ req/s, concurrency 2 \(2 of 2\), 0:0[0-9] elapsed, ~0:[0-9]{2} left`)
	if !line.MatchString(out) {
		t.Errorf("terminal: no progress line of the second level in %q", out)
	}
	_, stderr, code := sh(t, time.Minute, run)
	if code != 0 || strings.Contains(stderr, "done,") || strings.Contains(stderr, "\x1b[") || !strings.Contains(stderr, "genload: run ") {
		t.Errorf("pipe: exit %d, stderr %q", code, stderr)
	}
	// --progress off a terminal: plain lines, for a log.
	_, stderr, code = sh(t, time.Minute, "genload --url "+url+" -n 30 --max-tokens 10 --progress --progress-every 50ms >/dev/null")
	if code != 0 || !strings.Contains(stderr, "/30 done, 0 failed") || strings.Contains(stderr, "\x1b[") || strings.Contains(stderr, "\r") {
		t.Errorf("--progress in a pipe: exit %d, stderr %q", code, stderr)
	}
}

// TestSummarizeSaysItReadsTheTerminal: summarize with no file on a
// terminal says what it waits for, and how to end it.
func TestSummarizeSaysItReadsTheTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	out, _, _ := sh(t, 30*time.Second, "script -qec summarize /dev/null < /dev/null")
	if !strings.Contains(out, "summarize: reading records from the terminal (stdin): paste JSON lines and end with Ctrl-D") {
		t.Errorf("%q", out)
	}
	if _, stderr, _ := sh(t, 30*time.Second, "summarize < /dev/null"); strings.Contains(stderr, "reading records from the terminal") {
		t.Errorf("said so off a terminal: %q", stderr)
	}
}

// TestProbeWaitOnATerminal: probe --wait says what it waits for, redrawn.
func TestProbeWaitOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	url := startSim(t, "--startup-delay", "1s")
	out, _, code := sh(t, time.Minute, "script -qec "+quote("probe --url "+url+" --wait 30s --interval 100ms")+" /dev/null")
	if code != 0 || !strings.Contains(out, "\r\x1b[Kprobe: waiting for "+url+": not_ready (") || !strings.Contains(out, "loading the model), 2") ||
		!strings.Contains(out, "s left") || !strings.Contains(out, "probe: ready") {
		t.Errorf("exit %d, %q", code, out)
	}
}

// TestEveryToolSpeaksAlike: the four tools answer --version, and a
// mistyped flag the same way: one line on stderr with the flag it meant,
// nothing on stdout, exit 2.
func TestEveryToolSpeaksAlike(t *testing.T) {
	typo := map[string]string{"probe": "--smok", "genload": "--reqests", "summarize": "--formt", "llmsim": "--tft"}
	meant := map[string]string{"probe": "--smoke", "genload": "--requests", "summarize": "--format", "llmsim": "--ttft"}
	for _, tool := range []string{"probe", "genload", "summarize", "llmsim"} {
		out, _, code := sh(t, 30*time.Second, tool+" --version")
		if code != 0 || !strings.HasPrefix(out, tool+" version ") {
			t.Errorf("%s --version: exit %d, %q", tool, code, out)
		}
		out, stderr, code := sh(t, 30*time.Second, tool+" "+typo[tool]+" 1 </dev/null")
		want := tool + ": unknown flag " + typo[tool] + ": did you mean " + meant[tool] + "? (see --help)\n"
		if code != 2 || out != "" || stderr != want {
			t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want 2, nothing, %q", tool, typo[tool], code, out, stderr, want)
		}
	}
}

// TestSuiteCapacityStage: --capacity-slo adds a capacity search whose
// answer genload says on stderr and whose capacity row lands in the CSV.
// llmsim has 4 slots of 20 + 7 x 10 = 90 ms a request: a fifth user waits
// 90 ms for a slot, so under a 60 ms TTFT objective the capacity is
// exactly 4 users (see TestCapacitySearchConcurrency for the arithmetic).
func TestSuiteCapacityStage(t *testing.T) {
	results := t.TempDir()
	_, stderr, code := sh(t, 3*time.Minute, "SERVEBENCH_BIN="+quote(binDir)+" SERVEBENCH_SIM_FLAGS='--max-num-seqs 4 --ttft 20ms --itl 10ms' ../scripts/run_benchmarks.sh --sim --results "+quote(results)+
		" --latency-requests 2 --throughput-requests 4 --concurrency 2 --max-tokens 8 --capacity-slo ttft=60 --capacity-min-goodput 0.85 --capacity-requests 24")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "capacity 4 users (85% goodput for ttft<=60ms); 4-5 bracket") {
		t.Errorf("no capacity answer on stderr:\n%s", stderr)
	}
	data, _ := os.ReadFile(filepath.Join(results, "benchmarks.csv"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, ",capacity,") || !strings.HasSuffix(last, ",concurrency,4,5,0.85") {
		t.Errorf("the CSV's last row is not the capacity row (capacity 4, failed 5):\n%s", data)
	}
	if !strings.HasSuffix(lines[0], ",search,capacity,capacity_failed,capacity_min_goodput") {
		t.Errorf("header without the capacity columns: %s", lines[0])
	}
}
