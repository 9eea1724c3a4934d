package servermetrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxBody bounds one /metrics body: vLLM's is tens of kilobytes.
const maxBody = 16 << 20

// settle is how long the last sample waits after the last request ended.
const settle = 50 * time.Millisecond

// Point is the load point a sample is taken at, as records name it.
type Point struct {
	Concurrency int
	Rate        float64
	MaxTokens   int
}

// Collector polls a server's /metrics on its own goroutine, with its own
// HTTP client and timeout, and writes each sample as a Line to Out.
// Nothing it meets reaches the load: a failed scrape is skipped and
// warned about on Warn (once, then counted at Stop), a server without
// /metrics (404, Ollama) is warned about once and not polled again.
type Collector struct {
	URL      string
	Interval time.Duration
	Timeout  time.Duration // of one scrape
	RunID    string
	Label    string
	Out      io.Writer
	Warn     io.Writer
	Client   *http.Client // nil: a client of its own
	// APIKey, when set, is sent as a bearer token (a gateway may guard
	// /metrics as it guards the API). The caller sets it only for the
	// server the load goes to, never for another host.
	APIKey string

	mu       sync.Mutex // guards the fields below, and writes to Out
	point    Point
	buf      []byte
	last     map[string]float64 // the last counters written, for resets
	tries    int
	failed   int
	firstErr error
	absent   bool // 404: the server has no /metrics
	writeErr error
	unknown  bool // a scrape had no family servebench knows (warned once)

	now  chan chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

// Start takes the first sample, before any request is sent, then polls
// every Interval until Stop.
func (c *Collector) Start(ctx context.Context) {
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConns: 1}}
	}
	c.now, c.done = make(chan chan struct{}), make(chan struct{})
	c.sample(ctx)
	c.wg.Add(1)
	go c.loop(ctx)
}

func (c *Collector) loop(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.sample(ctx)
		case ack := <-c.now:
			c.sample(ctx)
			close(ack)
		case <-c.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// Mark says a new load point (or phase) begins: later samples carry p,
// and one is taken now, so that counter deltas split between the points.
// It waits for that sample at most Timeout, so the load is held back by
// no more than one bounded scrape at each boundary.
func (c *Collector) Mark(p Point) {
	c.mu.Lock()
	c.point = p
	c.mu.Unlock()
	ack := make(chan struct{})
	t := time.NewTimer(c.Timeout + 100*time.Millisecond)
	defer t.Stop()
	select {
	case c.now <- ack:
	case <-t.C:
		return
	case <-c.done:
		return
	}
	select {
	case <-ack:
	case <-t.C:
	}
}

// Stop takes the last sample, after the last request finished, ends the
// polling and says how many scrapes failed. It returns the first error
// writing Out.
//
// A server counts a request once it has written its last byte, which the
// client may read first: the last sample waits settle (or the interval,
// when shorter) so that the run's last requests are in its counters.
func (c *Collector) Stop() error {
	close(c.done)
	c.wg.Wait()
	time.Sleep(min(settle, c.Interval))
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	c.sample(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed > 1 {
		fmt.Fprintf(c.Warn, "genload: warning: server metrics: %d of %d samples from %s failed and were skipped (first: %v)\n", c.failed, c.tries, c.URL, c.firstErr)
	}
	return c.writeErr
}

// sample scrapes once and writes the sample; failures are warned about.
func (c *Collector) sample(ctx context.Context) {
	c.mu.Lock()
	if c.absent {
		c.mu.Unlock()
		return
	}
	p := c.point
	c.mu.Unlock()
	at := time.Now()
	s, err := c.scrape(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tries++
	var nf *notFoundError
	switch {
	case errors.As(err, &nf):
		c.absent = true
		fmt.Fprintf(c.Warn, "genload: warning: %s answers %d: the server publishes no metrics there (Ollama has none); the run goes on without server metrics\n", c.URL, nf.status)
		return
	case err != nil:
		c.failed++
		if c.firstErr == nil {
			c.firstErr = err
			fmt.Fprintf(c.Warn, "genload: warning: server metrics: sample skipped: %v\n", err)
		}
		return
	case s.Empty():
		if !c.unknown {
			c.unknown = true
			fmt.Fprintf(c.Warn, "genload: warning: server metrics: %s has no family servebench knows (vLLM, SGLang, TGI, llama.cpp); samples are written empty\n", c.URL)
		}
	}
	c.checkResets(s.Counters)
	l := Line{RunID: c.RunID, Label: c.Label, Concurrency: p.Concurrency, Rate: p.Rate, MaxTokens: p.MaxTokens, At: at.UTC(), Sample: s}
	if c.writeErr != nil {
		return
	}
	if c.buf, err = AppendLine(c.buf[:0], &l); err == nil {
		_, err = c.Out.Write(c.buf)
	}
	if err != nil {
		c.writeErr = fmt.Errorf("writing server metrics: %w", err)
		fmt.Fprintf(c.Warn, "genload: warning: %v; no more samples are written\n", c.writeErr)
	}
}

// checkResets warns when a counter went down: the server restarted.
// Readers count the rise with Increase, by Prometheus' reset rule.
func (c *Collector) checkResets(counters map[string]float64) {
	for name, v := range counters {
		if old, ok := c.last[name]; ok && v < old {
			fmt.Fprintf(c.Warn, "genload: warning: server metrics: counter %s went down (%v -> %v): the server restarted? counted from zero, as Prometheus does\n", name, old, v)
			break
		}
	}
	c.last = counters
}

type notFoundError struct{ status int }

func (e *notFoundError) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

// scrape fetches and parses one /metrics body within Timeout.
func (c *Collector) scrape(ctx context.Context) (Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return Sample{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		return Sample{}, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return Sample{}, &notFoundError{resp.StatusCode}
	case resp.StatusCode != http.StatusOK:
		return Sample{}, fmt.Errorf("%s: HTTP %d", c.URL, resp.StatusCode)
	}
	s, err := Parse(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w", c.URL, err)
	}
	return s, nil
}
