package load

import (
	"fmt"
	"hash/fnv"
	"servebench/internal/dataset"
	"strconv"
	"strings"
	"time"

	"servebench/internal/setting"
)

// Shard is this process's part of a run split across N cooperating genload
// processes (genload --shard K/N, 0-based K). The zero value is the whole
// run (one process).
//
// The rule is one for every kind of schedule: the requests of a phase are
// numbered 0, 1, 2, ... in the order one process would make them, and
// request i belongs to shard i mod N. Every shard draws the whole sequence
// (arrival times, prompts, lengths, models) and keeps its share, so the
// draws are identical in every shard and the N processes together send
// exactly what one process would: the same requests at the same offsets
// from the common start, with the same seq numbers (so request ids do
// not collide). Closed-loop workers are divided the same way: shard K of N
// runs C/N workers, one more when K < C mod N; a request count R gives it
// R/N requests, one more when K < R mod N, which is what i mod N == K
// picks. Multi-turn sessions and trace replays follow the same rule with i
// the session's index (every turn of a session stays in one shard) or the
// trace line's index.
type Shard struct {
	K, N int
}

// ParseShard reads "K/N" with 0 <= K < N.
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	k, kerr := strconv.Atoi(ks)
	n, nerr := strconv.Atoi(ns)
	if !ok || kerr != nil || nerr != nil || n < 1 || k < 0 || k >= n {
		return Shard{}, setting.Errorf("{Shard} %q: want K/N with 0 <= K < N, such as 0/3 (the Kubernetes job completion index is 0-based)", s)
	}
	return Shard{K: k, N: n}, nil
}

// On is true when the run is split.
func (s Shard) On() bool { return s.N > 1 }

// String is "K/N", as records carry it; "" for the whole run.
func (s Shard) String() string {
	if !s.On() {
		return ""
	}
	return strconv.Itoa(s.K) + "/" + strconv.Itoa(s.N)
}

// Owns is true when request i of a phase falls to this shard.
func (s Shard) Owns(i int) bool { return !s.On() || i%s.N == s.K }

// Share is this shard's part of a total divided among the shards (workers,
// a concurrency cap, a request count): total/N, one more for the first
// total mod N shards. A total of 0 (no limit) stays 0.
func (s Shard) Share(total int) int {
	if !s.On() {
		return total
	}
	n := total / s.N
	if s.K < total%s.N {
		n++
	}
	return n
}

// check refuses a split that leaves a shard nothing to do at some load
// point: a shard with no worker, or with no slot under the cap (which 0
// would mean "no cap"), or with no request, is an error, not an idle pod.
func (s Shard) check(c *Config) error {
	if !s.On() {
		return nil
	}
	for _, p := range c.Points {
		if p.Rate == 0 && p.Concurrency < s.N {
			return setting.Errorf("{Concurrencies} %d cannot be split into %d shards ({Shard}): give each at least one worker", p.Concurrency, s.N)
		}
	}
	if (len(c.Rates) > 0 || c.TraceFile != "") && c.MaxConcurrency > 0 && c.MaxConcurrency < s.N {
		return setting.Errorf("{MaxConcurrency} %d cannot be split into %d shards ({Shard}): each needs at least one slot", c.MaxConcurrency, s.N)
	}
	if c.Requests > 0 && c.Requests < s.N {
		return setting.Errorf("{Requests} %d cannot be split into %d shards ({Shard}): each needs at least one request", c.Requests, s.N)
	}
	return nil
}

// ResolveStartAt reads --start-at, the instant every shard starts its
// clock: an RFC 3339 time, or "+D". For "+D" the shared value is base when
// it is given (RFC 3339), else the next whole UTC minute after now: N
// processes launched within the same minute agree without being told
// anything but the flag; across a minute boundary they do not, which is
// why a launcher that can (a script, a Kubernetes manifest filled in at
// apply time) should pass an absolute time or a base.
func ResolveStartAt(spec, base string, now time.Time) (time.Time, error) {
	spec = strings.TrimSpace(spec)
	if rel, ok := strings.CutPrefix(spec, "+"); ok {
		d, err := time.ParseDuration(rel)
		if err != nil || d < 0 {
			return time.Time{}, setting.Errorf("{StartAt} %q: want an RFC 3339 time such as 2026-12-01T12:00:00Z or +DURATION such as +30s", spec)
		}
		from := now.UTC().Truncate(time.Minute).Add(time.Minute)
		if base != "" {
			b, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(base))
			if err != nil {
				return time.Time{}, setting.Errorf("{StartAt} %q is relative to $SERVEBENCH_START_BASE %q, which is not an RFC 3339 time", spec, base)
			}
			from = b
		}
		return from.Add(d).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, spec)
	if err != nil {
		return time.Time{}, setting.Errorf("{StartAt} %q: want an RFC 3339 time such as 2026-12-01T12:00:00Z or +DURATION such as +30s", spec)
	}
	return t.UTC(), nil
}

// ShardRunID is the run id every shard derives alike when none is given:
// the start time and a hash of the seed, 20261201T120000Z-s1a2b3c.
func ShardRunID(start time.Time, seed uint64) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d", seed)
	return start.UTC().Format("20060102T150405Z") + fmt.Sprintf("-s%06x", h.Sum32()&0xffffff)
}

// startClock returns the instant the run's first phase counts its schedule
// from: cfg.StartAt, waited for, once; time.Now() for every later phase
// and for runs without one. A shard that reaches it late starts at once
// with the schedule still counted from StartAt, so the lateness is in
// queue_ms of its first requests, and says so on stderr.
func (r *runner) startClock() time.Time {
	at := r.startAt
	if at.IsZero() {
		return time.Now()
	}
	r.startAt = time.Time{}
	wait := time.Until(at)
	if wait <= 0 {
		if !r.a.cfg.Quiet {
			fmt.Fprintf(r.stderr, "genload: warning: %sstarted %v after --start-at %s: its first requests leave late and the lag is in their queue_ms\n",
				shardWords(r.a.cfg.Shard), (-wait).Round(time.Millisecond), at.Format(time.RFC3339Nano))
		}
		return at
	}
	if !r.a.cfg.Quiet {
		fmt.Fprintf(r.stderr, "genload: %swaiting %v for --start-at %s\n", shardWords(r.a.cfg.Shard), wait.Round(time.Millisecond), at.Format(time.RFC3339Nano))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.stop.Done():
	case <-r.reqCtx.Done():
	}
	return at
}

func shardWords(s Shard) string {
	if !s.On() {
		return ""
	}
	return "shard " + s.String() + " "
}

// ownedJobs draws the jobs of one phase in the order one process would and
// yields those of this shard: the others' are drawn too (their prompts,
// models and seq numbers), so that every shard's draws stay the same.
type ownedJobs struct {
	r     *runner
	name  string
	pt    Point
	shard Shard
	drawn int // jobs of the phase drawn so far, all shards'
}

// next returns the next job of this shard, or ok false when the phase's n
// jobs (0 = no limit) are all drawn.
func (o *ownedJobs) next(n int) (j job, ok bool, err error) {
	for n == 0 || o.drawn < n { // past this shard's last job, the rest of the phase is drawn too
		i := o.drawn
		j, err = o.r.newJob(o.name, o.pt)
		if err != nil {
			return job{}, false, err
		}
		o.drawn++
		if o.shard.Owns(i) {
			return j, true, nil
		}
	}
	return job{}, false, nil
}

// validateShard checks a split run: every shard has work at every load
// point, and the shards share a run id (given, or derived alike in every
// shard from StartAt and Seed).
func (c *Config) validateShard() error {
	if err := c.Shard.check(c); err != nil {
		return err
	}
	c.shardName = c.Shard.String()
	if !c.Shard.On() {
		return nil
	}
	defer func() {
		if c.salt != "" { // one salt for the run, whichever shard draws it
			c.salt = dataset.SaltFor(c.RunID)
		}
	}()
	if c.RunID != "" {
		return nil
	}
	if c.StartAt.IsZero() {
		return setting.Errorf("{Shard} needs a run id common to every shard: give {RunID}, or {StartAt} (the run id is then derived from it and the seed)")
	}
	c.RunID = ShardRunID(c.StartAt, c.Seed)
	return nil
}

// drawRest draws the phase's jobs no worker of this shard took (a shard
// with no share of a short warmup, or whose workers ended before the
// last jobs of the others were drawn), so that the next phase starts at
// the same point of the prompt sequence in every shard. n 0 (a phase
// bounded by time) has no rest: shards then stay aligned only within it.
func (o *ownedJobs) drawRest(n int) error {
	for n > 0 && o.drawn < n {
		if _, err := o.r.newJob(o.name, o.pt); err != nil {
			return err
		}
		o.drawn++
	}
	return nil
}
