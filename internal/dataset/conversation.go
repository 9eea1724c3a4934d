package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"servebench/internal/setting"
)

// maxTurns bounds the turns of a synthetic conversation (--turns): each
// turn resends the whole history, so the work grows with the square.
const maxTurns = 1000

// Conversation is a session's user side: an optional system prompt and the
// user messages of its turns, in order. The answers are not part of it:
// a session sends the server's real answers back in its history.
type Conversation struct {
	System string
	Turns  []Turn
}

// Turn is one user message and its max_tokens (0: the run's).
type Turn struct {
	Text      string
	MaxTokens int
}

// ConversationConfig chooses the conversations of a run: a file (File), or
// synthetic ones of Turns turns each, whose user messages are the
// synthetic prompts of the dataset Config (InputTokens and its range per
// turn, OutputTokens per turn, the shared prefix before the first turn's
// message only).
type ConversationConfig struct {
	// File is a ShareGPT JSON array (every human turn of a conversation
	// is a turn; the reply after it gives its max_tokens, unless
	// OutputTokens is set; a system turn is the system prompt) or JSON
	// lines {"turns":["first message", "second", ...]}, where a turn may
	// also be {"content": "...", "max_tokens": N}, with optional
	// "max_tokens" for every turn and "system".
	File  string
	Turns int
}

// Enabled says a run is made of conversations.
func (c ConversationConfig) Enabled() bool { return c.File != "" || c.Turns > 0 }

// ConversationSource yields the conversations of a run, in a deterministic
// order; a file's are cycled. Not safe for concurrent use.
type ConversationSource interface {
	Next() Conversation
}

// NewConversations checks conv with cfg, reads the file, and returns the
// source. A bad line fails here, before anything is sent.
func NewConversations(cfg Config, conv ConversationConfig) (ConversationSource, error) {
	switch {
	case conv.File != "" && conv.Turns > 0:
		return nil, setting.Errorf("{ConversationFile} and {Turns} cannot be used together: a file's conversations have their own turns")
	case conv.Turns < 0 || conv.Turns > maxTurns:
		return nil, setting.Errorf("{Turns} %d: want 1 to %d", conv.Turns, maxTurns)
	case len(cfg.Prompts) > 0 || cfg.PromptFile != "" || cfg.ShareGPTFile != "":
		return nil, setting.Errorf("conversations take their messages from {ConversationFile} or, with {Turns}, from {InputTokens}: not {Prompts}, {PromptFile} or {ShareGPTFile}")
	case cfg.PrefixGroups > 1:
		return nil, setting.Errorf("{PrefixGroups} is for single requests, not conversations")
	case conv.Turns > 0 && cfg.InputTokens == 0:
		return nil, setting.Errorf("{Turns} makes synthetic conversations: give {InputTokens}, each turn's message length")
	case conv.File != "" && cfg.InputTokens > 0:
		return nil, setting.Errorf("{InputTokens} is for synthetic conversations ({Turns}); {ConversationFile} has its own messages")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	prefix := syntheticText(newRand(cfg.Seed, streamPrefix), cfg.SharedPrefixTokens)
	out := outputs{rng: newRand(cfg.Seed, streamOutputs)}
	if cfg.OutputTokens > 0 {
		out.length, out.set = newLengthRange(cfg.OutputTokens, cfg.OutputTokensRange), true
	}
	if conv.Turns > 0 {
		words := cfg
		words.SharedPrefixTokens = 0 // the prefix goes before the first turn only
		return &syntheticConversations{src: newSynthetic(words, "", out), turns: conv.Turns, prefix: prefix}, nil
	}
	f, err := os.Open(conv.File)
	if err != nil {
		return nil, err // *fs.PathError: names the file
	}
	defer f.Close()
	convs, err := readConversations(f, conv.File, cfg.OutputTokens > 0)
	if err != nil {
		return nil, err
	}
	for i := range convs {
		if prefix != "" {
			convs[i].Turns[0].Text = prefix + " " + convs[i].Turns[0].Text
		}
		for j := range convs[i].Turns {
			it := Item{MaxTokens: convs[i].Turns[j].MaxTokens}
			out.apply(&it)
			convs[i].Turns[j].MaxTokens = it.MaxTokens
		}
	}
	return &conversationCycle{convs: convs}, nil
}

// syntheticConversations are made of synthetic prompts, one per turn.
type syntheticConversations struct {
	src    *synthetic
	turns  int
	prefix string
}

func (s *syntheticConversations) Next() Conversation {
	c := Conversation{Turns: make([]Turn, s.turns)}
	for i := range c.Turns {
		it := s.src.Next()
		c.Turns[i] = Turn{Text: it.Prompt, MaxTokens: it.MaxTokens}
	}
	if s.prefix != "" {
		c.Turns[0].Text = s.prefix + " " + c.Turns[0].Text
	}
	return c
}

// conversationCycle sends a file's conversations in its order, cycled.
type conversationCycle struct {
	convs []Conversation
	next  int
}

func (c *conversationCycle) Next() Conversation {
	conv := c.convs[c.next]
	c.next = (c.next + 1) % len(c.convs)
	return conv
}

// readConversations reads a conversation file: a ShareGPT array when it
// starts with '[', else JSON lines. ownLengths says the run sets every
// turn's max_tokens (--output-tokens): ShareGPT's replies then give none.
// Errors read "conversations NAME:LINE: what is wrong".
func readConversations(r io.Reader, name string, ownLengths bool) ([]Conversation, error) {
	br := bufio.NewReader(r)
	if start, _ := br.Peek(2); string(start) == "\xff\xfe" || string(start) == "\xfe\xff" {
		return nil, fmt.Errorf("conversations %s is UTF-16: %w", name, errUTF16)
	}
	for {
		b, err := br.Peek(1)
		if err != nil {
			return nil, fmt.Errorf("conversations %s is empty: want JSON lines {\"turns\":[\"first message\", ...]} or a ShareGPT array", name)
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
			_, _ = br.ReadByte()
			continue
		}
		if b[0] == '[' {
			return readShareGPTConversations(br, name, ownLengths)
		}
		break
	}
	return readConversationLines(br, name)
}

// conversationLine is one JSON line of a conversation file.
type conversationLine struct {
	Turns     []json.RawMessage `json:"turns"`
	System    string            `json:"system"`
	MaxTokens int               `json:"max_tokens"`
}

type turnObject struct {
	Content   string `json:"content"`
	MaxTokens int    `json:"max_tokens"`
}

func readConversationLines(r io.Reader, name string) ([]Conversation, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var convs []Conversation
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		c, err := parseConversationLine(line)
		if err != nil {
			return nil, fmt.Errorf("conversations %s:%d: %v", name, n, err)
		}
		convs = append(convs, c)
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("conversations %s:%d: a line longer than %d MiB", name, n+1, maxLineBytes>>20)
		}
		return nil, fmt.Errorf("conversations %s: %w", name, err)
	}
	if len(convs) == 0 {
		return nil, fmt.Errorf("conversations %s has no conversations", name)
	}
	return convs, nil
}

// parseConversationLine reads {"turns": [...], "system": "...",
// "max_tokens": N}; unknown keys are refused, as a misspelt one would be
// silently dropped.
func parseConversationLine(line []byte) (Conversation, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var cl conversationLine
	if err := dec.Decode(&cl); err != nil {
		return Conversation{}, fmt.Errorf("want a JSON object {\"turns\":[\"first message\", ...]}: %v", err)
	}
	if dec.More() {
		return Conversation{}, fmt.Errorf("more than one JSON value on the line")
	}
	if len(cl.Turns) == 0 {
		return Conversation{}, fmt.Errorf(`no "turns": want {"turns":["first message", "second", ...]}`)
	}
	if cl.MaxTokens < 0 || cl.MaxTokens > maxLength {
		return Conversation{}, fmt.Errorf("max_tokens %d: want 1 to %d", cl.MaxTokens, maxLength)
	}
	c := Conversation{System: cl.System, Turns: make([]Turn, len(cl.Turns))}
	for i, raw := range cl.Turns {
		var t turnObject
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '"' {
			if err := json.Unmarshal(raw, &t.Content); err != nil {
				return Conversation{}, fmt.Errorf("turn %d: %v", i+1, err)
			}
		} else {
			td := json.NewDecoder(bytes.NewReader(raw))
			td.DisallowUnknownFields()
			if err := td.Decode(&t); err != nil {
				return Conversation{}, fmt.Errorf("turn %d: want a string or {\"content\": \"...\", \"max_tokens\": N}: %v", i+1, err)
			}
		}
		switch {
		case strings.TrimSpace(t.Content) == "":
			return Conversation{}, fmt.Errorf("turn %d is empty", i+1)
		case t.MaxTokens < 0 || t.MaxTokens > maxLength:
			return Conversation{}, fmt.Errorf("turn %d: max_tokens %d: want 1 to %d", i+1, t.MaxTokens, maxLength)
		case t.MaxTokens == 0:
			t.MaxTokens = cl.MaxTokens
		}
		c.Turns[i] = Turn{Text: t.Content, MaxTokens: t.MaxTokens}
	}
	return c, nil
}

// readShareGPTConversations reads a ShareGPT array whole: every human (or
// user) turn is a turn, the first non-human turn after it its reply (whose
// words give the turn's max_tokens unless ownLengths), a system turn the
// system prompt. Conversations without a human turn are skipped; the
// length filter of --sharegpt (one exchange) does not apply.
func readShareGPTConversations(r io.Reader, name string, ownLengths bool) ([]Conversation, error) {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil { // the [ seen by the caller
		return nil, fmt.Errorf("conversations %s: %w", name, err)
	}
	var convs []Conversation
	n := 0
	for dec.More() {
		var e shareGPTEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("conversations %s: conversation %d (near byte %d): %w", name, n+1, dec.InputOffset(), eofIsUnexpected(err))
		}
		n++
		if c, ok := e.conversation(ownLengths); ok {
			convs = append(convs, c)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("conversations %s: after conversation %d: %w", name, n, eofIsUnexpected(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("conversations %s: data after the array (near byte %d)", name, dec.InputOffset())
	}
	if len(convs) == 0 {
		return nil, fmt.Errorf("conversations %s: none of its %d conversations has a human turn", name, n)
	}
	return convs, nil
}

// conversation is the user side of a ShareGPT conversation.
func (e *shareGPTEntry) conversation(ownLengths bool) (Conversation, bool) {
	turns := e.Conversations
	if turns == nil {
		turns = e.Conversation
	}
	var c Conversation
	for _, t := range turns {
		switch {
		case strings.EqualFold(t.From, "human") || strings.EqualFold(t.From, "user"):
			if strings.TrimSpace(t.Value) != "" {
				c.Turns = append(c.Turns, Turn{Text: t.Value})
			}
		case strings.EqualFold(t.From, "system"):
			if len(c.Turns) == 0 {
				c.System = t.Value
			}
		case len(c.Turns) > 0 && c.Turns[len(c.Turns)-1].MaxTokens == 0 && !ownLengths:
			c.Turns[len(c.Turns)-1].MaxTokens = min(max(countWords(t.Value), 1), maxLength)
		}
	}
	return c, len(c.Turns) > 0
}
