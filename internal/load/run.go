package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"servebench/internal/openai"
	"servebench/internal/record"
	"servebench/internal/setting"
)

// Result sums up a run for the final stderr line and the exit code.
type Result struct {
	RunID       string
	Model       string
	Sent        int64 // attempts made (each has a record)
	Failed      int64
	Elapsed     time.Duration
	Interrupted bool
	Points      []PointResult // the load points run, in order
	Search      *SearchResult // a capacity search's answer; nil without --search
}

// ErrInterrupted is returned when a stop signal ended the run early.
var ErrInterrupted = errors.New("interrupted")

// counters are shared between workers and the progress line.
type counters struct {
	sent, done, failed atomic.Int64
	point              atomic.Int64 // index of the load point being run
	phaseStart         atomic.Int64 // when its current phase began, Unix nanoseconds
	measured           tally        // the current load point's measured attempts
}

// NewHTTPClient returns a client whose transport keeps one idle connection
// per worker, so connections are reused and never re-dialled mid-run, and
// which does not ask for gzip: compression would buffer a stream and hide
// its timing.
func NewHTTPClient(concurrency int, connectTimeout time.Duration, tlsCfg *tls.Config) *http.Client {
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        concurrency + 16,
		MaxIdleConnsPerHost: concurrency + 16,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: connectTimeout,
		TLSClientConfig:     tlsCfg,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	// A redirect is never followed: a benchmark measures the server it
	// was given, and the h1 client follows none either.
	return &http.Client{Transport: tr, CheckRedirect: openai.NoRedirects}
}

// Run sends the warmup and then the measured requests with cfg.Concurrency
// workers and writes one record per attempt to out as each one finishes;
// out is flushed before Run returns.
//
// stop ends the sending of new requests; those in flight get cfg.Grace to
// finish, then are canceled and recorded as such. abort cancels them at
// once. Either way every attempt made has its record written before Run
// returns, and Run returns ErrInterrupted.
func Run(stop, abort context.Context, cfg *Config, out *record.Writer, stderr io.Writer) (res Result, err error) {
	start := time.Now()
	signal := stop
	stop, trip := context.WithCancelCause(stop) // the stop rule ends the run as a signal does
	defer trip(nil)
	res = Result{RunID: cfg.RunID}
	defer func() { // every path: no record is left waiting in out
		if ferr := out.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("writing records: %w", ferr)
		}
	}()
	hc := NewHTTPClient(maxInFlight(cfg.poolPoints()), cfg.ConnectTimeout, cfg.TLS)
	defer hc.CloseIdleConnections()

	if cfg.Model == "" || cfg.CheckModel {
		model, err := servedModel(stop, hc, cfg, stderr)
		if err != nil {
			return res, err
		}
		cfg.Model = model
		if err := checkReplicas(stop, hc, cfg, stderr); err != nil {
			return res, err
		}
	}
	if cfg.CheckModel {
		cfg.identity = serverIdentity(stop, hc, cfg)
	}
	res.Model = cfg.Model
	if len(cfg.Models) > 1 {
		res.Model = strings.Join(cfg.Models, ",")
	}
	noteHostAndClock(stop, hc, cfg, stderr)
	calibrating, stopCalibrating := context.WithCancel(abort)
	defer stopCalibrating()
	src, calibrated, err := calibrate(calibrating, hc, cfg, stderr)
	if err != nil {
		return res, err
	}
	prompts := &prompter{cfg: cfg, src: src, salted: src != cfg.source}

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
	progressDone, progressPause, progressResume := startProgress(cfg, &c, stderr)
	a, closeIdle, err := newAttempter(cfg, hc, reqCtx)
	if err != nil {
		return res, err
	}
	defer closeIdle()
	reps, closeReplicas, err := newReplicas(cfg, hc, reqCtx)
	if err != nil {
		return res, err
	}
	defer closeReplicas()
	r := &runner{a: a, replicas: reps, out: out, prompts: prompts, c: &c, stop: stop, reqCtx: reqCtx, cancel: cancelReqs, stderr: stderr,
		startAt: cfg.StartAt, rule: newFailWindow(cfg.StopRule), trip: trip}
	// runPoint runs load point pt, the i-th of the run: warmup, then the
	// measured phase. ran is false when an interrupt came before it.
	runPoint := func(i int, pt Point) (pr PointResult, ran bool, err error) {
		if cfg.ResetPrefixCache && stop.Err() == nil {
			if err := resetPrefixCache(stop, hc, cfg); err != nil {
				return pr, false, err
			}
		}
		for _, ph := range []struct {
			name string
			n    int
			dur  time.Duration
		}{{record.PhaseWarmup, cfg.Warmup, 0}, {record.PhaseMeasure, cfg.Requests, cfg.Duration}} {
			whole := cfg.trace != nil && ph.name == record.PhaseMeasure // a trace without limits: replayed whole
			if (ph.n == 0 && ph.dur == 0 && !whole) || stop.Err() != nil || reqCtx.Err() != nil {
				continue
			}
			if cfg.OnPhase != nil {
				cfg.OnPhase(pt, ph.name) // before the phase's first request
			}
			c.point.Store(int64(i))
			c.phaseStart.Store(time.Now().UnixNano())
			if err := r.phase(ph.name, pt, ph.n, ph.dur, cfg.Seed+uint64(i)); err != nil {
				return pr, false, err
			}
		}
		pr = c.measured.take(pt)
		if pr.Attempts == 0 && (stop.Err() != nil || reqCtx.Err() != nil) {
			return pr, false, nil // never reached: interrupted before it
		}
		res.Points = append(res.Points, pr)
		if !cfg.Quiet {
			progressPause()
			reportFailures(stderr, pr, cfg.Color)
			progressResume()
		}
		return pr, true, nil
	}
	if cfg.Search != nil {
		res.Search, err = r.search(cfg, runPoint, progressPause, progressResume)
		if err != nil {
			return res, err
		}
	}
	for i, pt := range cfg.Points {
		if _, _, err := runPoint(i, pt); err != nil {
			return res, err
		}
	}
	progressDone()
	calibrated()
	res.Sent, res.Failed, res.Elapsed = c.sent.Load(), c.failed.Load(), time.Since(start)
	if err := out.Flush(); err != nil {
		return res, fmt.Errorf("writing records: %w", err)
	}
	if err := r.writeErr(); err != nil {
		return res, fmt.Errorf("writing records: %w", err)
	}
	if signal.Err() != nil || abort.Err() != nil {
		res.Interrupted = true
		return res, ErrInterrupted
	}
	return res, ruleErr(stop)
}

// idleSpare is how many idle connections a client keeps beyond the run's
// requests in flight.
const idleSpare = 16

// newAttempter prepares the run's requests, over the client that suits
// the target; closeIdle closes its idle connections at the end. run is the
// context whose end cancels the requests in flight.
func newAttempter(cfg *Config, hc *http.Client, run context.Context) (a *attempter, closeIdle func(), err error) {
	endpoint := cfg.Target.EndpointURL(cfg.Endpoint)
	doer, closeIdle, err := newDoer(cfg, endpoint, hc, maxInFlight(cfg.poolPoints()), run)
	if err != nil {
		return nil, nil, err
	}
	return &attempter{doer: doer, cfg: cfg, url: endpoint, maxBytes: cfg.MaxResponseBytes}, closeIdle, nil
}

// servedModel asks the server which models it serves: the first one when
// cfg names none, else the one named, which must be among them (see
// Config.CheckModel).
func servedModel(ctx context.Context, hc *http.Client, cfg *Config, stderr io.Writer) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	models, err := openai.ListModels(ctx, hc, cfg.Target, cfg.APIKey)
	switch {
	case err != nil && cfg.Model != "":
		fmt.Fprintf(stderr, "genload: warning: cannot list the served models, so %q is not checked: %v\n", cfg.Model, err)
		return cfg.Model, nil
	case err != nil:
		return "", setting.Errorf("cannot list the served models (is the server up? try probe, or give {Model}): %v", err)
	case cfg.Model == "" && len(models) == 0:
		return "", setting.Errorf("%s lists no models: give {Model}", cfg.Target.ModelsURL())
	case cfg.Model == "":
		return models[0].ID, nil
	}
	for _, m := range append([]string{cfg.Model}, cfg.Models...) {
		if _, ok := openai.FindModel(models, m); !ok {
			return "", &openai.ModelNotServedError{Model: m, Served: openai.ModelIDs(models)}
		}
	}
	return cfg.Model, nil
}

// maxInFlight sizes the connection pool: the largest concurrency of the
// run, or a generous default for uncapped open-loop load.
func maxInFlight(points []Point) int {
	n := 1
	for _, p := range points {
		switch {
		case p.Concurrency > 0:
			n = max(n, p.Concurrency)
		default:
			n = max(n, 1024)
		}
	}
	return n
}
