package load

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"time"

	"servebench/internal/openai"
)

// ClockCheck is how this host's wall clock stands against the server's,
// from the Date header of its answers (RFC 9110: whole seconds): not NTP,
// a sanity check that the shards of a run kept one time. Skew is local
// minus server; the truth is within Err of it.
type ClockCheck struct {
	Skew, Err time.Duration
	Samples   int
}

// skewInterval narrows down the skew from samples. A response sent at
// local time s and received at r whose Date says D was made when the
// server's clock read some h in [D, D+1s) and the local clock some l in
// [s, r], so the skew l - h lies in (s - D - 1s, r - D]. Every sample
// gives such an interval and the skew is in all of them: their
// intersection is a whole second wide for samples within one server
// second, and as narrow as the gap between two samples on either side of
// a tick of the server's second.
type skewInterval struct {
	lo, hi time.Duration
	n      int
}

func (iv *skewInterval) add(sent, received, date time.Time) {
	lo, hi := sent.Sub(date)-time.Second, received.Sub(date)
	if iv.n == 0 || lo > iv.hi || hi < iv.lo { // the first, or a clock that stepped: start again
		iv.lo, iv.hi, iv.n = lo, hi, 1
		return
	}
	iv.lo, iv.hi, iv.n = max(iv.lo, lo), min(iv.hi, hi), iv.n+1
}

func (iv *skewInterval) check() ClockCheck {
	return ClockCheck{Skew: (iv.lo + iv.hi) / 2, Err: (iv.hi - iv.lo) / 2, Samples: iv.n}
}

// Clock-check pacing: coarse samples until the server's second ticks, then
// fine ones around the next tick, a second later.
const (
	clockCoarseGap = 20 * time.Millisecond
	clockFineGap   = time.Millisecond
	clockFineSpan  = 15 * time.Millisecond // either side of the expected tick
)

// checkClock samples the server's Date header with GET /v1/models: once,
// or until budget ends (the wait before --start-at) catching a tick of
// the server's second for a precision of a few ms. ok is false when no
// answer carried a Date.
func checkClock(ctx context.Context, hc *http.Client, cfg *Config, budget time.Duration) (ClockCheck, bool) {
	var iv skewInterval
	end := time.Now().Add(budget)
	sample := func() (time.Time, bool) {
		d, ok := dateSample(ctx, hc, cfg, &iv)
		return d, ok
	}
	first, ok := sample()
	if !ok {
		return ClockCheck{}, false
	}
	last := first
	var tick time.Time // local time of a tick of the server's second, once seen
	for tick.IsZero() && time.Now().Add(clockCoarseGap).Before(end) {
		before := time.Now()
		if !sleepCtx(ctx, clockCoarseGap) {
			break
		}
		d, ok := sample()
		if !ok {
			break
		}
		if d.After(last) {
			tick = before.Add(time.Since(before) / 2)
		}
		last = d
	}
	if !tick.IsZero() {
		next := tick.Add(time.Second)
		if wait := time.Until(next.Add(-clockFineSpan)); time.Now().Add(wait+2*clockFineSpan).Before(end) && sleepCtx(ctx, wait) {
			for time.Now().Before(next.Add(clockFineSpan)) {
				if _, ok := sample(); !ok || !sleepCtx(ctx, clockFineGap) {
					break
				}
			}
		}
	}
	return iv.check(), true
}

// dateSample asks once and adds the answer's Date to iv.
func dateSample(ctx context.Context, hc *http.Client, cfg *Config, iv *skewInterval) (time.Time, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Target.ModelsURL(), nil)
	if err != nil {
		return time.Time{}, false
	}
	openai.SetAuth(req, cfg.APIKey)
	sent := time.Now()
	resp, err := hc.Do(req)
	received := time.Now()
	if err != nil {
		return time.Time{}, false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return time.Time{}, false
	}
	iv.add(sent, received, date)
	return date, true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// clockBudget is how long the clock check may take: the wait before
// --start-at less a margin, at most 2.5 s (a tick, then the next one);
// 0 (one sample) without a start to wait for.
func clockBudget(startAt time.Time) time.Duration {
	if startAt.IsZero() {
		return 0
	}
	return min(time.Until(startAt)-100*time.Millisecond, 2500*time.Millisecond)
}

// noteHostAndClock fills what every record says of this process: its
// host and, for a shard of a split run, the clock check (when the server
// sent a Date). A run of one process makes no request of its own.
func noteHostAndClock(ctx context.Context, hc *http.Client, cfg *Config, stderr io.Writer) {
	cfg.host, _ = os.Hostname()
	if !cfg.Shard.On() {
		return
	}
	cfg.noteClock(checkClock(ctx, hc, cfg, clockBudget(cfg.StartAt)))
	reportClock(cfg, stderr)
}

func (c *Config) noteClock(ck ClockCheck, ok bool) {
	if !ok {
		return
	}
	skew, errMs := ms(ck.Skew), ms(ck.Err)
	c.clockSkewMs, c.clockErrMs = &skew, &errMs
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// reportClock says on stderr, for a shard, where it runs and how its clock
// stands: the line that tells, in a pod's log, which shard was off.
func reportClock(cfg *Config, stderr io.Writer) {
	if !cfg.Shard.On() || cfg.Quiet {
		return
	}
	if cfg.clockSkewMs == nil {
		fmt.Fprintf(stderr, "genload: shard %s on %s: the server sent no Date header, so the clock is not checked\n", cfg.shardName, cfg.host)
		return
	}
	fmt.Fprintf(stderr, "genload: shard %s on %s: clock %+.1f ms against the server's Date (±%.1f ms)\n", cfg.shardName, cfg.host, *cfg.clockSkewMs, *cfg.clockErrMs)
}
