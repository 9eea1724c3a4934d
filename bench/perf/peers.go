package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"servebench/internal/record"
)

// peersConfig is one comparison: every tool in turn against the same
// zero-delay llmsim, closed loop at Concurrency for Duration, Rounds times.
type peersConfig struct {
	Bin, Peers   string // where genload/llmsim and vegeta/hey are
	Tools        []string
	Concurrency  int
	Duration     time.Duration
	Rounds       int
	StreamTokens int // max_tokens of the streaming run (ignore_eos)
	Work         string
	Raw          string // also write every run's figures here (CSV)
}

// runResult is one run of one tool.
type runResult struct {
	usage
	OK, Failed int64
	Tokens     int64         // output tokens received (streaming genload only)
	SimCPU     time.Duration // the server's CPU during the run
	OtherCPU   time.Duration // everyone else's: the machine's busy time less the tool's and the server's
}

func (r runResult) reqPerSec() float64 { return float64(r.OK) / r.Wall.Seconds() }
func (r runResult) cpuPerReqUs() float64 {
	return float64(r.CPU().Microseconds()) / float64(max(r.OK, 1))
}
func (r runResult) simCPUPerReqUs() float64 {
	return float64(r.SimCPU.Microseconds()) / float64(max(r.OK, 1))
}

// tool is a load generator under test. run sends closed-loop load at the
// URL and reports what it got; its rusage is taken around the process
// that sends the load only, not around the post-processing of its output.
type tool struct {
	name, mode string
	peer       bool
	run        func(c *peersConfig, s *sim, dir string) (runResult, error)
}

var tools = map[string]tool{
	"genload": {name: "genload", mode: "completions", run: func(c *peersConfig, s *sim, dir string) (runResult, error) {
		return runGenload(c, s, dir, "--stream=false", "--max-tokens", "2")
	}},
	"vegeta": {name: "vegeta", mode: "completions", peer: true, run: runVegeta},
	"hey":    {name: "hey", mode: "completions", peer: true, run: runHey},
	// genload through net/http (the path of proxied targets): what the own
	// client saves, in the same rounds.
	"genload-nethttp": {name: "genload net/http", mode: "completions", run: func(c *peersConfig, s *sim, dir string) (runResult, error) {
		return runGenload(c, s, dir, "--http-client", "net/http", "--stream=false", "--max-tokens", "2")
	}},
	"genload-nethttp-stream": {name: "genload net/http", mode: "stream", run: func(c *peersConfig, s *sim, dir string) (runResult, error) {
		return runGenload(c, s, dir, "--http-client", "net/http", "--stream=true", "--max-tokens", strconv.Itoa(c.StreamTokens), "--ignore-eos")
	}},
	"genload-stream": {name: "genload", mode: "stream", run: func(c *peersConfig, s *sim, dir string) (runResult, error) {
		return runGenload(c, s, dir, "--stream=true", "--max-tokens", strconv.Itoa(c.StreamTokens), "--ignore-eos")
	}},
	// genload streaming with a goroutine reading each connection (not the
	// read loop): what the loop saves, in the same rounds.
	"genload-goroutine-stream": {name: "genload --reads goroutine", mode: "stream", run: func(c *peersConfig, s *sim, dir string) (runResult, error) {
		return runGenload(c, s, dir, "--reads", "goroutine", "--stream=true", "--max-tokens", strconv.Itoa(c.StreamTokens), "--ignore-eos")
	}},
	// genload on one P (GOMAXPROCS=1): fewer thread wake-ups, for a
	// machine shared with the server (not in the default set).
	"genload-p1": {name: "genload GOMAXPROCS=1", mode: "completions", run: func(c *peersConfig, s *sim, dir string) (runResult, error) {
		return runGenload(c, s, dir, "GOMAXPROCS=1", "--stream=false", "--max-tokens", "2")
	}},
}

// body is what every tool sends to /v1/completions when not streaming:
// genload builds the same bytes from its flags.
func body(model string) string {
	return fmt.Sprintf(`{"model":%q,"prompt":"hi","max_tokens":2,"stream":false}`, model)
}

// runGenload runs genload with flags; a leading NAME=VALUE is set in its
// environment.
func runGenload(c *peersConfig, s *sim, dir string, flags ...string) (runResult, error) {
	var env []string
	if len(flags) > 0 && strings.Contains(flags[0], "=") && !strings.HasPrefix(flags[0], "-") {
		env, flags = append(os.Environ(), flags[0]), flags[1:]
	}
	out := filepath.Join(dir, "genload.jsonl")
	f, err := os.Create(out)
	if err != nil {
		return runResult{}, err
	}
	defer f.Close()
	args := append([]string{"--url", s.URL, "--model", s.Model, "--prompt", "hi",
		"-c", strconv.Itoa(c.Concurrency), "--duration", c.Duration.String(), "--quiet"}, flags...)
	cmd := exec.Command(filepath.Join(c.Bin, "genload"), args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = f, os.Stderr, env
	var res runResult
	if res.usage, err = measureWithSim(cmd, s, &res); err != nil {
		return res, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	rd := record.NewReader(f, out)
	for rd.Scan() {
		r := rd.Record()
		switch {
		case r == nil:
			return res, rd.BadLine()
		case r.OK:
			res.OK++
			res.Tokens += int64(r.OutputTokens)
		default:
			res.Failed++
		}
	}
	return res, rd.Err()
}

func runVegeta(c *peersConfig, s *sim, dir string) (runResult, error) {
	bodyFile, targets, results := filepath.Join(dir, "body.json"), filepath.Join(dir, "targets.txt"), filepath.Join(dir, "vegeta.bin")
	if err := os.WriteFile(bodyFile, []byte(body(s.Model)), 0o644); err != nil {
		return runResult{}, err
	}
	t := fmt.Sprintf("POST %s/v1/completions\nContent-Type: application/json\n@%s\n", s.URL, bodyFile)
	if err := os.WriteFile(targets, []byte(t), 0o644); err != nil {
		return runResult{}, err
	}
	vegeta := filepath.Join(c.Peers, "vegeta")
	n := strconv.Itoa(c.Concurrency)
	cmd := exec.Command(vegeta, "attack", "-targets", targets, "-rate", "0", "-max-workers", n, "-workers", n,
		"-duration", c.Duration.String(), "-output", results)
	cmd.Stderr = os.Stderr
	var res runResult
	var err error
	if res.usage, err = measureWithSim(cmd, s, &res); err != nil {
		return res, err
	}
	out, err := exec.Command(vegeta, "report", "-type", "json", results).Output()
	if err != nil {
		return res, fmt.Errorf("vegeta report: %w", err)
	}
	var rep struct {
		Requests    int64            `json:"requests"`
		StatusCodes map[string]int64 `json:"status_codes"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return res, fmt.Errorf("vegeta report: %w", err)
	}
	for code, n := range rep.StatusCodes {
		if strings.HasPrefix(code, "2") {
			res.OK += n
		}
	}
	res.Failed = rep.Requests - res.OK
	return res, nil
}

var (
	heyStatus = regexp.MustCompile(`(?m)^\s*\[(\d+)\]\s+(\d+) responses`)
	heyError  = regexp.MustCompile(`(?m)^\s*\[(\d+)\]\s+\S`)
)

func runHey(c *peersConfig, s *sim, dir string) (runResult, error) {
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, []byte(body(s.Model)), 0o644); err != nil {
		return runResult{}, err
	}
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(c.Peers, "hey"), "-c", strconv.Itoa(c.Concurrency), "-z", c.Duration.String(),
		"-m", "POST", "-D", bodyFile, "-T", "application/json", s.URL+"/v1/completions")
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	var res runResult
	var err error
	if res.usage, err = measureWithSim(cmd, s, &res); err != nil {
		return res, err
	}
	text := out.String()
	statuses, errs, _ := strings.Cut(text, "Error distribution:")
	for _, m := range heyStatus.FindAllStringSubmatch(statuses, -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		if strings.HasPrefix(m[1], "2") {
			res.OK += n
		} else {
			res.Failed += n
		}
	}
	for _, m := range heyError.FindAllStringSubmatch(errs, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		res.Failed += n
	}
	if res.OK == 0 {
		return res, fmt.Errorf("hey: no successful request in its report:\n%s", text)
	}
	return res, nil
}

// measureWithSim runs cmd and also takes the server's CPU and the rest of
// the machine's over the same interval.
func measureWithSim(cmd *exec.Cmd, s *sim, res *runResult) (usage, error) {
	sim0, simOK := s.CPU()
	busy0, _, machOK := machineCPU()
	u, err := measure(cmd)
	sim1, _ := s.CPU()
	busy1, _, _ := machineCPU()
	if simOK {
		res.SimCPU = sim1 - sim0
	}
	if machOK {
		res.OtherCPU = max(busy1-busy0-u.CPU()-res.SimCPU, 0)
	}
	return u, err
}

// peers runs the comparison and writes a table on stderr and CSV on stdout.
func peers(args []string) error {
	c := &peersConfig{}
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.StringVar(&c.Bin, "bin", "bin", "directory of genload and llmsim")
	fs.StringVar(&c.Peers, "peers", "", "directory of vegeta and hey")
	toolList := fs.String("tools", "genload,genload-nethttp,vegeta,hey,genload-stream,genload-goroutine-stream,genload-nethttp-stream", "tools to run, in this order (then reversed, alternately)")
	fs.IntVar(&c.Concurrency, "c", 16, "requests in flight, for every tool")
	fs.DurationVar(&c.Duration, "duration", 4*time.Second, "length of each run")
	fs.IntVar(&c.Rounds, "rounds", 5, "runs of each tool; the order alternates (A B C, C B A, ...) so drift cancels")
	fs.IntVar(&c.StreamTokens, "stream-tokens", 128, "max_tokens of the streaming genload run (with ignore_eos)")
	fs.StringVar(&c.Raw, "raw", "", "also write every run's figures to this CSV file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.Tools = strings.Split(*toolList, ",")
	for _, name := range c.Tools {
		if _, ok := tools[name]; !ok {
			return fmt.Errorf("unknown tool %q", name)
		}
	}
	work, err := os.MkdirTemp("", "servebench-perf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	c.Work = work

	s, err := startSim(filepath.Join(c.Bin, "llmsim"), "--ttft", "0", "--itl", "0", "--max-num-seqs", strconv.Itoa(max(256, 2*c.Concurrency)))
	if err != nil {
		return err
	}
	defer s.Stop()
	fmt.Fprintf(os.Stderr, "perf: %s at %s; %d rounds of %v per tool, concurrency %d\n", s.Model, s.URL, c.Rounds, c.Duration, c.Concurrency)

	// One short unrecorded run warms the server and the page cache.
	warm := *c
	warm.Duration = time.Second
	if _, err := tools["genload"].run(&warm, s, work); err != nil {
		return err
	}
	results := map[string][]runResult{}
	var raw bytes.Buffer
	raw.WriteString("round,tool,wall_s,cpu_s,user_s,sys_s,max_rss_mib,ok,failed,tokens,sim_cpu_s,other_cpu_s\n")
	for round := range c.Rounds {
		order := slices.Clone(c.Tools)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, name := range order {
			res, err := tools[name].run(c, s, work)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			results[name] = append(results[name], res)
			fmt.Fprintf(&raw, "%d,%s,%.3f,%.3f,%.3f,%.3f,%.1f,%d,%d,%d,%.3f,%.3f\n", round, name, res.Wall.Seconds(),
				res.CPU().Seconds(), res.User.Seconds(), res.Sys.Seconds(), mib(res.MaxRSS), res.OK, res.Failed, res.Tokens,
				res.SimCPU.Seconds(), res.OtherCPU.Seconds())
			fmt.Fprintf(os.Stderr, "perf: round %d %-15s %8.0f req/s %7.1f µs CPU/req  (server %5.1f µs/req, others %4.1f%% of the machine)\n",
				round+1, name, res.reqPerSec(), res.cpuPerReqUs(), res.simCPUPerReqUs(),
				100*res.OtherCPU.Seconds()/(2*res.Wall.Seconds()))
		}
	}
	if c.Raw != "" {
		if err := os.WriteFile(c.Raw, raw.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return report(c, results)
}

// report prints the medians per tool, and for peers the median over rounds
// of genload's figure divided by the peer's in the same round.
func report(c *peersConfig, results map[string][]runResult) error {
	tw := tabwriter.NewWriter(os.Stderr, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tmode\truns\treq/s\tCPU µs/req\tCPU µs/token\tRSS MiB\tserver CPU µs/req\tfailed\tgenload/peer CPU\tgenload/peer req/s\t")
	fmt.Println("tool,mode,runs,concurrency,duration_s,req_per_s,cpu_us_per_req,cpu_us_per_token,max_rss_mib,server_cpu_us_per_req,failed,cpu_ratio,req_per_s_ratio")
	base := results["genload"]
	for _, name := range c.Tools {
		t, rs := tools[name], results[name]
		mode := t.mode
		if t.mode == "stream" {
			mode = fmt.Sprintf("stream-%d", c.StreamTokens)
		}
		reqs := medianOf(rs, runResult.reqPerSec)
		cpu := medianOf(rs, runResult.cpuPerReqUs)
		rss := medianOf(rs, func(r runResult) float64 { return mib(r.MaxRSS) })
		simCPU := medianOf(rs, runResult.simCPUPerReqUs)
		var failed int64
		for _, r := range rs {
			failed += r.Failed
		}
		perToken, cpuRatio, reqRatio := "", "", ""
		if rs[0].Tokens > 0 && t.mode == "stream" {
			perToken = fmt.Sprintf("%.2f", medianOf(rs, func(r runResult) float64 {
				return float64(r.CPU().Nanoseconds()) / 1e3 / float64(max(r.Tokens, 1))
			}))
		}
		if t.peer && len(base) == len(rs) {
			var cr, rr []float64
			for i := range rs {
				cr = append(cr, base[i].cpuPerReqUs()/rs[i].cpuPerReqUs())
				rr = append(rr, base[i].reqPerSec()/rs[i].reqPerSec())
			}
			cpuRatio, reqRatio = fmt.Sprintf("%.2f", median(cr)), fmt.Sprintf("%.2f", median(rr))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.1f\t%s\t%.1f\t%.1f\t%d\t%s\t%s\t\n", t.name, mode, len(rs), reqs, cpu, perToken, rss, simCPU, failed, cpuRatio, reqRatio)
		fmt.Printf("%s,%s,%d,%d,%g,%.1f,%.2f,%s,%.1f,%.2f,%d,%s,%s\n", t.name, mode, len(rs), c.Concurrency, c.Duration.Seconds(),
			reqs, cpu, perToken, rss, simCPU, failed, cpuRatio, reqRatio)
	}
	return tw.Flush()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func medianOf(rs []runResult, f func(runResult) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	return median(xs)
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
