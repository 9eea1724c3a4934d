//go:build !linux

package h1

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// Loop reads connections on one OS thread: Linux only (epoll).
type Loop struct{}

// NewLoop fails here: reads stay on the goroutines that make them.
func NewLoop() (*Loop, error) { return nil, errors.New("h1: the read loop needs Linux (epoll)") }

// SetCoalesce does nothing.
func (l *Loop) SetCoalesce(time.Duration) {}

// Close does nothing.
func (l *Loop) Close() {}

// Run runs fn.
func (l *Loop) Run(fn func()) { fn() }

func (l *Loop) watchRun(*atomic.Bool) {}

func (l *Loop) nudge() {}

func (l *Loop) dialLoop(dial func() (net.Conn, error), _ bool, _ *atomic.Bool) (net.Conn, error) {
	return dial()
}

func loopPeer(net.Conn) (open, ok bool) { return false, false }

func pushable(net.Conn) bool { return false }

func pushLoop(net.Conn, Sink) {}

func decoder(net.Conn) *chunks { return nil }
