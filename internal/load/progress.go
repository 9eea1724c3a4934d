package load

import (
	"fmt"
	"io"
	"time"
)

// startProgress redraws one status line on stderr four times a second, for
// a person watching a terminal; it returns the function that clears it.
// Pipes and files get nothing: logs stay clean.
func startProgress(cfg *Config, c *counters, stderr io.Writer) (stop func()) {
	if !cfg.Progress || cfg.Quiet {
		return func() {}
	}
	total := fmt.Sprint((cfg.Warmup + cfg.Requests) * len(cfg.Points))
	if cfg.Requests == 0 || cfg.Duration > 0 { // the clock ends the run: no total known
		total = "?"
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(stderr, "\r\033[K")
				return
			case <-tick.C:
				n := c.done.Load()
				rate := float64(n) / time.Since(start).Seconds()
				fmt.Fprintf(stderr, "\r\033[Kgenload: %d/%s done, %d failed, %d in flight, %.1f req/s",
					n, total, c.failed.Load(), c.sent.Load()-n, rate)
			}
		}
	}()
	return func() { close(done); <-finished }
}
