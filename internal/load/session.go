package load

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/h1"
	"servebench/internal/openai"
	"servebench/internal/record"
	"servebench/internal/setting"
)

// sessionState numbers the sessions and the requests of a conversation
// run, whose requests are made by many sessions at once rather than by one
// dispatcher.
type sessionState struct {
	mu   sync.Mutex
	next int // the next session's number, from 1
	seq  int // the next request's seq
}

// session is one conversation being run.
type session struct {
	id    string
	n     int // its number, from 1: its think times' stream
	conv  dataset.Conversation
	model string
}

// validateConversations checks the conversation settings and opens their
// source.
func (c *Config) validateConversations() error {
	var err error
	if c.think, err = parseThinkTime(c.ThinkTime); err != nil {
		return err
	}
	if !c.Conversations.Enabled() {
		for _, s := range []struct {
			set   bool
			field string
		}{{c.ThinkTime != "", "ThinkTime"}, {c.KeepReasoning, "KeepReasoning"}, {c.SessionHeader != "", "SessionHeader"}} {
			if s.set {
				return setting.Errorf("{%s} is for conversations: give {ConversationFile} or {Turns}", s.field)
			}
		}
		return nil
	}
	if c.Endpoint == openai.EndpointEmbeddings {
		return setting.Errorf("conversations are for {Endpoint} chat or completions, not embeddings")
	}
	if c.SessionHeader != "" && !validHeaderName(c.SessionHeader) {
		return setting.Errorf("{SessionHeader} %q is not a header name", c.SessionHeader)
	}
	if c.convs, err = dataset.NewConversations(c.Dataset, c.Conversations); err != nil {
		return err
	}
	c.sessions = &sessionState{}
	return nil
}

// validHeaderName: a token of RFC 9110's tchar, as net/http checks it.
func validHeaderName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return name != ""
}

// newSession takes the next conversation, in dispatch order, with its
// model (a mix picks one per session: every turn goes to the same one).
func (r *runner) newSession() *session {
	cfg, st := r.a.cfg, r.a.cfg.sessions
	st.mu.Lock()
	defer st.mu.Unlock()
	st.next++
	s := &session{n: st.next, id: cfg.RunID + "-s" + strconv.Itoa(st.next), conv: cfg.convs.Next(), model: cfg.Model}
	if cfg.picker != nil {
		s.model = cfg.picker.pick()
	}
	return s
}

func (r *runner) nextSeq() int {
	st := r.a.cfg.sessions
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	return st.seq - 1
}

// sessions runs a phase of conversations: n sessions (0 = no limit) or
// those started within dur, whichever ends first. Closed loop: each of
// pt.Concurrency workers is a user running one session after another.
// Open loop: sessions start at the schedule's times, at most
// pt.Concurrency of them in flight (0 = no cap). Once the time is up no
// session starts and none starts a new turn; the turns in flight finish.
func (r *runner) sessions(name string, pt Point, n int, dur time.Duration, seed uint64, start time.Time) error {
	var deadline <-chan struct{}
	if dur > 0 {
		up := make(chan struct{})
		t := time.AfterFunc(time.Until(start.Add(dur)), func() { close(up) })
		defer t.Stop()
		deadline = up
	}
	if pt.Rate > 0 {
		return r.openSessions(name, pt, n, dur, deadline, seed, start)
	}
	sh := r.a.cfg.Shard
	var (
		mu    sync.Mutex
		taken int
	)
	// take draws sessions in the order one process would and returns the
	// next of this shard's (session i is shard i mod N's): every shard
	// draws them all, so their prompts are the same in every shard.
	take := func() (*session, bool) {
		mu.Lock()
		defer mu.Unlock()
		for {
			if (n > 0 && taken >= n) || r.ended(deadline) {
				return nil, false
			}
			i := taken
			taken++
			if s := r.newSession(); sh.Owns(i) {
				return s, true
			}
		}
	}
	workers := sh.Share(pt.Concurrency)
	if n > 0 {
		workers = min(workers, sh.Share(n))
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var backoff time.Duration
			r.rampStart(i, workers, time.Now(), deadline)
			for {
				s, ok := take()
				if !ok {
					return
				}
				kind := r.runSession(s, name, pt, time.Now(), deadline, seed)
				backoff = nextBackoff(backoff, kind)
				r.pause(backoff, deadline)
			}
		}()
	}
	wg.Wait()
	return nil
}

// ended says the run was stopped or the phase's time is up.
func (r *runner) ended(deadline <-chan struct{}) bool {
	select {
	case <-r.stop.Done():
		return true
	case <-r.reqCtx.Done():
		return true
	case <-deadline:
		return true
	default:
		return false
	}
}

// openSessions starts sessions on the schedule, as openLoop sends
// requests: a session that waits for a slot keeps its schedule time, so
// the wait shows in its first turn's queue_ms.
func (r *runner) openSessions(name string, pt Point, n int, dur time.Duration, deadline <-chan struct{}, seed uint64, start time.Time) error {
	sched, err := NewSchedule(pt.Rate, r.a.cfg.Arrival, r.a.cfg.Burstiness, r.a.cfg.RampUp, seed)
	if err != nil {
		return err
	}
	sh := r.a.cfg.Shard
	l := r.newLauncher(sh.Share(pt.Concurrency))
	for i := 0; n == 0 || i < n; i++ {
		off := sched.Next()
		if dur > 0 && off >= dur {
			break
		}
		at := start.Add(off)
		s := r.newSession()
		if !sh.Owns(i) { // another shard's session: drawn, not started
			continue
		}
		if !l.wait(at) {
			break
		}
		l.start(func() { r.runSession(s, name, pt, at, deadline, seed) })
	}
	l.finish(name, pt)
	return nil
}

// runSession sends the turns of s one after the other: each with the whole
// history, the earlier answers as the server gave them, after the user's
// think time. The first turn is scheduled at first; a later one when its
// think time ends. A failed turn ends the session; so do a stop and the
// end of the phase's time (after the turn in flight). It returns the last
// attempt's error kind, "" for none.
func (r *runner) runSession(s *session, phase string, pt Point, first time.Time, deadline <-chan struct{}, seed uint64) (kind string) {
	cfg := r.a.cfg
	rng := rand.New(rand.NewPCG(seed, uint64(s.n)))
	var text strings.Builder // completions: the history as one text
	if cfg.salt != "" {      // at the very start: the text, or the system prompt, else the first turn
		if cfg.Endpoint == openai.EndpointChat {
			s.conv = salted(s.conv, cfg.salt)
		} else {
			text.WriteString(cfg.salt)
			text.WriteByte(' ')
		}
	}
	var history []openai.Message
	if s.conv.System != "" {
		history = append(history, openai.Message{Role: "system", Content: s.conv.System})
	}
	if s.conv.System != "" {
		text.WriteString(s.conv.System)
		text.WriteString("\n\n")
	}
	capture := &openai.Capture{}
	at := first
	for k, t := range s.conv.Turns {
		if k > 0 {
			r.pause(cfg.think.draw(rng), deadline)
			if r.ended(deadline) {
				return kind
			}
			at = time.Now()
		}
		history = append(history, openai.Message{Role: "user", Content: t.Text})
		if k > 0 {
			text.WriteString("\n\n")
		}
		text.WriteString("User: ")
		text.WriteString(t.Text)
		text.WriteString("\n\nAssistant:")
		maxTokens := cfg.MaxTokens
		if t.MaxTokens > 0 {
			maxTokens = t.MaxTokens
		}
		req := openai.Request{Endpoint: cfg.Endpoint, Model: s.model, MaxTokens: maxTokens, IgnoreEOS: cfg.IgnoreEOS, Stream: cfg.Stream}
		if cfg.Endpoint == openai.EndpointChat {
			req.Messages = history
		} else {
			req.Prompt = text.String()
		}
		if cfg.ExtraBody != nil {
			req.Extra = []map[string]any{cfg.ExtraBody}
		}
		body, err := req.Body()
		if err != nil { // a body of strings and numbers always encodes
			return record.ErrClient
		}
		capture.Reset()
		tj := &turnJob{sessionID: s.id, turn: k + 1, messages: len(history), capture: capture}
		if cfg.SessionHeader != "" {
			tj.header = h1.Header{Name: cfg.SessionHeader, Value: s.id}
		}
		if cfg.Endpoint != openai.EndpointChat {
			tj.messages = 2*k + 1
			if s.conv.System != "" {
				tj.messages++
			}
		}
		j := job{seq: r.nextSeq(), phase: phase, point: pt, prompt: &Prompt{Model: s.model, MaxTokens: maxTokens, Body: body},
			scheduledAt: at, turn: tj}
		if kind = r.exec(j); kind != "" {
			return kind
		}
		answer := openai.Message{Role: "assistant", Content: string(capture.Content)}
		if cfg.KeepReasoning {
			answer.Reasoning = string(capture.Reasoning)
		}
		history = append(history, answer)
		text.WriteString(answer.Content)
	}
	return kind
}

// salted is conv with salt before its first text: the system prompt, else
// the first turn's message. The turns are copied: a file's conversations
// are shared by the sessions that cycle through them.
func salted(conv dataset.Conversation, salt string) dataset.Conversation {
	if conv.System != "" {
		conv.System = salt + " " + conv.System
		return conv
	}
	turns := slices.Clone(conv.Turns)
	turns[0].Text = salt + " " + turns[0].Text
	conv.Turns = turns
	return conv
}
