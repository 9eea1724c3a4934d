package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// shutdownGrace is how long Run lets in-flight requests finish after its
// context ends before closing their connections.
const shutdownGrace = 2 * time.Second

// Run validates cfg, listens on cfg.Addr and serves until ctx ends, then
// shuts down (in-flight requests get shutdownGrace) and returns nil.
//
// Once the listener is bound, and before any request is answered, Run writes
// exactly one line to stderr, whose format is stable for scripts:
//
//	llmsim: serving MODEL[,MODEL...] on http://HOST:PORT (ttft=20ms itl=5ms max-num-seqs=256 max-model-len=4096)
//
// The URL is the bound address (the real port when cfg.Addr asks for port
// 0) and never contains a space, so `http://[^ ]*` extracts it. Unless
// cfg.Quiet, Run also reports readiness after a startup delay and shutdown.
func Run(ctx context.Context, cfg Config, stderr io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	s := New(cfg)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: time.Minute, ConnContext: s.ConnContext}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(stampListener{ln}) }()
	fmt.Fprintln(stderr, s.startupLine(ln.Addr().String()))
	if line := s.cfg.faultLine(); line != "" && !cfg.Quiet {
		fmt.Fprintln(stderr, line)
	}
	if cfg.StartupDelay > 0 && !cfg.Quiet {
		t := time.AfterFunc(cfg.StartupDelay, func() { fmt.Fprintln(stderr, "llmsim: ready") })
		defer t.Stop()
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if !cfg.Quiet {
		fmt.Fprintln(stderr, "llmsim: shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); errors.Is(err, context.DeadlineExceeded) {
		hs.Close()
	}
	if line := s.late.line(); line != "" && !cfg.Quiet {
		fmt.Fprintln(stderr, line)
	}
	return nil
}

// startupLine is the line Run prints once listening; see Run.
func (s *Server) startupLine(addr string) string {
	c := s.cfg
	return fmt.Sprintf("llmsim: serving %s on http://%s (ttft=%v itl=%v max-num-seqs=%d max-model-len=%d)",
		strings.Join(s.names, ","), addr, c.TTFT, c.ITL, c.MaxNumSeqs, c.MaxModelLen)
}
