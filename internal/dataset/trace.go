package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"servebench/internal/openai"
	"servebench/internal/setting"
)

// Trace formats (genload --trace-format).
const (
	TraceMooncake = "mooncake" // JSON lines: timestamp (ms), input_length, output_length, hash_ids
	TraceAzure    = "azure"    // Azure's LLM inference trace CSV: TIMESTAMP, ContextTokens, GeneratedTokens
	TraceJSONL    = "jsonl"    // JSON lines: offset_ms, input_tokens, output_tokens, optional prompt or messages
)

// TraceBlockTokens is the size of a mooncake hash block: each hash_id
// stands for 512 tokens of the prompt, as in Mooncake's published traces.
// A block is synthesised as 512 synthetic words, one token each on the
// tokenizers words lists (see words).
const TraceBlockTokens = 512

// maxTraceOffset bounds a trace's span: a timestamp in the wrong unit
// (microseconds read as ms) would otherwise make a run of years.
const maxTraceOffset = 30 * 24 * time.Hour

// TraceEntry is one request of a trace: when it comes (from the trace's
// first request) and what it asks.
type TraceEntry struct {
	Offset       time.Duration
	InputTokens  int
	OutputTokens int
	HashIDs      []int64 // mooncake: the prompt's 512-token blocks
	Prompt       string  // jsonl: the prompt itself, else ""
	Messages     []openai.Message
}

// Trace is a whole trace, checked.
type Trace struct {
	Name    string
	Format  string
	Entries []TraceEntry
}

// ReadTrace reads and checks a whole trace file before anything is sent:
// a bad line is an error naming it ("trace FILE:LINE: what is wrong"),
// and so is a timestamp before the one above it. format "" takes it from
// the extension (.csv: azure) or, for JSON lines, from the first line's
// keys (timestamp: mooncake; offset_ms: jsonl).
func ReadTrace(path, format string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError: names the file
	}
	defer f.Close()
	return readTrace(f, path, format)
}

func readTrace(r io.Reader, name, format string) (*Trace, error) {
	br := bufio.NewReader(r)
	if format == "" {
		var err error
		if format, err = sniffTrace(br, name); err != nil {
			return nil, err
		}
	}
	var entries []TraceEntry
	var err error
	switch format {
	case TraceMooncake, TraceJSONL:
		entries, err = readTraceLines(br, name, format)
	case TraceAzure:
		entries, err = readAzure(br, name)
	default:
		return nil, setting.Errorf("{TraceFormat} %q: want mooncake, azure or jsonl", format)
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("trace %s has no requests", name)
	}
	return &Trace{Name: name, Format: format, Entries: entries}, nil
}

// sniffTrace names the format of a trace given without --trace-format.
func sniffTrace(br *bufio.Reader, name string) (string, error) {
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		return TraceAzure, nil
	}
	head, _ := br.Peek(64 << 10)
	line, _, _ := bytes.Cut(bytes.TrimLeft(head, " \t\r\n"), []byte("\n"))
	var keys map[string]json.RawMessage
	if json.Unmarshal(line, &keys) == nil {
		if _, ok := keys["timestamp"]; ok {
			return TraceMooncake, nil
		}
		if _, ok := keys["offset_ms"]; ok {
			return TraceJSONL, nil
		}
	}
	return "", setting.Errorf("trace %s: cannot tell its format from its name or first line: give {TraceFormat} mooncake, azure or jsonl", name)
}

// traceLine is a JSON line of either JSON-lines format.
type traceLine struct {
	// mooncake
	Timestamp    *float64 `json:"timestamp"`
	InputLength  *int     `json:"input_length"`
	OutputLength *int     `json:"output_length"`
	HashIDs      []int64  `json:"hash_ids"`
	// jsonl
	OffsetMs     *float64         `json:"offset_ms"`
	InputTokens  *int             `json:"input_tokens"`
	OutputTokens *int             `json:"output_tokens"`
	Prompt       string           `json:"prompt"`
	Messages     []openai.Message `json:"messages"`
}

func readTraceLines(r io.Reader, name, format string) ([]TraceEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var entries []TraceEntry
	var first, last float64
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e, ms, err := parseTraceLine(line, format)
		if err == nil && len(entries) > 0 && ms < last {
			err = fmt.Errorf("the time %v ms is before the line above's %v ms: a trace must be in time order (sort it, e.g. sort -n)", ms, last)
		}
		if err != nil {
			return nil, fmt.Errorf("trace %s:%d: %v", name, n, err)
		}
		if len(entries) == 0 {
			first = ms
		}
		last = ms
		off := (ms - first) * float64(time.Millisecond)
		if off > float64(maxTraceOffset) {
			return nil, fmt.Errorf("trace %s:%d: %v ms after the first request, over %v (timestamps in ms?)", name, n, ms-first, maxTraceOffset)
		}
		e.Offset = time.Duration(off)
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("trace %s:%d: a line longer than %d MiB", name, n+1, maxLineBytes>>20)
		}
		return nil, fmt.Errorf("trace %s: %w", name, err)
	}
	return entries, nil
}

// parseTraceLine reads one line: the entry and its time in ms.
func parseTraceLine(line []byte, format string) (TraceEntry, float64, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var tl traceLine
	if err := dec.Decode(&tl); err != nil {
		return TraceEntry{}, 0, fmt.Errorf("not a %s line: %v", format, err)
	}
	if dec.More() {
		return TraceEntry{}, 0, errors.New("more than one JSON value on the line")
	}
	var e TraceEntry
	var at *float64
	var in, out *int
	if format == TraceMooncake {
		if tl.OffsetMs != nil || tl.InputTokens != nil || tl.OutputTokens != nil || tl.Prompt != "" || tl.Messages != nil {
			return e, 0, errors.New("a jsonl key in a mooncake trace (mooncake has timestamp, input_length, output_length, hash_ids)")
		}
		at, in, out, e.HashIDs = tl.Timestamp, tl.InputLength, tl.OutputLength, tl.HashIDs
	} else {
		if tl.Timestamp != nil || tl.InputLength != nil || tl.OutputLength != nil || tl.HashIDs != nil {
			return e, 0, errors.New("a mooncake key in a jsonl trace (jsonl has offset_ms, input_tokens, output_tokens, prompt, messages)")
		}
		at, in, out, e.Prompt, e.Messages = tl.OffsetMs, tl.InputTokens, tl.OutputTokens, tl.Prompt, tl.Messages
	}
	keys := map[string][3]string{TraceMooncake: {"timestamp", "input_length", "output_length"}, TraceJSONL: {"offset_ms", "input_tokens", "output_tokens"}}[format]
	switch {
	case at == nil:
		return e, 0, fmt.Errorf("no %s", keys[0])
	case *at < 0 || math.IsInf(*at, 0):
		return e, 0, fmt.Errorf("%s %v: want a time in ms, 0 or more", keys[0], *at)
	case out == nil:
		return e, 0, fmt.Errorf("no %s", keys[2])
	case *out < 1 || *out > maxLength:
		return e, 0, fmt.Errorf("%s %d: want 1 to %d", keys[2], *out, maxLength)
	case e.Prompt != "" && e.Messages != nil:
		return e, 0, errors.New("both prompt and messages: give one")
	case e.Messages != nil:
		if err := checkMessages(e.Messages); err != nil {
			return e, 0, err
		}
	case in == nil && e.Prompt == "":
		return e, 0, fmt.Errorf("no %s", keys[1])
	}
	if in != nil {
		if *in < 1 || *in > maxLength {
			return e, 0, fmt.Errorf("%s %d: want 1 to %d", keys[1], *in, maxLength)
		}
		e.InputTokens = *in
	}
	if n := len(e.HashIDs); n > 0 && (n-1)*TraceBlockTokens >= e.InputTokens {
		return e, 0, fmt.Errorf("%d hash_ids of %d tokens for input_length %d: more blocks than the prompt has", n, TraceBlockTokens, e.InputTokens)
	}
	e.OutputTokens = *out
	return e, *at, nil
}

// azureLayouts are the TIMESTAMP forms of Azure's traces (2023:
// "2023-11-16 18:15:46.6805900"; 2024 adds a zone).
var azureLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano}

func readAzure(r io.Reader, name string) ([]TraceEntry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("trace %s: no header line (want TIMESTAMP,ContextTokens,GeneratedTokens): %v", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, want := range []string{"TIMESTAMP", "ContextTokens", "GeneratedTokens"} {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("trace %s:1: no %s column (the header has %s)", name, want, strings.Join(head, ","))
		}
	}
	var entries []TraceEntry
	var first, last time.Time
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil { // a *csv.ParseError says where
			return nil, fmt.Errorf("trace %s: %v", name, err)
		}
		line, _ := cr.FieldPos(0) // only of a record read: it panics after an error
		field := func(k string) string {
			if i := col[k]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("trace %s:%d: %s", name, line, fmt.Sprintf(format, args...))
		}
		var at time.Time
		ts := field("TIMESTAMP")
		if i := slices.IndexFunc(azureLayouts, func(l string) bool { at, err = time.Parse(l, ts); return err == nil }); i < 0 {
			return nil, bad("TIMESTAMP %q is not a time such as 2023-11-16 18:15:46.6805900", ts)
		}
		in, err1 := strconv.Atoi(field("ContextTokens"))
		out, err2 := strconv.Atoi(field("GeneratedTokens"))
		switch {
		case err1 != nil || in < 1 || in > maxLength:
			return nil, bad("ContextTokens %q: want 1 to %d", field("ContextTokens"), maxLength)
		case err2 != nil || out < 1 || out > maxLength:
			return nil, bad("GeneratedTokens %q: want 1 to %d", field("GeneratedTokens"), maxLength)
		case len(entries) > 0 && at.Before(last):
			return nil, bad("TIMESTAMP %s is before the line above's: a trace must be in time order", ts)
		}
		if len(entries) == 0 {
			first = at
		}
		last = at
		if at.Sub(first) > maxTraceOffset {
			return nil, bad("%v after the first request, over %v", at.Sub(first), maxTraceOffset)
		}
		entries = append(entries, TraceEntry{Offset: at.Sub(first), InputTokens: in, OutputTokens: out})
	}
	return entries, nil
}

// TraceSource yields a trace's requests in order, their prompts made as
// they are needed (a trace of long prompts would not fit in memory whole):
// a mooncake entry's hash blocks each become TraceBlockTokens synthetic
// words drawn from the seed and the hash id, so that equal ids give equal
// blocks and different ids different ones; what the blocks do not cover
// (an entry without hash_ids, a prompt longer than its blocks) is words of
// the request's own. A jsonl entry's prompt or messages are sent as they
// are. Entries past the end cycle (a run never asks for more).
type TraceSource struct {
	entries []TraceEntry
	next    int
	seed    int64
	rng     *rand.Rand // words of no block: different for every request
}

// NewTraceSource makes the trace's requests, drawn from seed.
func NewTraceSource(t *Trace, seed int64) *TraceSource {
	return &TraceSource{entries: t.Entries, seed: seed, rng: newRand(seed, streamPrompts)}
}

func (s *TraceSource) Next() Item {
	e := s.entries[s.next]
	s.next = (s.next + 1) % len(s.entries)
	switch {
	case e.Messages != nil:
		return withPrefix(Item{Messages: e.Messages, MaxTokens: e.OutputTokens}, "")
	case e.Prompt != "":
		return withPrefix(Item{Prompt: e.Prompt, MaxTokens: e.OutputTokens}, "")
	}
	var b strings.Builder
	words := 0
	for i, id := range e.HashIDs {
		n := min(TraceBlockTokens, e.InputTokens-i*TraceBlockTokens)
		s.block(&b, id, n)
		words += n
	}
	if rest := e.InputTokens - words; rest > 0 {
		rng := s.rng
		for range rest {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(wordList[rng.IntN(len(wordList))])
		}
	}
	return Item{Prompt: b.String(), MaxTokens: e.OutputTokens, PromptWords: e.InputTokens}
}

// wordList is words as a slice.
var wordList = words[:]

// block writes the first n words of hash block id.
func (s *TraceSource) block(b *strings.Builder, id int64, n int) {
	rng := newRand(s.seed^id*0x2545f4914f6cdd1d, streamBlocks)
	for range n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(wordList[rng.IntN(len(wordList))])
	}
}

// streamBlocks is the PCG stream of trace blocks (see the other streams).
const streamBlocks uint64 = 0xd6e8feb86659fd93
