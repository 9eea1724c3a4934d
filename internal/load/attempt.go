package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"servebench/internal/h1"
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
	// turn is set for a conversation's request: its session, turn and
	// history, and where the answer's text goes. nil for every other
	// request, which captures nothing.
	turn *turnJob
}

// turnJob is what a conversation's request carries beyond a job.
type turnJob struct {
	sessionID string
	turn      int // 1-based
	messages  int // messages sent: system, history and the new one
	header    h1.Header
	capture   *openai.Capture
}

// attempter sends requests and measures them from the client side.
type attempter struct {
	doer     Doer
	cfg      *Config
	url      string
	maxBytes int64
}

// errTooLarge marks a response over Config.MaxResponseBytes.
var errTooLarge = errors.New("response too large")

// limitedBody fails once more than max bytes were read, so that memory and
// time stay bounded however much a broken server sends. It never asks for
// more than one byte past max: a response over the limit fails however it
// arrives, even when its end comes in the same read (it did not on the h1
// path), and both clients fail it at the same byte.
type limitedBody struct {
	n      int64
	max    int64
	nfirst int
	r      io.Reader
	// first holds the first bytes read: what the server said, when a
	// stream turns out to be no stream (an HTML page, a JSON error).
	first [256]byte
}

// start is the first bytes read.
func (l *limitedBody) start() []byte { return l.first[:l.nfirst] }

func (l *limitedBody) Read(p []byte) (int, error) {
	if left := l.max - l.n + 1; left <= 0 {
		return 0, fmt.Errorf("%w (over %d bytes)", errTooLarge, l.max)
	} else if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := l.r.Read(p)
	l.took(p[:n])
	if l.n > l.max {
		return n, fmt.Errorf("%w (over %d bytes)", errTooLarge, l.max)
	}
	return n, err
}

// do makes one attempt and returns its record; it never fails: every
// problem becomes a classified record. abort is the run's context, whose
// end cancels the request; the per-request timeouts are applied here.
func (a *attempter) do(abort context.Context, j job) *record.Record {
	rec := a.newRecord(j)
	t := a.newTry(abort)
	t.inputs = j.prompt.Inputs
	var session h1.Header
	if j.turn != nil {
		rec.SessionID, rec.Turn, rec.HistoryMessages = j.turn.sessionID, j.turn.turn, j.turn.messages
		t.capture, session = j.turn.capture, j.turn.header
	}
	sent := stampSent(rec, j.scheduledAt)
	defer latencyToFailure(rec, sent)

	status, resp, err := a.doer.Do(j.prompt.Body, a.sendRequestID(rec), session, t.deadline, t.readBy)
	if err != nil {
		kind, err := doFailure(err)
		return a.failTry(rec, &t, kind, err)
	}
	rec.Status = status
	drain := false
	defer func() { resp.Close(drain) }()
	switch {
	case status < 200:
		// An unrequested 101 Switching Protocols: what follows is not
		// HTTP, and is not read (it may never end).
		return a.failTry(rec, &t, record.ErrHTTP, fmt.Errorf("HTTP %d: the server switched protocols unasked; the connection is dropped", status))
	case status >= 300 && status < 400:
		return a.failTry(rec, &t, record.ErrHTTP, redirectError(status, resp.Location(), a.url))
	case status > 299:
		msg, _ := io.ReadAll(io.LimitReader(resp, 64<<10))
		return a.failTry(rec, &t, record.ErrHTTP, fmt.Errorf("HTTP %d: %s%s", status, openai.ErrorMessage(msg), httpsHint(msg)))
	}
	t.resp = resp
	if err := a.read(rec, &t, sent); err != nil {
		return a.failTry(rec, &t, record.ErrStream, err)
	}
	drain = true // after [DONE]: the rest of the response, for the connection's sake
	rec.OK = true
	return rec
}

// sendRequestID names the attempt in its record and returns the
// X-Request-Id to send with it: <run_id>-<seq>, so that a record joins the
// server's logs; "" when --header gave a fixed X-Request-Id, which is then
// sent (with every request) and recorded instead.
func (a *attempter) sendRequestID(rec *record.Record) string {
	if fixed := a.cfg.Headers.Get("X-Request-Id"); fixed != "" {
		rec.RequestID = fixed
		return ""
	}
	var buf [96]byte // one allocation, the string's
	id := append(append(buf[:0], rec.RunID...), '-')
	rec.RequestID = string(strconv.AppendInt(id, int64(rec.Seq), 10))
	return rec.RequestID
}

func (a *attempter) newRecord(j job) *record.Record {
	cfg := a.cfg
	return &record.Record{
		Schema: record.Schema, RunID: cfg.RunID, Label: cfg.Label, Seq: j.seq, Phase: j.phase,
		Model: j.prompt.Model, URL: a.url, Endpoint: cfg.Endpoint, Stream: cfg.Stream, IgnoreEOS: cfg.IgnoreEOS,
		Concurrency: j.point.Concurrency, Rate: j.point.Rate, MaxTokens: j.prompt.MaxTokens, TokensFrom: record.TokensFromNone,
		ITLMs:                itlBuffer(cfg.Stream, j.prompt.MaxTokens),
		InputTokensRequested: j.prompt.Requested, PromptSalt: cfg.saltMode,
		Shard: cfg.shardName, Host: cfg.host, ClockSkewMs: cfg.clockSkewMs, ClockSkewErrMs: cfg.clockErrMs,
		ServerVersion: cfg.identity.version, ModelRoot: cfg.identity.roots[j.prompt.Model],
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

// try is one attempt's limits and its response, to tell which limit
// ended it.
type try struct {
	abort            context.Context
	deadline, readBy time.Time // readBy: the first-token deadline while it applies
	resp             Body
	inputs           int             // embeddings: the texts sent
	capture          *openai.Capture // a conversation's turn: the answer's text, else nil
}

// newTry starts the attempt's clock: the request timeout, and the
// first-token timeout when it applies.
func (a *attempter) newTry(abort context.Context) try {
	start := time.Now()
	t := try{abort: abort, deadline: start.Add(a.cfg.Timeout)}
	t.readBy = t.deadline
	if ftt := a.firstTokenTimeout(); ftt > 0 {
		t.readBy = start.Add(ftt)
	}
	return t
}

// firstContent lifts the first-token deadline, at the first content chunk.
func (t *try) firstContent() {
	if t.readBy.Before(t.deadline) {
		t.readBy = t.deadline
		t.resp.FirstContent()
	}
}

// read reads the response body of a 2xx answer, bounded by
// MaxResponseBytes: a stream, or a whole body.
func (a *attempter) read(rec *record.Record, t *try, sent time.Time) error {
	rd := getReader(t.resp, a.maxBytes)
	defer putReader(rd)
	switch {
	case a.cfg.Endpoint == openai.EndpointEmbeddings:
		return a.readEmbeddings(rec, &rd.body, sent, t.inputs)
	case a.cfg.Endpoint == openai.EndpointResponses && a.cfg.Stream:
		return a.readResponsesStream(rec, rd, sent, t)
	case a.cfg.Endpoint == openai.EndpointResponses:
		return a.readResponsesBody(rec, &rd.body, sent)
	case a.cfg.Stream:
		if t.capture != nil {
			rd.sr.SetCapture(t.capture)
			defer rd.sr.SetCapture(nil)
		}
		return a.readStream(rec, rd, sent, t)
	}
	return a.readBody(rec, &rd.body, sent, t.capture)
}

// reader is a response's bounded body and the stream reader over it,
// pooled: its buffer is reused by request after request.
type reader struct {
	// In the order a pushed token touches them.
	push   pushed
	stream streamRead
	lags   []float64 // read lags of the stream's output chunks (chunkClock)
	sr     *openai.StreamReader
	body   limitedBody
}

// streamBuffer is the size of a stream reader's buffer: small enough for
// thousands of streams in flight (longer lines are assembled, not refused).
const streamBuffer = 4 << 10

var readers = sync.Pool{New: func() any {
	rd := &reader{}
	rd.sr = openai.NewStreamReaderSize(&rd.body, streamBuffer)
	return rd
}}

func getReader(r io.Reader, maxBytes int64) *reader {
	rd := readers.Get().(*reader)
	rd.body.r, rd.body.n, rd.body.max, rd.body.nfirst = r, 0, maxBytes, 0
	rd.sr.Reset(&rd.body)
	return rd
}

func putReader(rd *reader) {
	rd.body.r = nil
	rd.stream = streamRead{}
	readers.Put(rd)
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
// The first content chunk lifts t's first-token deadline. On the read
// loop the plain events are parsed as the loop receives them (pushed, see
// push.go); the readers here take over from the first byte it leaves.
func (a *attempter) readStream(rec *record.Record, rd *reader, sent time.Time, t *try) error {
	s := &rd.stream
	*s = streamRead{a: a, rec: rec, rd: rd, sent: sent, t: t, clock: newChunkClock(t.resp, rd)}
	if p, ok := t.resp.(pusher); ok && t.capture == nil {
		rd.startPush()
		pulled := s.clock.src
		s.clock.src = rd // the push gives each read's arrival with its bytes
		done := p.Push(rd)
		s.clock.src = pulled
		if done {
			if rd.push.end {
				return s.ended(rd.push.err)
			}
			rd.resumePull()
		}
	}
	for {
		ev, err := rd.sr.Next()
		now := time.Now()
		if err != nil {
			return s.broken(err)
		}
		if end, err := s.event(&ev, now); end {
			return s.ended(err)
		}
	}
}

// streamRead is a stream being read: what its events added up to so far.
type streamRead struct {
	// What an output chunk touches first.
	rec       *record.Record
	last      time.Time
	chunks    int // output chunks
	events    int
	ttfo      bool // TTFO was stamped
	clock     chunkClock
	out       outputCount // the kinds of output among the chunks
	a         *attempter
	rd        *reader
	t         *try
	sent, end time.Time // end: the [DONE] event's
	usage     *openai.Usage
	usageBuf  openai.Usage // usage points here: one copy, no allocation
}

// event takes one event, handed out at now. end is true when the stream
// ended: at [DONE] (err nil) or an error event.
func (s *streamRead) event(ev *openai.Event, now time.Time) (end bool, err error) {
	s.events++
	rec := s.rec
	if ev.Err != "" {
		s.finish()
		return true, fmt.Errorf("error event in stream: %s", ev.Err)
	}
	if ev.Done {
		s.end = s.clock.at(now, false)
		return true, nil
	}
	// Output of any kind is content here, for TTFT, ITL and the counted
	// tokens: text, reasoning and tool-call deltas alike. TTFO waits
	// for the answer: text or a tool call, after any reasoning.
	if ev.ContentBytes > 0 || ev.ReasoningBytes > 0 || ev.ToolCalls > 0 {
		now = s.clock.at(now, true)
		if s.chunks == 0 {
			s.t.firstContent()
			rec.TTFTMs = record.Float(record.Ms(now.Sub(s.sent)))
		} else {
			rec.ITLMs = append(rec.ITLMs, record.Ms(now.Sub(s.last)))
		}
		s.last = now
		s.chunks++
	}
	if (ev.ContentBytes > 0 || ev.ToolCalls > 0) && !s.ttfo {
		rec.TTFOMs = record.Float(record.Ms(now.Sub(s.sent)))
		s.ttfo = true
	}
	s.out.add(ev)
	if ev.FinishReason != "" {
		rec.FinishReason = ev.FinishReason
	}
	if ev.Usage != nil {
		s.usageBuf = *ev.Usage
		s.usage = &s.usageBuf
	}
	return false, nil
}

// finish writes the counts and the clock's account into the record.
func (s *streamRead) finish() {
	s.clock.finish(s.rec)
	finishTokens(s.rec, s.usage, s.chunks)
	s.out.finish(s.rec, s.usage, s.chunks)
}

// broken is the failure of a stream whose read failed with err.
func (s *streamRead) broken(err error) error {
	s.finish()
	start := s.rd.body.start()
	switch {
	case errors.Is(err, io.EOF) && s.events == 0:
		return protocolErr("no server-sent events in the response: does this server stream? It said: %s", said(start))
	case errors.Is(err, io.EOF) && s.chunks == 0 && responsesShaped(start):
		return protocolErr("the server answered with Responses API events, not %s chunks (use --endpoint responses): %s", s.a.cfg.Endpoint, said(start))
	case errors.Is(err, io.EOF):
		return errors.New("stream ended before [DONE]")
	case errors.Is(err, openai.ErrMalformed):
		return &kindError{kind: record.ErrProtocol, err: err}
	case errors.Is(err, errTooLarge):
		return &kindError{kind: record.ErrProtocol, err: err}
	}
	return fmt.Errorf("stream broke: %w", err)
}

// ended finishes a stream that ended with an event: [DONE] (err nil) or
// an error event (err, the record already finished).
func (s *streamRead) ended(err error) error {
	if err != nil {
		return err
	}
	rec := s.rec
	rec.LatencyMs = record.Ms(s.end.Sub(s.sent)) // the [DONE] event's time
	s.finish()
	if s.chunks == 0 {
		return protocolErr("stream ended cleanly but carried no content, reasoning or tool call")
	}
	if err := checkCounts(rec); err != nil {
		return err
	}
	if rec.OutputTokens > 1 {
		rec.TPOTMs = record.Float((rec.LatencyMs - *rec.TTFTMs) / float64(rec.OutputTokens-1))
	}
	return nil
}

// outputCount is what a stream's chunks add up to, beyond their number.
type outputCount struct {
	reasoning   int  // chunks that carry reasoning
	toolCalls   int  // tool_calls entries
	toolCallIDs int  // entries with an id: each opens a call
	indexes     int  // 1 + the largest index of the entries (0: none)
	usageBad    bool // a usage block whose counts were unusable
}

func (n *outputCount) add(ev *openai.Event) {
	if ev.ReasoningBytes > 0 {
		n.reasoning++
	}
	n.toolCalls += ev.ToolCalls
	n.toolCallIDs += ev.ToolCallIDs
	n.indexes = max(n.indexes, ev.ToolCallIndex)
	n.usageBad = n.usageBad || ev.UsageBad
}

// calls is how many tool calls the stream made: by the deltas' index
// (required by the API, and the same for every delta of a call) when they
// have one, bounded by the number of deltas (each call has one at least);
// else the deltas that opened a call with an id; else one call.
func (n *outputCount) calls() int {
	switch {
	case n.indexes > 0:
		return min(n.indexes, n.toolCalls)
	case n.toolCallIDs == 0 && n.toolCalls > 0:
		return 1
	}
	return n.toolCallIDs
}

// finish completes what finishTokens wrote: counted chunks are marked
// TokensFromBadUsage when the server's usage was unusable; reasoning
// tokens come from usage's details when sent, else from the counted
// reasoning chunks; cached tokens from usage; and the tool calls.
func (n *outputCount) finish(rec *record.Record, usage *openai.Usage, chunks int) {
	rec.ToolCalls = n.calls()
	switch {
	case usage != nil:
		rec.CachedTokens = usage.CachedTokens
	case chunks > 0 && n.usageBad:
		rec.TokensFrom = record.TokensFromBadUsage
	}
	switch {
	case usage != nil && usage.ReasoningSet:
		rec.ReasoningTokens, rec.ReasoningFrom = usage.ReasoningTokens, record.TokensFromUsage
	case n.reasoning > 0:
		rec.ReasoningTokens, rec.ReasoningFrom = n.reasoning, record.TokensFromChunks
	}
}

// finishTokens fills the token counts: the server's usage when it sent a
// usable one, else the number of output chunks (one token per chunk, as
// vLLM streams).
func finishTokens(rec *record.Record, usage *openai.Usage, chunks int) {
	switch {
	case usage != nil:
		rec.PromptTokens, rec.OutputTokens, rec.TokensFrom = usage.PromptTokens, usage.CompletionTokens, record.TokensFromUsage
	case chunks > 0:
		rec.OutputTokens, rec.TokensFrom = chunks, record.TokensFromChunks
	}
}

// checkCounts rejects counts no server can mean: over max_tokens (when it
// was sent) or past record.MaxCount. Summing them would mislead, or wrap.
func checkCounts(rec *record.Record) error {
	for _, c := range []struct {
		name string
		n    int
	}{{"prompt_tokens", rec.PromptTokens}, {"completion_tokens", rec.OutputTokens},
		{"reasoning_tokens", rec.ReasoningTokens}, {"cached_tokens", rec.CachedTokens}} {
		if c.n > record.MaxCount {
			return protocolErr("usage reports %d %s, past %d", c.n, c.name, record.MaxCount)
		}
	}
	if rec.MaxTokens > 0 && rec.OutputTokens > rec.MaxTokens {
		return protocolErr("usage reports %d completion_tokens, over max_tokens %d", rec.OutputTokens, rec.MaxTokens)
	}
	return nil
}

// readWhole reads a whole (not streamed) body and stamps its latency: an
// answer over --max-response-bytes is a protocol failure, a broken read
// the body's.
func readWhole(rec *record.Record, body io.Reader, sent time.Time) ([]byte, error) {
	data, err := io.ReadAll(body)
	rec.LatencyMs = record.Ms(time.Since(sent))
	switch {
	case errors.Is(err, errTooLarge):
		return nil, &kindError{kind: record.ErrProtocol, err: err}
	case err != nil:
		return nil, fmt.Errorf("reading body: %w", err)
	}
	return data, nil
}

func (a *attempter) readBody(rec *record.Record, body io.Reader, sent time.Time, capture *openai.Capture) error {
	data, err := readWhole(rec, body, sent)
	if err != nil {
		return err
	}
	resp, err := openai.ParseResponse(data)
	if err != nil {
		return &kindError{kind: record.ErrProtocol, err: err}
	}
	if capture != nil {
		if err := openai.CaptureText(data, capture); err != nil {
			return protocolErr("%v", err)
		}
	}
	if resp.ErrorShaped {
		if msg, isErr := openai.StreamError(data); isErr {
			return protocolErr("error body with a 2xx status: %s", msg)
		}
	}
	rec.FinishReason = resp.FinishReason
	rec.ToolCalls = resp.ToolCalls
	if u := resp.Usage; u != nil {
		rec.PromptTokens, rec.OutputTokens, rec.TokensFrom = u.PromptTokens, u.CompletionTokens, record.TokensFromUsage
		rec.CachedTokens = u.CachedTokens
		if u.ReasoningSet {
			rec.ReasoningTokens, rec.ReasoningFrom = u.ReasoningTokens, record.TokensFromUsage
		}
	}
	if resp.ContentBytes == 0 && resp.ReasoningBytes == 0 && resp.ToolCalls == 0 {
		if bytes.Contains(data, []byte(`"object":"response"`)) {
			return protocolErr("the server answered with a Responses API body, not a %s completion (use --endpoint responses): %s", a.cfg.Endpoint, openai.Clip(string(data)))
		}
		return protocolErr("response carried no content, reasoning or tool call")
	}
	return checkCounts(rec)
}

// responsesShaped says whether a stream began as a Responses API stream
// does ("event: response.created", or data whose type is a response
// event): what a chat or completions request got instead of chunks.
func responsesShaped(start []byte) bool {
	return bytes.Contains(start, []byte("event: response.")) || bytes.Contains(start, []byte(`"type":"response.`))
}

// readEmbeddings reads a whole embeddings answer: its latency, and the
// input tokens from usage.prompt_tokens. A success holds one embedding per
// input sent; nothing is generated, so output_tokens stays 0.
func (a *attempter) readEmbeddings(rec *record.Record, body io.Reader, sent time.Time, inputs int) error {
	data, err := readWhole(rec, body, sent)
	if err != nil {
		return err
	}
	e, err := openai.ParseEmbeddings(data, inputs)
	if err != nil {
		return &kindError{kind: record.ErrProtocol, err: err}
	}
	if e.UsageSet {
		rec.PromptTokens, rec.TokensFrom = e.PromptTokens, record.TokensFromUsage
	}
	return checkCounts(rec)
}

// failTry records the failure of an attempt: its kind is the one decided
// where the error was found (a kindError), else kind, unless a limit or the
// run's end explains it (classify).
func (a *attempter) failTry(rec *record.Record, t *try, kind string, err error) *record.Record {
	if kind == "" {
		kind = record.ErrConnect
	}
	var kindErr *kindError
	if errors.As(err, &kindErr) {
		kind, err = kindErr.kind, kindErr.err
	}
	kind, err = a.classify(t, kind, err)
	return a.fail(rec, kind, err)
}

// classify refines a failure by the limit that was hit, if one was: the
// message then says which, rather than "context canceled" or "i/o timeout"
// (each client words them its own way). The deadlines are on the clock, so
// whichever client carried the request, the same failure reads the same.
func (a *attempter) classify(t *try, kind string, err error) (string, error) {
	now := time.Now()
	switch {
	case t.abort.Err() != nil:
		return record.ErrCanceled, errors.New("run interrupted before the response ended")
	case t.readBy.Before(t.deadline) && !now.Before(t.readBy):
		return record.ErrTimeout, fmt.Errorf("no content within the first-token timeout (%v)", a.cfg.FirstTokenTimeout)
	case !now.Before(t.deadline):
		return record.ErrTimeout, fmt.Errorf("response not finished within the request timeout (%v)", a.cfg.Timeout)
	}
	return kind, err
}

func (a *attempter) fail(rec *record.Record, kind string, err error) *record.Record {
	rec.OK = false
	rec.ErrorKind = kind
	rec.Error = openai.Clip(stableMessage(redact(scrubURL(err).Error(), a.cfg.APIKey)))
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

// said is what a body that should have been a stream began with, as a
// message: the server's error from any of the usual shapes, its text, or
// what the bytes are (gzip: compressed, though genload never asks for it).
func said(start []byte) string {
	if bytes.HasPrefix(start, []byte("\x1f\x8b")) {
		return "gzip-compressed bytes (Content-Encoding: gzip, which genload does not ask for)"
	}
	return openai.ErrorMessage(start)
}

// doFailure is the kind of a request that got no usable response head:
// client when the client itself ran out of something (file descriptors,
// local ports: not the server's doing), protocol when the server answered with something that is not an HTTP/1.x
// head (a garbage status line, a bad length, a TLS alert or an HTTP/2
// frame), else "" (connect: no response), unless classify says otherwise.
// Both clients word these failures alike (package h1 follows net/http).
func doFailure(err error) (string, error) {
	err = scrubURL(err)
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE):
		return record.ErrClient, fmt.Errorf("%w (genload's own limit: raise ulimit -n, or lower the concurrency)", err)
	case errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOBUFS):
		return record.ErrClient, fmt.Errorf("%w (genload's own limit: out of local ports or buffers; lower the concurrency, or let connections be reused)", err)
	case strings.Contains(msg, "malformed HTTP response") || strings.Contains(msg, "malformed HTTP version"):
		return record.ErrProtocol, fmt.Errorf("the server answered, but not HTTP/1.x (TLS? try https://; or HTTP/2 only): %w", err)
	case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "malformed MIME header"),
		strings.Contains(msg, "bad Content-Length"), strings.Contains(msg, "multiple Content-Length"),
		strings.Contains(msg, "unsupported transfer encoding"),
		strings.Contains(msg, "headers exceeded"), strings.Contains(msg, "too many 1xx"),
		strings.Contains(msg, "transport connection broken: unexpected EOF"):
		return record.ErrProtocol, err
	}
	return "", err
}

// redirectError is the failure of a redirect: never followed, since a
// benchmark measures the server it was given, with where it points and,
// from http:// to https://, what to do.
func redirectError(status int, location, from string) error {
	if location == "" {
		return fmt.Errorf("HTTP %d: a redirect without a Location, not followed", status)
	}
	hint := "measure the server it points to by giving its URL"
	if strings.HasPrefix(from, "http://") && strings.HasPrefix(strings.ToLower(location), "https://") {
		hint = "the server wants https: use an https:// URL"
	}
	return fmt.Errorf("HTTP %d: redirect to %s, not followed (%s)", status, location, hint)
}

// httpsHint is a hint for an error body that says the request should have
// gone over TLS (Go's "Client sent an HTTP request to an HTTPS server",
// nginx's "The plain HTTP request was sent to HTTPS port").
func httpsHint(body []byte) string {
	if bytes.Contains(body, []byte("HTTP request to an HTTPS server")) || bytes.Contains(body, []byte("plain HTTP request was sent to HTTPS port")) {
		return " (use an https:// URL)"
	}
	return ""
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
