package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"servebench/internal/openai"
	"servebench/internal/record"
)

// job is one request attempt to make. scheduledAt is when the schedule
// wanted it sent; for closed-loop load it is the moment a worker was free.
type job struct {
	seq         int
	phase       string
	point       Point
	prompt      *Prompt
	scheduledAt time.Time
}

// attempter sends requests and measures them from the client side.
type attempter struct {
	hc       *http.Client // for /v1/models, and requests through a proxy
	h1       *h1Client    // for requests; nil when they go through hc
	cfg      *Config
	url      string
	maxBytes int64
}

// errTooLarge marks a response over Config.MaxResponseBytes.
var errTooLarge = errors.New("response too large")

// limitedBody fails once more than max bytes were read, so that memory and
// time stay bounded however much a broken server sends.
type limitedBody struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, fmt.Errorf("%w (over %d bytes)", errTooLarge, l.max)
	}
	return n, err
}

// do makes one attempt and returns its record; it never fails: every
// problem becomes a classified record. abort cancels the request when the
// run is interrupted; the per-request timeout is applied here.
func (a *attempter) do(abort context.Context, j job) *record.Record {
	if a.h1 != nil {
		return a.doH1(abort, j)
	}
	return a.doNetHTTP(abort, j)
}

func (a *attempter) newRecord(j job) *record.Record {
	cfg := a.cfg
	return &record.Record{
		Schema: record.Schema, RunID: cfg.RunID, Label: cfg.Label, Seq: j.seq, Phase: j.phase,
		Model: cfg.Model, URL: a.url, Endpoint: cfg.Endpoint, Stream: cfg.Stream, IgnoreEOS: cfg.IgnoreEOS,
		Concurrency: j.point.Concurrency, Rate: j.point.Rate, MaxTokens: j.prompt.MaxTokens, TokensFrom: record.TokensFromNone,
		ITLMs: itlBuffer(cfg.Stream, j.prompt.MaxTokens),
	}
}

// itlBuffer sizes the ITL slice for the tokens asked for (bounded), so
// that it is allocated once rather than grown chunk by chunk.
func itlBuffer(stream bool, maxTokens int) []float64 {
	if !stream || maxTokens < 2 {
		return nil
	}
	return make([]float64, 0, min(maxTokens-1, 1024))
}

// firstTokenTimeout is the first-token timeout that applies, or 0.
func (a *attempter) firstTokenTimeout() time.Duration {
	if cfg := a.cfg; cfg.Stream && cfg.FirstTokenTimeout > 0 && cfg.FirstTokenTimeout < cfg.Timeout {
		return cfg.FirstTokenTimeout
	}
	return 0
}

// doH1 is do over h1Client: the request's timeouts are deadlines on its
// connection, and the run's end moves every deadline to the past.
func (a *attempter) doH1(abort context.Context, j job) *record.Record {
	cfg := a.cfg
	rec := a.newRecord(j)
	start := time.Now()
	deadline := start.Add(cfg.Timeout)
	readBy := deadline
	if ftt := a.firstTokenTimeout(); ftt > 0 {
		readBy = start.Add(ftt)
	}
	t := h1Try{a: a, abort: abort, deadline: deadline, readBy: readBy}

	sent := stampSent(rec, j.scheduledAt)
	defer latencyToFailure(rec, sent)

	conn, err := a.h1.get(deadline)
	if err != nil {
		return t.fail(rec, record.ErrConnect, err)
	}
	reuse := false
	defer func() {
		if reuse {
			a.h1.put(conn)
		} else {
			conn.close()
		}
	}()
	if !a.h1.setDeadlines(conn, deadline, readBy) {
		return t.fail(rec, record.ErrCanceled, context.Canceled)
	}
	if err := a.h1.send(conn, j.prompt.Body); err != nil {
		return t.fail(rec, record.ErrConnect, err)
	}
	var resp h1Response
	if err := conn.readResponse(&resp); err != nil {
		return t.fail(rec, record.ErrConnect, err)
	}
	rec.Status = resp.status
	body := &limitedBody{r: &resp.body, max: a.maxBytes}
	if resp.status < 200 || resp.status > 299 {
		msg, _ := io.ReadAll(io.LimitReader(&resp.body, 64<<10))
		reuse = resp.keepAlive && resp.body.done
		return t.fail(rec, record.ErrHTTP, fmt.Errorf("HTTP %d: %s", resp.status, openai.ErrorMessage(msg)))
	}
	if cfg.Stream {
		if conn.sr == nil {
			conn.sr = openai.NewStreamReaderSize(body, h1StreamBuffer)
		} else {
			conn.sr.Reset(body)
		}
		var firstContent func()
		if !readBy.Equal(deadline) {
			firstContent = func() { t.firstContent(conn) }
		}
		err = a.readStream(rec, conn.sr, sent, firstContent)
		if err == nil { // after [DONE]: the rest of the response, for the connection's sake
			reuse = resp.keepAlive && resp.body.drain(earlier(deadline, time.Now().Add(h1DrainWait)))
		}
	} else {
		err = a.readBody(rec, body, sent)
		reuse = err == nil && resp.keepAlive && resp.body.done
	}
	if err != nil {
		kind := record.ErrStream
		var kindErr *kindError
		if errors.As(err, &kindErr) {
			kind, err = kindErr.kind, kindErr.err
		}
		return t.fail(rec, kind, err)
	}
	rec.OK = true
	return rec
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// h1Try is one request's limits, to classify its failures.
type h1Try struct {
	a                *attempter
	abort            context.Context
	deadline, readBy time.Time // readBy: the first-token deadline while it applies
}

// firstContent lifts the first-token deadline.
func (t *h1Try) firstContent(conn *h1Conn) {
	t.readBy = t.deadline
	_ = conn.nc.SetReadDeadline(t.deadline)
	if t.abort.Err() != nil { // the run ended meanwhile: keep its past deadline
		_ = conn.nc.SetDeadline(time.Unix(1, 0))
	}
}

// fail records the failure, saying which limit was hit when one was, as
// classify does for net/http.
func (t *h1Try) fail(rec *record.Record, kind string, err error) *record.Record {
	now := time.Now()
	switch {
	case t.abort.Err() != nil:
		kind, err = record.ErrCanceled, errors.New("run interrupted before the response ended")
	case t.readBy.Before(t.deadline) && !now.Before(t.readBy):
		kind, err = record.ErrTimeout, fmt.Errorf("no content within the first-token timeout (%v)", t.a.cfg.FirstTokenTimeout)
	case !now.Before(t.deadline):
		kind, err = record.ErrTimeout, fmt.Errorf("response not finished within the request timeout (%v)", t.a.cfg.Timeout)
	}
	return t.a.fail(rec, kind, err)
}

// doNetHTTP is do through net/http, for targets behind a proxy.
func (a *attempter) doNetHTTP(abort context.Context, j job) *record.Record {
	cfg := a.cfg
	rec := a.newRecord(j)
	ctx, cancel := context.WithTimeoutCause(abort, cfg.Timeout, errRequestTimeout)
	defer cancel()
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	var firstToken *time.Timer // stopped by the first content chunk
	if a.firstTokenTimeout() > 0 {
		firstToken = time.AfterFunc(cfg.FirstTokenTimeout, func() { cancelCause(errFirstTokenTimeout) })
		defer firstToken.Stop()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(j.prompt.Body))
	if err != nil {
		return a.fail(rec, record.ErrProtocol, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.Stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	openai.SetAuth(req, cfg.APIKey)

	sent := stampSent(rec, j.scheduledAt)
	defer latencyToFailure(rec, sent)

	resp, err := a.hc.Do(req)
	if err != nil {
		kind, err := a.classify(ctx, abort, record.ErrConnect, err)
		return a.fail(rec, kind, err)
	}
	defer resp.Body.Close()
	rec.Status = resp.StatusCode
	body := &limitedBody{r: resp.Body, max: a.maxBytes}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return a.fail(rec, record.ErrHTTP, fmt.Errorf("HTTP %d: %s", resp.StatusCode, openai.ErrorMessage(msg)))
	}
	if cfg.Stream {
		var firstContent func()
		if firstToken != nil {
			firstContent = func() { firstToken.Stop() }
		}
		err = a.readStream(rec, openai.NewStreamReader(body), sent, firstContent)
	} else {
		err = a.readBody(rec, body, sent)
	}
	if err != nil {
		kind := record.ErrStream
		var kindErr *kindError
		if errors.As(err, &kindErr) {
			kind, err = kindErr.kind, kindErr.err
		}
		kind, err = a.classify(ctx, abort, kind, err)
		return a.fail(rec, kind, err)
	}
	rec.OK = true
	return rec
}

// kindError carries the error kind decided where the error was found.
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }

func protocolErr(format string, args ...any) error {
	return &kindError{kind: record.ErrProtocol, err: fmt.Errorf(format, args...)}
}

// readStream reads SSE events and takes the timings: TTFT at the first
// chunk that carries generated text (not vLLM's empty role chunk), one ITL
// sample per gap between content chunks, latency at the end of the stream.
//
// firstContent, if not nil, is called at the first content chunk.
func (a *attempter) readStream(rec *record.Record, sr *openai.StreamReader, sent time.Time, firstContent func()) error {
	var last time.Time
	chunks, events := 0, 0
	var usage *openai.Usage
	var usageBuf openai.Usage // usage points here: one copy, no allocation
	for {
		ev, err := sr.Next()
		now := time.Now()
		if err != nil {
			finishTokens(rec, usage, chunks)
			switch {
			case errors.Is(err, io.EOF) && events == 0:
				return protocolErr("no server-sent events in the response: does this server stream?")
			case errors.Is(err, io.EOF):
				return errors.New("stream ended before [DONE]")
			case errors.Is(err, openai.ErrMalformed):
				return &kindError{kind: record.ErrProtocol, err: err}
			case errors.Is(err, errTooLarge):
				return &kindError{kind: record.ErrProtocol, err: err}
			}
			return fmt.Errorf("stream broke: %w", err)
		}
		events++
		if ev.Err != "" {
			finishTokens(rec, usage, chunks)
			return fmt.Errorf("error event in stream: %s", ev.Err)
		}
		if ev.Done {
			break
		}
		if ev.ContentBytes > 0 {
			if chunks == 0 {
				if firstContent != nil {
					firstContent()
				}
				rec.TTFTMs = record.Float(record.Ms(now.Sub(sent)))
			} else {
				rec.ITLMs = append(rec.ITLMs, record.Ms(now.Sub(last)))
			}
			last = now
			chunks++
		}
		if ev.FinishReason != "" {
			rec.FinishReason = ev.FinishReason
		}
		if ev.Usage != nil {
			usageBuf = *ev.Usage
			usage = &usageBuf
		}
	}
	rec.LatencyMs = record.Ms(time.Since(sent))
	finishTokens(rec, usage, chunks)
	if chunks == 0 {
		return protocolErr("stream ended cleanly but carried no content")
	}
	if rec.OutputTokens > 1 {
		rec.TPOTMs = record.Float((rec.LatencyMs - *rec.TTFTMs) / float64(rec.OutputTokens-1))
	}
	return nil
}

// finishTokens fills the token counts: the server's usage when it sent one,
// else the number of content chunks (one token per chunk, as vLLM streams).
func finishTokens(rec *record.Record, usage *openai.Usage, chunks int) {
	switch {
	case usage != nil:
		rec.PromptTokens, rec.OutputTokens, rec.TokensFrom = usage.PromptTokens, usage.CompletionTokens, record.TokensFromUsage
	case chunks > 0:
		rec.OutputTokens, rec.TokensFrom = chunks, record.TokensFromChunks
	}
}

func (a *attempter) readBody(rec *record.Record, body io.Reader, sent time.Time) error {
	data, err := io.ReadAll(body)
	rec.LatencyMs = record.Ms(time.Since(sent))
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return &kindError{kind: record.ErrProtocol, err: err}
		}
		return fmt.Errorf("reading body: %w", err)
	}
	resp, err := openai.ParseResponse(data)
	if err != nil {
		return &kindError{kind: record.ErrProtocol, err: err}
	}
	if resp.ErrorShaped {
		if msg, isErr := openai.StreamError(data); isErr {
			return protocolErr("error body with a 2xx status: %s", msg)
		}
	}
	rec.FinishReason = resp.FinishReason
	if resp.Usage != nil {
		rec.PromptTokens, rec.OutputTokens, rec.TokensFrom = resp.Usage.PromptTokens, resp.Usage.CompletionTokens, record.TokensFromUsage
	}
	if resp.ContentBytes == 0 {
		return protocolErr("response carried no content")
	}
	return nil
}

// Why a request's context ended, when the run did not end it.
var (
	errRequestTimeout    = errors.New("request timeout")
	errFirstTokenTimeout = errors.New("first token timeout")
)

// classify refines an error by why the request's context ended: a timeout
// or the run being interrupted. The message then says which limit was hit
// rather than "context canceled".
func (a *attempter) classify(ctx, abort context.Context, kind string, err error) (string, error) {
	switch cause := context.Cause(ctx); {
	case abort.Err() != nil:
		return record.ErrCanceled, errors.New("run interrupted before the response ended")
	case errors.Is(cause, errFirstTokenTimeout):
		return record.ErrTimeout, fmt.Errorf("no content within the first-token timeout (%v)", a.cfg.FirstTokenTimeout)
	case errors.Is(cause, errRequestTimeout):
		return record.ErrTimeout, fmt.Errorf("response not finished within the request timeout (%v)", a.cfg.Timeout)
	}
	return kind, err
}

func (a *attempter) fail(rec *record.Record, kind string, err error) *record.Record {
	rec.OK = false
	rec.ErrorKind = kind
	rec.Error = openai.Clip(redact(scrubURL(err).Error(), a.cfg.APIKey))
	return rec
}

// redact removes the API key from a message: some servers echo the key they
// rejected, and records are shared, appended to logs and pasted in issues.
func redact(msg, key string) string {
	if len(key) < 4 {
		return msg
	}
	return strings.ReplaceAll(msg, key, "[redacted]")
}

// scrubURL drops net/http's "Post \"url\": " wrapper: the URL is already in
// the record, and the shorter message groups better in reports.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// stampSent records when the attempt was scheduled and sent, and the
// client's own holding time between the two; it returns the send time.
func stampSent(rec *record.Record, scheduledAt time.Time) time.Time {
	sent := time.Now()
	rec.ScheduledAt = scheduledAt.UTC()
	rec.SentAt = sent.UTC()
	rec.QueueMs = record.Ms(sent.Sub(scheduledAt))
	return sent
}

// latencyToFailure gives a failed attempt its latency: the time to the
// failure. A success has set its own, at the end of the response.
func latencyToFailure(rec *record.Record, sent time.Time) {
	if rec.LatencyMs == 0 {
		rec.LatencyMs = record.Ms(time.Since(sent))
	}
}
