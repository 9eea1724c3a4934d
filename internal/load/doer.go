package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"servebench/internal/h1"
	"servebench/internal/openai"
	"servebench/internal/record"
)

// Doer sends genload's request, the body of one attempt, to the run's
// endpoint, and returns the response's status and its body to read. It is
// the one thing attempter asks of an HTTP client, so that there is one
// request path and one failure classifier whichever client carries the
// request: the hand-written h1.Client for direct targets, net/http for
// proxied ones (bombardier's pattern).
//
// The request must end by deadline, and its first content arrive by
// readBy (equal to deadline when there is no first-token timeout). A
// conversation's request carries its session header too (an empty Name
// for none). A Doer
// is made for one run: the end of the run's context cancels every request
// in flight. Errors are returned as the client saw them; the attempter
// decides what they mean (classify).
type Doer interface {
	Do(body []byte, requestID string, session h1.Header, deadline, readBy time.Time) (status int, resp Body, err error)
}

// Body is a response being read.
type Body interface {
	io.Reader
	// FirstContent says that the first content chunk arrived: the
	// first-token deadline no longer applies.
	FirstContent()
	// Location is the Location header of a redirect (3xx), else "".
	Location() string
	// Close ends the exchange, once. drain says the response was read as
	// far as it needs to be and its end may follow shortly (a stream's
	// last chunk after [DONE]): reading it lets the connection be reused.
	Close(drain bool)
}

// Compile-time checks: both clients are Doers.
var (
	_ Doer = h1Doer{}
	_ Doer = (*netHTTPDoer)(nil)
	_ Body = (*h1.Response)(nil)
	_ Body = (*netHTTPBody)(nil)
)

// newDoer picks the client for cfg's requests to endpoint: h1 unless the
// environment names a proxy for it (or a test asks for net/http). inFlight
// is how many requests the run holds at once.
func newDoer(cfg *Config, endpoint string, hc *http.Client, inFlight int, run context.Context) (Doer, func(), error) {
	header := requestHeader(cfg)
	if cfg.NetHTTP || !h1.UsableFor(endpoint) {
		return &netHTTPDoer{hc: hc, fresh: freshClient(hc), run: run, url: endpoint, header: header}, func() {}, nil
	}
	var loop *h1.Loop
	if cfg.readsOnLoop(inFlight) && !strings.HasPrefix(endpoint, "https:") {
		var err error
		if loop, err = takeLoop(cfg.ReadCoalesce); err != nil {
			return nil, nil, err
		}
	}
	c, err := h1.New(endpoint, h1.Config{Header: header, ConnectTimeout: cfg.ConnectTimeout, TLS: cfg.TLS, MaxIdle: inFlight + idleSpare,
		KernelTimes: cfg.Stream && !cfg.ReadTimes, Loop: loop}, run)
	if err != nil {
		if loop != nil {
			dropLoop()
		}
		return nil, nil, err
	}
	if loop == nil {
		return h1Doer{c: c}, c.CloseIdle, nil
	}
	return h1Doer{c: c, loop: loop}, func() {
		c.CloseIdle()
		dropLoop()
	}, nil
}

// readsOnLoop tells whether a streamed run holding up to inFlight
// requests at once reads on the loop.
func (cfg *Config) readsOnLoop(inFlight int) bool {
	if !cfg.Stream {
		return false
	}
	switch cfg.Reads {
	case ReadsLoop:
		return true
	case ReadsGoroutine:
		return false
	}
	return inFlight >= LoopStreams
}

// The process's read loop, shared by every client that reads on one (a
// run's replicas, runs in one process): each loop holds a P of the
// runtime while it waits, so one is all a process can afford.
var loopShare struct {
	sync.Mutex
	loop     *h1.Loop
	users    int
	coalesce time.Duration
}

// takeLoop takes the process's loop, coalescing its reads by the least
// of its users' nap (Config.ReadCoalesce).
func takeLoop(coalesce time.Duration) (*h1.Loop, error) {
	loopShare.Lock()
	defer loopShare.Unlock()
	if loopShare.loop == nil {
		l, err := h1.NewLoop()
		if err != nil {
			return nil, err
		}
		loopShare.loop, loopShare.coalesce = l, coalesce
	}
	loopShare.coalesce = min(loopShare.coalesce, coalesce)
	loopShare.loop.SetCoalesce(loopShare.coalesce)
	loopShare.users++
	return loopShare.loop, nil
}

// dropLoop closes the loop when its last user is done with it.
func dropLoop() {
	loopShare.Lock()
	defer loopShare.Unlock()
	if loopShare.users--; loopShare.users == 0 {
		loopShare.loop.Close()
		loopShare.loop = nil
	}
}

// requestHeader is the header of every request of the run: genload's,
// then cfg.Headers (--header), which win.
func requestHeader(cfg *Config) http.Header {
	req := &http.Request{Header: http.Header{"Content-Type": {"application/json"}}}
	if cfg.Stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	openai.SetAuth(req, cfg.APIKey)
	for name, values := range cfg.Headers {
		req.Header[http.CanonicalHeaderKey(name)] = values
	}
	return req.Header
}

// h1Doer is h1.Client as a Doer; with a loop, every request is made in
// it (runIn).
type h1Doer struct {
	c    *h1.Client
	loop *h1.Loop
}

// runIn runs an attempt where its client reads: in the doer's loop, when
// it has one.
func runIn(d Doer, attempt func()) {
	if h, ok := d.(h1Doer); ok && h.loop != nil {
		h.loop.Run(attempt)
		return
	}
	attempt()
}

func (d h1Doer) Do(body []byte, requestID string, session h1.Header, deadline, readBy time.Time) (int, Body, error) {
	resp, err := d.c.DoHeader(body, requestID, session, deadline, readBy)
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp, nil
}

// netHTTPDoer is net/http as a Doer: the deadline is the request context's,
// and the first-token timeout a timer that cancels it.
type netHTTPDoer struct {
	hc     *http.Client
	fresh  *http.Client // a new connection for each request: for the one resend
	run    context.Context
	url    string
	header http.Header // shared by the requests, read only
}

func (d *netHTTPDoer) Do(body []byte, requestID string, session h1.Header, deadline, readBy time.Time) (int, Body, error) {
	ctx, cancel := context.WithDeadline(d.run, deadline)
	b := &netHTTPBody{cancel: cancel}
	if readBy.Before(deadline) {
		ctx, cancel = context.WithCancel(ctx)
		b.firstToken = time.AfterFunc(time.Until(readBy), cancel)
	}
	var reused bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused }})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		b.stop()
		return 0, nil, &kindError{kind: record.ErrProtocol, err: err}
	}
	req.Header = d.requestHeader(requestID, session)
	resp, err := d.hc.Do(req)
	if err != nil && reused && req.Context().Err() == nil && staleConnError(err) {
		// As h1.Client does: a request that failed on a reused
		// connection before any answer came is sent once more.
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
		req.Header = d.requestHeader(requestID, session)
		resp, err = d.fresh.Do(req)
	}
	if err != nil {
		b.stop()
		return 0, nil, err
	}
	b.resp = resp
	return resp.StatusCode, b, nil
}

// requestHeader is the run's header, with the request's id when it has
// one (the shared header is never written to).
func (d *netHTTPDoer) requestHeader(requestID string, session h1.Header) http.Header {
	if requestID == "" && session.Name == "" {
		return d.header
	}
	h := d.header.Clone()
	if requestID != "" {
		h["X-Request-Id"] = []string{requestID}
	}
	if session.Name != "" {
		h.Set(session.Name, session.Value)
	}
	return h
}

// freshClient is hc on connections that are never reused (each request
// says Connection: close), so that a request resent after a stale
// connection goes out on a new one, as h1.Client resends it.
func freshClient(hc *http.Client) *http.Client {
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		return hc
	}
	tr = tr.Clone()
	tr.DisableKeepAlives = true
	fresh := *hc
	fresh.Transport = tr
	return &fresh
}

// staleConnError is how net/http words a connection that the server
// closed before answering: EOF or a reset before the first byte. net/http
// retries most of these itself (it sees an idle connection close), not
// one that closes as the request is written.
func staleConnError(err error) bool {
	msg := err.Error()
	return errors.Is(err, io.EOF) && !strings.Contains(msg, "transport connection broken") ||
		strings.Contains(msg, "server closed idle connection") ||
		strings.HasSuffix(msg, "connection reset by peer") && !strings.Contains(msg, "transport connection broken") ||
		strings.HasSuffix(msg, "broken pipe")
}

// netHTTPBody is a net/http response body as a Body.
type netHTTPBody struct {
	resp       *http.Response
	cancel     context.CancelFunc
	firstToken *time.Timer // nil without a first-token timeout
}

func (b *netHTTPBody) Read(p []byte) (int, error) { return b.resp.Body.Read(p) }

func (b *netHTTPBody) Location() string {
	if b.resp.StatusCode < 300 || b.resp.StatusCode > 399 {
		return ""
	}
	return b.resp.Header.Get("Location")
}

func (b *netHTTPBody) FirstContent() {
	if b.firstToken != nil {
		b.firstToken.Stop()
	}
}

// Close closes the body: net/http reuses the connection when it was read
// to its end, and drains nothing.
func (b *netHTTPBody) Close(bool) {
	b.resp.Body.Close()
	b.stop()
}

func (b *netHTTPBody) stop() {
	b.FirstContent()
	b.cancel()
}
