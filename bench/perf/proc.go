package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is what one process cost, from the kernel's accounting of that
// process alone (wait4's rusage): not its children, not the server.
type usage struct {
	Wall      time.Duration
	User, Sys time.Duration
	MaxRSS    int64 // bytes
}

// CPU is user plus system time.
func (u usage) CPU() time.Duration { return u.User + u.Sys }

// measure runs cmd to its end and returns its own resource usage.
func measure(cmd *exec.Cmd) (usage, error) {
	start := time.Now()
	err := cmd.Run()
	u := usage{Wall: time.Since(start)}
	if cmd.ProcessState == nil {
		return u, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.User = time.Duration(ru.Utime.Nano())
		u.Sys = time.Duration(ru.Stime.Nano())
		u.MaxRSS = int64(ru.Maxrss)
		if runtime.GOOS == "linux" {
			u.MaxRSS *= 1024 // Linux reports KiB, macOS bytes
		}
	}
	if err != nil {
		return u, fmt.Errorf("%s: %w", cmd.Path, err)
	}
	return u, nil
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's CPU times; it
// is 100 on every mainstream kernel configuration.
const clockTicks = 100

// procCPU is the CPU time (user + system) a running process has used so
// far, from /proc; ok is false where there is no /proc. Its resolution is
// 10 ms, plenty over runs of seconds.
func procCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}

// machineCPU is the busy and total CPU time of the whole machine so far
// (/proc/stat), to tell how much of it other processes took during a run.
func machineCPU() (busy, total time.Duration, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	var sum, idle int64
	for i, s := range f[1:] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i >= 8 { // guest times are already counted in user and nice
			break
		}
		sum += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	tick := time.Second / clockTicks
	return time.Duration(sum-idle) * tick, time.Duration(sum) * tick, true
}

// sim is a running llmsim.
type sim struct {
	cmd   *exec.Cmd
	URL   string
	Model string
}

var simLine = regexp.MustCompile(`serving (\S+) on (http://\S+)`)

// startSim starts llmsim with args and waits for its startup line.
func startSim(llmsim string, args ...string) (*sim, error) {
	return startSimCmd(exec.Command(llmsim, append([]string{"--addr", "127.0.0.1:0", "--quiet"}, args...)...))
}

// startSimCmd starts cmd, an llmsim command line (behind taskset, say),
// and waits for its startup line.
func startSimCmd(cmd *exec.Cmd) (*sim, error) {
	llmsim := cmd.Path
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := simLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
				break
			}
			fmt.Fprintln(os.Stderr, sc.Text())
		}
		_, _ = io.Copy(os.Stderr, stderr)
	}()
	select {
	case m := <-found:
		return &sim{cmd: cmd, Model: m[1], URL: m[2]}, nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s did not print its startup line within 10s", llmsim)
	}
}

// CPU is what the server has used so far.
func (s *sim) CPU() (time.Duration, bool) { return procCPU(s.cmd.Process.Pid) }

// Stop ends the server (SIGINT, then SIGKILL after 5 s).
func (s *sim) Stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}
