package load

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/openai"
	"servebench/internal/setting"
)

// validateTrace reads the trace of TraceFile, checks the settings that go
// with it and makes its one load point: the trace's own times, at the
// trace's mean rate (what the records' rate says), at most MaxConcurrency
// in flight.
func (c *Config) validateTrace() error {
	if c.TraceFile == "" {
		if c.TraceFormat != "" || c.TimeScale != 0 {
			return setting.Errorf("{TraceFormat} and {TimeScale} are for {TraceFile}")
		}
		return nil
	}
	switch {
	case len(c.Rates) > 0 || len(c.Concurrencies) > 0:
		return setting.Errorf("{TraceFile} sends at the trace's times: not with {Rates} or {Concurrencies} (cap requests in flight with {MaxConcurrency})")
	case c.Warmup > 0:
		return setting.Errorf("{Warmup} does not apply to {TraceFile}: a trace is replayed as it is")
	case c.Conversations.Enabled():
		return setting.Errorf("{TraceFile} and conversations cannot be used together")
	case c.Dataset.InputTokens > 0 || c.Dataset.PromptFile != "" || c.Dataset.ShareGPTFile != "" || len(c.Dataset.Prompts) > 0 ||
		c.Dataset.OutputTokens > 0 || c.Dataset.SharedPrefixTokens > 0:
		return setting.Errorf("{TraceFile} gives the prompts and their lengths: not with {InputTokens}, {OutputTokens}, {SharedPrefixTokens} or another prompt source")
	case c.Endpoint == openai.EndpointEmbeddings:
		return setting.Errorf("{TraceFile} is for {Endpoint} completions or chat")
	case c.TimeScale < 0 || math.IsNaN(c.TimeScale) || math.IsInf(c.TimeScale, 0):
		return setting.Errorf("{TimeScale} %v: want a positive factor (0.5 replays twice as fast)", c.TimeScale)
	case c.TimeScale == 0:
		c.TimeScale = 1
	}
	tr, err := dataset.ReadTrace(c.TraceFile, c.TraceFormat)
	if err != nil {
		return err
	}
	c.trace = tr
	c.source = dataset.NewTraceSource(tr, int64(c.Seed))
	n, span := c.traceReplayed()
	rate := 0.0
	if n > 1 && span > 0 {
		rate, _ = strconv.ParseFloat(strconv.FormatFloat(float64(n-1)/span.Seconds(), 'g', 4, 64), 64)
	}
	c.Points = []Point{{Rate: rate, Concurrency: c.MaxConcurrency}}
	return nil
}

// traceReplayed is how many of the trace's requests the run sends and the
// span of their send times, scaled: the whole trace, or its start up to
// Requests or Duration.
func (c *Config) traceReplayed() (n int, span time.Duration) {
	for _, e := range c.trace.Entries {
		off := c.scaled(e.Offset)
		if (c.Requests > 0 && n == c.Requests) || (c.Duration > 0 && off >= c.Duration) {
			break
		}
		n, span = n+1, off
	}
	return n, span
}

func (c *Config) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.TimeScale)
}

// TraceNote says what part of the trace the run replays when it is not
// the whole: "" for a whole trace, or none.
func (c *Config) TraceNote() string {
	if c.trace == nil {
		return ""
	}
	all := len(c.trace.Entries)
	n, _ := c.traceReplayed()
	if n == all {
		return ""
	}
	whole := c.scaled(c.trace.Entries[all-1].Offset)
	why := fmt.Sprintf("{Requests} %d", c.Requests)
	if c.Requests == 0 || n < c.Requests {
		why = fmt.Sprintf("{Duration} %v", c.Duration)
	}
	return fmt.Sprintf("the trace %s has %d requests over %v at {TimeScale} %v; replaying the first %d (%s)",
		c.trace.Name, all, whole.Round(time.Millisecond), c.TimeScale, n, why)
}

// traceLoop sends the trace's requests at start + (t_i - t_0) x TimeScale,
// as openLoop sends a schedule's: late requests keep their time, and the
// wait for a slot (MaxConcurrency) shows in queue_ms.
func (r *runner) traceLoop(name string, pt Point, start time.Time) error {
	cfg := r.a.cfg
	n, _ := cfg.traceReplayed()
	l := r.newLauncher(cfg.Shard.Share(pt.Concurrency))
	for i := range n {
		at := start.Add(cfg.scaled(cfg.trace.Entries[i].Offset))
		j, err := r.newJob(name, pt)
		if err != nil {
			l.drain()
			return err
		}
		if !cfg.Shard.Owns(i) { // another shard's line: drawn, not sent
			continue
		}
		j.scheduledAt = at
		if !l.wait(at) {
			break
		}
		l.start(func() { r.exec(j) })
	}
	l.finish(name, pt)
	return nil
}
