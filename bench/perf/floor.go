package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
	"unsafe"

	"servebench/internal/record"
)

// floorConfig is the streaming-cost benchmark of issue 15: at each number
// of streams, the C floor reader, the Go floor reader and genload read the
// same closed-loop streams from one llmsim, the server pinned to one core
// and each client in turn to the other.
type floorConfig struct {
	Bin      string
	Floor    string // the C floor binary ("" = not built: its rows are left out)
	Streams  []int
	Waves    int
	Tokens   int
	TTFT     time.Duration
	ITL      time.Duration
	SimCPU   string // taskset CPU lists ("" = not pinned)
	ToolCPU  string
	Clients  []string
	Work     string
	ExtraSim []string
}

// floorResult is one client's run at one number of streams.
type floorResult struct {
	usage
	Answers, Tokens, Reads int64
	TTFTp50, ITLp99        float64 // ms, genload only (the floors do not time)
	SimCPU                 time.Duration
	SimLateP99             float64 // ms: llmsim's own send lateness during the run
	SimFirstLateP50        float64 // ms: that of its first tokens, p50
}

func (r floorResult) usPerToken() float64 {
	return float64(r.CPU().Nanoseconds()) / 1e3 / float64(max(r.Tokens, 1))
}

// floor runs the benchmark: table on stderr, CSV on stdout.
func floor(args []string) error {
	c := &floorConfig{}
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.StringVar(&c.Bin, "bin", "bin", "directory of genload and llmsim")
	fs.StringVar(&c.Floor, "floor", "", "the C floor reader (bench/floor/floor.c built); empty: its rows are left out")
	streams := fs.String("streams", "256,1024,2048", "numbers of concurrent streams, one point each")
	fs.IntVar(&c.Waves, "waves", 12, "answers per stream (closed loop): the length of each run")
	fs.IntVar(&c.Tokens, "tokens", 64, "tokens per answer (max_tokens with ignore_eos)")
	fs.DurationVar(&c.TTFT, "ttft", 100*time.Millisecond, "llmsim --ttft")
	fs.DurationVar(&c.ITL, "itl", 20*time.Millisecond, "llmsim --itl")
	fs.StringVar(&c.SimCPU, "sim-cpu", "0", "taskset CPU list for llmsim (empty: not pinned)")
	fs.StringVar(&c.ToolCPU, "client-cpu", "1", "taskset CPU list for each client (empty: not pinned)")
	clients := fs.String("clients", "c-floor,go-floor,go-loop,genload-goroutine,genload-eager,genload", "clients to run at each point, in this order")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*streams, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("--streams: %q is not a positive number", s)
		}
		c.Streams = append(c.Streams, n)
	}
	c.Clients = strings.Split(*clients, ",")
	if _, err := exec.LookPath("taskset"); err != nil && (c.SimCPU != "" || c.ToolCPU != "") {
		fmt.Fprintln(os.Stderr, "perf floor: taskset not found: processes are not pinned (apt-get install util-linux)")
		c.SimCPU, c.ToolCPU = "", ""
	}
	work, err := os.MkdirTemp("", "servebench-floor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	c.Work = work
	self, err := os.Executable()
	if err != nil {
		return err
	}

	results := map[string]map[int]floorResult{}
	for _, n := range c.Streams {
		for _, client := range c.Clients {
			if client == "c-floor" && c.Floor == "" {
				continue
			}
			res, err := floorPoint(c, self, client, n)
			if err != nil {
				return fmt.Errorf("%s at %d streams: %w", client, n, err)
			}
			if results[client] == nil {
				results[client] = map[int]floorResult{}
			}
			results[client][n] = res
			fmt.Fprintf(os.Stderr, "perf floor: %5d streams %-8s %6.2f µs CPU/token (%d tokens, %.2f reads/token, server %.2f µs/token, late p99 %.2f ms)\n",
				n, client, res.usPerToken(), res.Tokens, float64(res.Reads)/float64(max(res.Tokens, 1)),
				float64(res.SimCPU.Nanoseconds())/1e3/float64(max(res.Tokens, 1)), res.SimLateP99)
		}
	}
	return floorReport(c, results)
}

// floorPoint runs one client at n streams against an llmsim of its own
// (started afresh, so that its send lateness is this run's alone).
func floorPoint(c *floorConfig, self, client string, n int) (floorResult, error) {
	simArgs := []string{"--addr", "127.0.0.1:0", "--quiet", "--ttft", c.TTFT.String(), "--itl", c.ITL.String(),
		"--max-num-seqs", strconv.Itoa(n)}
	s, err := startSimCmd(pinned(c.SimCPU, filepath.Join(c.Bin, "llmsim"), simArgs...))
	if err != nil {
		return floorResult{}, err
	}
	defer s.Stop()
	u, err := url.Parse(s.URL)
	if err != nil {
		return floorResult{}, err
	}
	body := fmt.Sprintf(`{"model":%q,"prompt":"hi","max_tokens":%d,"ignore_eos":true,"stream":true}`, s.Model, c.Tokens)
	bodyFile := filepath.Join(c.Work, "body.json")
	if err := os.WriteFile(bodyFile, []byte(body), 0o644); err != nil {
		return floorResult{}, err
	}
	var res floorResult
	switch client {
	case "c-floor":
		res, err = runFloorReader(c, s, pinned(c.ToolCPU, c.Floor, u.Hostname(), u.Port(), strconv.Itoa(n), strconv.Itoa(c.Waves), bodyFile))
	case "go-floor":
		res, err = runFloorReader(c, s, pinned(c.ToolCPU, self, "goreader", u.Host, strconv.Itoa(n), strconv.Itoa(c.Waves), bodyFile))
	case "go-loop":
		res, err = runFloorReader(c, s, pinned(c.ToolCPU, self, "goreader", u.Host, strconv.Itoa(n), strconv.Itoa(c.Waves), bodyFile, "loop"))
	case "genload":
		res, err = runStreamsGenload(c, s, n)
	case "genload-goroutine":
		res, err = runStreamsGenload(c, s, n, "--reads", "goroutine")
	case "genload-eager":
		res, err = runStreamsGenload(c, s, n, "--read-coalesce", "0")
	default:
		err = fmt.Errorf("unknown client %q (c-floor, go-floor, go-loop, genload, genload-goroutine, genload-eager)", client)
	}
	if err != nil {
		return res, err
	}
	res.SimLateP99, res.SimFirstLateP50, err = simLateness(s.URL)
	return res, err
}

var (
	lateP99      = regexp.MustCompile(`(?m)^llmsim_send_lateness_seconds\{quantile="0.99"\} (\S+)$`)
	firstLateP50 = regexp.MustCompile(`(?m)^llmsim_first_token_lateness_seconds\{quantile="0.5"\} (\S+)$`)
)

// simLateness is llmsim's own send lateness p99, and its first tokens'
// p50, in ms, from /metrics: how far its truth held during the run (the
// ITL p99 and the TTFT p50 a client measures are as late as those, at
// least).
func simLateness(base string) (p99, firstP50 float64, err error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	for _, q := range []struct {
		re *regexp.Regexp
		v  *float64
	}{{lateP99, &p99}, {firstLateP50, &firstP50}} {
		m := q.re.FindSubmatch(body)
		if m == nil {
			return 0, 0, fmt.Errorf("llmsim's /metrics lacks %s", q.re)
		}
		if *q.v, err = strconv.ParseFloat(string(m[1]), 64); err != nil {
			return 0, 0, err
		}
		*q.v *= 1000
	}
	return p99, firstP50, nil
}

// pinned is name with args, behind taskset -c cpus when cpus is set.
func pinned(cpus, name string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
}

// runFloorReader runs a floor reader (C or Go) and reads its JSON line.
func runFloorReader(c *floorConfig, s *sim, cmd *exec.Cmd) (floorResult, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	var res floorResult
	simBefore, _ := s.CPU()
	u, err := measure(cmd)
	if err != nil {
		return res, err
	}
	simAfter, _ := s.CPU()
	var line struct {
		Answers, Reads int64
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		return res, fmt.Errorf("its output %q: %w", out.String(), err)
	}
	res.usage, res.SimCPU = u, simAfter-simBefore
	res.Answers, res.Reads = line.Answers, line.Reads
	res.Tokens = line.Answers * int64(c.Tokens)
	return res, nil
}

// runStreamsGenload runs genload closed loop at n streams for Waves
// answers each, then reads TTFT p50 and ITL p99 from its records.
func runStreamsGenload(c *floorConfig, s *sim, n int, extra ...string) (floorResult, error) {
	path := filepath.Join(c.Work, "genload.jsonl")
	f, err := os.Create(path)
	if err != nil {
		return floorResult{}, err
	}
	defer f.Close()
	args := append([]string{"--url", s.URL, "--model", s.Model, "--prompt", "hi",
		"-c", strconv.Itoa(n), "--requests", strconv.Itoa(n * c.Waves), "--max-tokens", strconv.Itoa(c.Tokens),
		"--ignore-eos", "--stream", "--quiet", "--timeout", "10m"}, extra...)
	cmd := pinned(c.ToolCPU, filepath.Join(c.Bin, "genload"), args...)
	cmd.Stdout, cmd.Stderr = f, os.Stderr
	var res floorResult
	simBefore, _ := s.CPU()
	if res.usage, err = measure(cmd); err != nil {
		return res, err
	}
	simAfter, _ := s.CPU()
	res.SimCPU = simAfter - simBefore
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	var ttft, itl []float64
	rd := record.NewReader(f, path)
	for rd.Scan() {
		r := rd.Record()
		if r == nil {
			return res, rd.BadLine()
		}
		if !r.OK {
			continue
		}
		res.Answers++
		res.Tokens += int64(r.OutputTokens)
		if r.TTFTMs != nil {
			ttft = append(ttft, *r.TTFTMs)
		}
		itl = append(itl, r.ITLMs...)
	}
	if err := rd.Err(); err != nil {
		return res, err
	}
	res.Reads = -1 // genload does not count its reads
	res.TTFTp50, res.ITLp99 = quantile(ttft, 0.5), quantile(itl, 0.99)
	return res, nil
}

// floorReport prints each point's rows with genload's ratio to the floors
// measured in the same run.
func floorReport(c *floorConfig, results map[string]map[int]floorResult) error {
	tw := tabwriter.NewWriter(os.Stderr, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "streams\tclient\tµs CPU/token\tuser µs\tsys µs\treads/token\tvs C floor\tTTFT p50 err ms\tITL p99 err ms\tllmsim late p99 ms\tfirst late p50 ms\t\n")
	fmt.Println("streams,client,us_cpu_per_token,us_user_per_token,us_sys_per_token,reads_per_token,ratio_to_c_floor,ttft_p50_err_ms,itl_p99_err_ms,server_us_per_token,server_late_p99_ms,server_first_late_p50_ms")
	for _, n := range c.Streams {
		cf, haveC := results["c-floor"][n]
		for _, client := range c.Clients {
			r, ok := results[client][n]
			if !ok {
				continue
			}
			tok := float64(max(r.Tokens, 1))
			ratio, reads, ttftErr, itlErr := "", "", "", ""
			if haveC {
				ratio = fmt.Sprintf("%.2f", r.usPerToken()/cf.usPerToken())
			}
			if r.Reads >= 0 {
				reads = fmt.Sprintf("%.2f", float64(r.Reads)/tok)
			}
			if strings.HasPrefix(client, "genload") {
				ttftErr = fmt.Sprintf("%+.2f", r.TTFTp50-float64(c.TTFT.Microseconds())/1e3)
				itlErr = fmt.Sprintf("%+.2f", r.ITLp99-float64(c.ITL.Microseconds())/1e3)
			}
			user := float64(r.User.Nanoseconds()) / 1e3 / tok
			sys := float64(r.Sys.Nanoseconds()) / 1e3 / tok
			fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t\n", n, client, r.usPerToken(), user, sys, reads, ratio, ttftErr, itlErr, r.SimLateP99, r.SimFirstLateP50)
			fmt.Printf("%d,%s,%.3f,%.3f,%.3f,%s,%s,%s,%s,%.3f,%.3f,%.3f\n", n, client, r.usPerToken(), user, sys, reads, ratio, ttftErr, itlErr,
				float64(r.SimCPU.Nanoseconds())/1e3/tok, r.SimLateP99, r.SimFirstLateP50)
		}
	}
	return tw.Flush()
}

// quantile is the q-quantile of xs by linear interpolation (xs is sorted
// in place); 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
}

// goReader is the Go floor: a goroutine per connection, each reading with
// plain conn.Read into its own buffer and finding the chunked answer's end,
// nothing else: what the Go runtime costs per token before genload adds
// its own work.
//
//	perf goreader HOST:PORT STREAMS WAVES BODY_FILE [loop]
//
// With loop, the reader is loopReads instead.
func goReader(args []string) error {
	loop := len(args) == 5 && args[4] == "loop"
	if len(args) != 4 && !loop {
		return fmt.Errorf("usage: perf goreader HOST:PORT STREAMS WAVES BODY_FILE [loop]")
	}
	streams, err1 := strconv.Atoi(args[1])
	waves, err2 := strconv.Atoi(args[2])
	body, err3 := os.ReadFile(args[3])
	if err := firstErr(err1, err2, err3); err != nil {
		return err
	}
	req := []byte(fmt.Sprintf("POST /v1/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		args[0], len(body), body))
	var answers, reads atomic.Int64
	if loop {
		if err := loopReads(args[0], streams, waves, req, &answers, &reads); err != nil {
			return err
		}
		fmt.Printf("{\"answers\":%d,\"reads\":%d}\n", answers.Load(), reads.Load())
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	conns := make([]net.Conn, 0, streams)
	for range streams {
		conn, err := net.Dial("tcp", args[0])
		if err != nil {
			return err
		}
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			buf := make([]byte, 64<<10)
			var tail []byte
			for range waves {
				if _, err := conn.Write(req); err != nil {
					errs <- err
					return
				}
				tail = tail[:0]
				for {
					n, err := conn.Read(buf)
					reads.Add(1)
					if err != nil {
						errs <- err
						return
					}
					tail = keepTail(tail, buf[:n])
					if bytes.Equal(tail, chunkedEnd) {
						answers.Add(1)
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("{\"answers\":%d,\"reads\":%d}\n", answers.Load(), reads.Load())
	return nil
}

var chunkedEnd = []byte("\r\n0\r\n\r\n")

// keepTail is the last len(chunkedEnd) bytes of tail followed by p.
func keepTail(tail, p []byte) []byte {
	L := len(chunkedEnd)
	if len(p) >= L {
		return append(tail[:0], p[len(p)-L:]...)
	}
	tail = append(tail, p...)
	if len(tail) > L {
		tail = append(tail[:0], tail[len(tail)-L:]...)
	}
	return tail
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// loopReads is the Go loop floor: one goroutine locked to its OS thread,
// blocking in a raw epoll_wait (out of the scheduler's sight, as
// internal/h1's read loop does), level-triggered, one read per ready
// socket, the sockets taken out of the runtime's poller. What a Go
// reader can get to when the scheduler is not in the way.
func loopReads(addr string, streams, waves int, req []byte, answers, reads *atomic.Int64) error {
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2) // the loop holds its P while it waits
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	defer syscall.Close(ep)
	type st struct {
		fd   int
		tail []byte
		done int
	}
	byFD := map[int]*st{}
	for range streams {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		rc, err := conn.(*net.TCPConn).SyscallConn()
		if err != nil {
			return err
		}
		fd := -1
		if cerr := rc.Control(func(sfd uintptr) { fd, err = syscall.Dup(int(sfd)) }); cerr != nil {
			return cerr
		}
		if err != nil {
			return err
		}
		conn.Close() // the duplicate keeps the socket, out of the runtime's poller
		defer syscall.Close(fd)
		if err := syscall.SetNonblock(fd, true); err != nil {
			return err
		}
		byFD[fd] = &st{fd: fd}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
			return err
		}
		if _, err := syscall.Write(fd, req); err != nil {
			return err
		}
	}
	left := streams
	buf := make([]byte, 64<<10)
	events := make([]syscall.EpollEvent, 1024)
	for left > 0 {
		r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), ^uintptr(0), 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		for _, ev := range events[:int(r)] {
			s := byFD[int(ev.Fd)]
			k, err := syscall.Read(s.fd, buf)
			if err == syscall.EAGAIN {
				continue
			}
			reads.Add(1)
			if err != nil || k == 0 {
				return fmt.Errorf("read: %v (n=%d)", err, k)
			}
			s.tail = keepTail(s.tail, buf[:k])
			if !bytes.Equal(s.tail, chunkedEnd) {
				continue
			}
			answers.Add(1)
			s.tail = s.tail[:0]
			if s.done++; s.done == waves {
				syscall.EpollCtl(ep, syscall.EPOLL_CTL_DEL, s.fd, nil)
				left--
				continue
			}
			if _, err := syscall.Write(s.fd, req); err != nil {
				return err
			}
		}
	}
	return nil
}
