package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"servebench/internal/cmdline"
	"servebench/internal/load"
	"servebench/internal/servermetrics"
)

// serverMetricsFlags are the flags of the server-metrics collector.
func serverMetricsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "server-metrics", Usage: "poll the server's Prometheus /metrics during the run and append one JSON line per sample to `FILE` (never to stdout); summarize reads it beside the records"},
		&cli.DurationFlag{Name: "server-metrics-interval", Value: time.Second, Usage: "with --server-metrics: time between samples (one more is taken before the first request, at each load point and after the last request)"},
		&cli.StringFlag{Name: "server-metrics-url", Usage: "with --server-metrics: where the metrics are (default: /metrics at the server's root, not under /v1)"},
	}
}

// serverMetrics is the collector asked for by --server-metrics, or nil.
type serverMetrics struct {
	c    *servermetrics.Collector
	file *os.File
	path string
}

// newServerMetrics checks the --server-metrics flags and opens FILE for
// appending (so that runs add up in one file, as tee -a does for records).
func newServerMetrics(c *cli.Context, cfg *load.Config, stderr io.Writer) (*serverMetrics, error) {
	path := c.String("server-metrics")
	if path == "" {
		for _, f := range []string{"server-metrics-interval", "server-metrics-url"} {
			if c.IsSet(f) {
				return nil, cmdline.Usagef("--%s needs --server-metrics FILE", f)
			}
		}
		return nil, nil
	}
	interval := c.Duration("server-metrics-interval")
	if interval < 10*time.Millisecond {
		return nil, cmdline.Usagef("--server-metrics-interval %v: want at least 10ms, such as 1s", interval)
	}
	u := c.String("server-metrics-url")
	if u == "" {
		u = cfg.Target.Root + "/metrics"
	} else if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, cmdline.Usagef("--server-metrics-url %q: want an http(s) URL such as http://localhost:8000/metrics", u)
	}
	// The API key goes only where the load goes: the same scheme, host
	// and port; never to a metrics URL on another host.
	key := ""
	if sameOrigin(u, cfg.Target.Root) {
		key = cfg.APIKey
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, cmdline.Usagef("--server-metrics: %v", err)
	}
	return &serverMetrics{path: path, file: f, c: &servermetrics.Collector{
		URL: u, Interval: interval, Timeout: min(max(interval, time.Second), 5*time.Second),
		RunID: cfg.RunID, Label: cfg.Label, Out: f, Warn: stderr, APIKey: key,
	}}, nil
}

// sameOrigin reports whether two URLs have the same scheme, host and port.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && strings.EqualFold(ua.Host, ub.Host)
}

// start takes the first sample and hooks a sample before each phase of
// each load point into cfg.
func (m *serverMetrics) start(ctx context.Context, cfg *load.Config) {
	maxTokens := cfg.MaxTokens
	if cfg.Dataset.OutputTokens > 0 {
		maxTokens = cfg.Dataset.OutputTokens
	}
	m.c.Start(ctx)
	cfg.OnPhase = func(pt load.Point, _ string) {
		m.c.Mark(servermetrics.Point{Concurrency: pt.Concurrency, Rate: pt.Rate, MaxTokens: maxTokens})
	}
}

// stop takes the last sample and closes FILE. Its failures are warnings:
// the load and its records are what the run is for.
func (m *serverMetrics) stop(stderr io.Writer) {
	err := m.c.Stop()
	if cerr := m.file.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "genload: warning: --server-metrics %s: %v\n", m.path, err)
	}
}
