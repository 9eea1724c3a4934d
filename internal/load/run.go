package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"servebench/internal/openai"
	"servebench/internal/record"
)

// Result sums up a run for the final stderr line and the exit code.
type Result struct {
	RunID       string
	Model       string
	Sent        int64 // attempts made (each has a record)
	Failed      int64
	Elapsed     time.Duration
	Interrupted bool
}

// ErrInterrupted is returned when a stop signal ended the run early.
var ErrInterrupted = errors.New("interrupted")

// counters are shared between workers and the progress line.
type counters struct {
	sent, done, failed atomic.Int64
}

// NewHTTPClient returns a client whose transport keeps one idle connection
// per worker, so connections are reused and never re-dialled mid-run, and
// which does not ask for gzip: compression would buffer a stream and hide
// its timing.
func NewHTTPClient(concurrency int) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        concurrency + 16,
		MaxIdleConnsPerHost: concurrency + 16,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr}
}

// Run sends the warmup and then the measured requests with cfg.Concurrency
// workers and writes one record per attempt to out as each one finishes.
//
// stop ends the sending of new requests; those in flight get cfg.Grace to
// finish, then are canceled and recorded as such. abort cancels them at
// once. Either way every attempt made has its record written before Run
// returns, and Run returns ErrInterrupted.
func Run(stop, abort context.Context, cfg *Config, out *record.Writer, stderr io.Writer) (Result, error) {
	start := time.Now()
	res := Result{RunID: cfg.RunID}
	hc := NewHTTPClient(cfg.Concurrency)
	defer hc.CloseIdleConnections()

	if cfg.Model == "" {
		model, err := firstModel(stop, hc, cfg)
		if err != nil {
			return res, err
		}
		cfg.Model = model
	}
	res.Model = cfg.Model
	prompts, err := buildPrompts(cfg)
	if err != nil {
		return res, err
	}

	reqCtx, cancelReqs := context.WithCancel(abort)
	defer cancelReqs()
	go func() { // after a stop, give requests in flight the grace period
		select {
		case <-stop.Done():
		case <-reqCtx.Done():
			return
		}
		t := time.NewTimer(cfg.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelReqs()
		case <-reqCtx.Done():
		}
	}()

	var c counters
	progressDone := startProgress(cfg, &c, stderr)
	a := &attempter{hc: hc, cfg: cfg, url: cfg.Target.EndpointURL(cfg.Endpoint), maxBytes: cfg.MaxResponseBytes}
	r := &runner{a: a, out: out, prompts: prompts, c: &c, stop: stop, reqCtx: reqCtx, cancel: cancelReqs}
	seq := 0
	for _, ph := range []struct {
		name string
		n    int
	}{{record.PhaseWarmup, cfg.Warmup}, {record.PhaseMeasure, cfg.Requests}} {
		if ph.n == 0 || stop.Err() != nil || r.writeErr() != nil {
			continue
		}
		r.phase(ph.name, seq, ph.n, cfg.Concurrency)
		seq += ph.n
	}
	progressDone()
	res.Sent, res.Failed, res.Elapsed = c.sent.Load(), c.failed.Load(), time.Since(start)
	if err := r.writeErr(); err != nil {
		return res, fmt.Errorf("writing records: %w", err)
	}
	if stop.Err() != nil || abort.Err() != nil {
		res.Interrupted = true
		return res, ErrInterrupted
	}
	return res, nil
}

// runner holds what the workers of a phase share.
type runner struct {
	a       *attempter
	out     *record.Writer
	prompts []*Prompt
	c       *counters
	stop    context.Context
	reqCtx  context.Context
	cancel  context.CancelFunc

	mu   sync.Mutex
	werr error
}

func (r *runner) writeErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.werr
}

// phase runs n requests, numbered from first, with `workers` in flight:
// closed-loop load, each worker sending its next request as soon as its last
// one ended. The schedule time of a closed-loop request is the moment a
// worker took it, so queue_ms measures only the client's own overhead.
func (r *runner) phase(name string, first, n, workers int) {
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.scheduledAt = time.Now()
				r.c.sent.Add(1)
				rec := r.a.do(r.reqCtx, j)
				r.c.done.Add(1)
				if !rec.OK {
					r.c.failed.Add(1)
				}
				if err := r.out.Write(rec); err != nil {
					r.mu.Lock()
					if r.werr == nil {
						r.werr = err
						r.cancel() // nobody reads our output: stop now
					}
					r.mu.Unlock()
				}
			}
		}()
	}
send:
	for i := range n {
		j := job{seq: first + i, phase: name, prompt: r.prompts[(first+i)%len(r.prompts)]}
		select {
		case <-r.stop.Done():
			break send
		case <-r.reqCtx.Done():
			break send
		case jobs <- j:
		}
	}
	close(jobs)
	wg.Wait()
}

// firstModel asks the server which model it serves.
func firstModel(ctx context.Context, hc *http.Client, cfg *Config) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	models, err := openai.ListModels(ctx, hc, cfg.Target, cfg.APIKey)
	if err != nil {
		return "", fmt.Errorf("cannot list the served models (is the server up? try probe, or give --model): %w", err)
	}
	if len(models) == 0 {
		return "", fmt.Errorf("%s lists no models: give --model", cfg.Target.ModelsURL())
	}
	return models[0].ID, nil
}
