package load

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressTick is how often the terminal line is redrawn.
const progressTick = 250 * time.Millisecond

// rateWindow is the span the current rate is measured over: long enough to
// be steady, short enough to follow a sweep from level to level.
const rateWindow = 5 * time.Second

// progress draws genload's status line: done/total, failures by kind, in
// flight, the current rate, the load point (of a sweep), elapsed time and
// the time left. A hand-drawn line rather than a progress-bar library: the
// line is a status, not a bar (a --duration run has no total), it must go
// to stderr only, and a log gets the same text as plain lines.
type progress struct {
	cfg     *Config
	c       *counters
	stderr  io.Writer
	start   time.Time
	samples []sample // (time, done) over the last rateWindow

	mu     sync.Mutex // serializes drawing with pause
	paused bool
}

type sample struct {
	at   time.Time
	done int64
}

// startProgress shows the status line on stderr, redrawn four times a
// second on a terminal, or as a plain line every cfg.ProgressEvery with
// cfg.ProgressLines (cron logs). It returns the function that clears it
// for good, and pause/resume for a message that must not be drawn over.
func startProgress(cfg *Config, c *counters, stderr io.Writer) (stop, pause, resume func()) {
	if !cfg.Progress || cfg.Quiet {
		return func() {}, func() {}, func() {}
	}
	p := &progress{cfg: cfg, c: c, stderr: stderr, start: time.Now()}
	every := progressTick
	if cfg.ProgressLines {
		every = cfg.ProgressEvery
		if every <= 0 {
			every = 10 * time.Second
		}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				p.clear()
				return
			case now := <-tick.C:
				p.draw(now)
			}
		}
	}()
	return func() { close(done); <-finished }, p.pause, p.resume
}

func (p *progress) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = true
	if !p.cfg.ProgressLines {
		fmt.Fprint(p.stderr, "\r\033[K")
	}
}

func (p *progress) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = false
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cfg.ProgressLines {
		fmt.Fprint(p.stderr, "\r\033[K")
	}
}

func (p *progress) draw(now time.Time) {
	line := p.line(now)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.paused:
	case p.cfg.ProgressLines:
		fmt.Fprintln(p.stderr, line)
	default:
		fmt.Fprint(p.stderr, "\r\033[K"+line)
	}
}

// line is the status at now, e.g. "genload: 120/400 done, 2 failed (http
// 2), 8 in flight, 47.2 req/s, concurrency 8 (3 of 5), 0:12 elapsed, ~0:28
// left".
func (p *progress) line(now time.Time) string {
	c := p.c
	n := c.done.Load()
	var b strings.Builder
	fmt.Fprintf(&b, "genload: %d/%s done, %d failed", n, p.total(), c.failed.Load())
	if kinds := c.measured.kindsNow(); kinds != "" {
		fmt.Fprintf(&b, " (%s)", kinds)
	}
	fmt.Fprintf(&b, ", %d in flight, %.1f req/s", c.sent.Load()-n, p.rate(now, n))
	i := int(c.point.Load())
	if pts := p.cfg.Points; len(pts) > 1 {
		fmt.Fprintf(&b, ", %s (%d of %d)", pts[i], i+1, len(pts))
	}
	elapsed := now.Sub(p.start)
	fmt.Fprintf(&b, ", %s elapsed", clock(elapsed))
	if left, ok := p.left(now, elapsed, n, i); ok {
		fmt.Fprintf(&b, ", ~%s left", clock(left))
	}
	return b.String()
}

// total is the number of requests the run will make, "?" when the clock
// ends it.
func (p *progress) total() string {
	if n := p.requests(); n > 0 {
		return fmt.Sprint(n)
	}
	return "?"
}

func (p *progress) requests() int64 {
	cfg := p.cfg
	switch {
	case cfg.trace != nil: // the part of the trace replayed
		n, _ := cfg.traceReplayed()
		return int64(n)
	case cfg.Requests == 0 || cfg.Duration > 0:
		return 0
	case cfg.convs != nil: // sessions: their turns, when every one has as many
		return int64((cfg.Warmup + cfg.Requests) * cfg.Conversations.Turns * len(cfg.Points))
	}
	sh := cfg.Shard // a shard makes its share of each phase
	return int64((sh.Share(cfg.Warmup) + sh.Share(cfg.Requests)) * len(cfg.Points))
}

// rate is the completion rate over the last rateWindow: the current
// level's, not the whole run's average.
func (p *progress) rate(now time.Time, done int64) float64 {
	p.samples = append(p.samples, sample{now, done})
	cut := 0
	for cut < len(p.samples)-1 && now.Sub(p.samples[cut].at) > rateWindow {
		cut++
	}
	p.samples = p.samples[cut:]
	first := p.samples[0]
	if dt := now.Sub(first.at).Seconds(); dt > 0 {
		return float64(done-first.done) / dt
	}
	if dt := now.Sub(p.start).Seconds(); dt > 0 {
		return float64(done) / dt
	}
	return 0
}

// left estimates the time to the end: from the pace so far for a count of
// requests, from the clock for a --duration run (warmups not counted).
func (p *progress) left(now time.Time, elapsed time.Duration, done int64, point int) (time.Duration, bool) {
	if total := p.requests(); total > 0 && done > 0 {
		return time.Duration(float64(elapsed) * float64(total-done) / float64(done)), true
	}
	if d := p.cfg.Duration; d > 0 && p.cfg.Requests == 0 && point < len(p.cfg.Points) { // a search has no list of points: no estimate
		inPhase := now.Sub(time.Unix(0, p.c.phaseStart.Load()))
		return time.Duration(len(p.cfg.Points)-point-1)*d + max(0, d-inPhase), true
	}
	return 0, false
}

// clock is m:ss (or h:mm:ss).
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
