package dataset

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"servebench/internal/openai"
)

// maxLineBytes bounds one line of a prompt file: long enough for a prompt
// that fills a million-token context, short enough that a file without
// newlines fails with a message instead of eating memory.
const maxLineBytes = 16 << 20

// errUTF16 says what to do with a prompt file that is not UTF-8.
var errUTF16 = errors.New("prompts are read as UTF-8: convert it (iconv -f UTF-16 -t UTF-8 FILE)")

// readPromptFile reads the whole prompt file up front: prompt files are
// written by hand or by script and are small next to the run they drive, and
// an error on line 900 must stop the run before its first request.
func readPromptFile(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError: names the file
	}
	defer f.Close()
	return readPrompts(f, path)
}

// readPrompts reads a prompt file from r; name is the file's name in errors,
// which read "prompt file NAME:LINE: what is wrong".
func readPrompts(r io.Reader, name string) ([]Item, error) {
	br := bufio.NewReader(r)
	if start, _ := br.Peek(2); string(start) == "\xff\xfe" || string(start) == "\xfe\xff" {
		return nil, fmt.Errorf("prompt file %s is UTF-16: %w", name, errUTF16)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	var items []Item
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		// A byte order mark (Windows editors write one, and files
		// concatenated with cat keep theirs) would make a JSON line look
		// like a plain prompt.
		text = strings.TrimPrefix(text, "\uFEFF")
		if strings.IndexByte(text, 0) >= 0 {
			return nil, fmt.Errorf("prompt file %s:%d: a NUL byte: %w", name, line, errUTF16)
		}
		it, ok, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("prompt file %s:%d: %w", name, line, err)
		}
		if ok {
			items = append(items, it)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d MiB", maxLineBytes>>20)
		}
		return nil, fmt.Errorf("prompt file %s:%d: %w", name, line+1, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("prompt file %s has no prompts", name)
	}
	return items, nil
}

// promptLine is a JSON line of a prompt file. Pointers tell a missing field
// from an empty one; other fields (an id, a category) are ignored, so that
// lines exported from other tools can be used as they are.
type promptLine struct {
	Prompt    *string          `json:"prompt"`
	Messages  []openai.Message `json:"messages"`
	MaxTokens *int             `json:"max_tokens"`
}

// parseLine reads one line of a prompt file. A line that starts with "{" is
// a JSON object with "prompt" (a string) or "messages" (an array of
// {"role", "content"} with a "user" message), and optionally "max_tokens";
// any other line is a plain prompt. A plain prompt that starts with "{" must
// therefore be written as {"prompt": ...}: guessing would turn a typo in a
// JSON line into a prompt sent thousands of times. Surrounding space is
// trimmed, so CRLF files work; ok is false for a blank line.
func parseLine(line string) (it Item, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return Item{}, false, nil
	}
	if line[0] != '{' {
		return Item{Prompt: line}, true, nil
	}
	var pl promptLine
	if err := json.Unmarshal([]byte(line), &pl); err != nil {
		return Item{}, false, fmt.Errorf("line starts with { but is not a JSON object: %w", err)
	}
	switch {
	case pl.Prompt != nil && pl.Messages != nil:
		return Item{}, false, errors.New(`has both "prompt" and "messages"`)
	case pl.Prompt != nil:
		if strings.TrimSpace(*pl.Prompt) == "" {
			return Item{}, false, errors.New(`"prompt" is empty`)
		}
		it.Prompt = *pl.Prompt
	case pl.Messages != nil:
		if err := checkMessages(pl.Messages); err != nil {
			return Item{}, false, err
		}
		it.Messages = pl.Messages
	default:
		return Item{}, false, errors.New(`has neither "prompt" nor "messages"`)
	}
	if pl.MaxTokens != nil {
		if *pl.MaxTokens < 1 || *pl.MaxTokens > maxLength {
			return Item{}, false, fmt.Errorf(`"max_tokens" %d: want 1 to %d`, *pl.MaxTokens, maxLength)
		}
		it.MaxTokens = *pl.MaxTokens
	}
	if it.Extra, err = passThrough(line); err != nil {
		return Item{}, false, err
	}
	return it, true, nil
}

// ownFields are the keys of a prompt-file line that genload interprets;
// every other key passes through into that request's body.
var ownFields = []string{"prompt", "messages", "max_tokens"}

// passThrough is what a line adds to its request's body: every key
// besides ownFields (tools, tool_choice, response_format,
// chat_template_kwargs, sampling parameters), numbers as written; nil when
// there is none.
func passThrough(line string) (map[string]any, error) {
	obj, err := openai.ParseObject([]byte(line))
	if err != nil {
		return nil, err
	}
	for _, k := range ownFields {
		delete(obj, k)
	}
	for _, k := range openai.OwnFields { // the rest of genload's own: the run's to set
		if _, ok := obj[k]; ok {
			return nil, fmt.Errorf("%q is the run's to set (genload's flags), not a line's", k)
		}
	}
	if len(obj) == 0 {
		return nil, nil
	}
	return obj, nil
}

// checkMessages asks for a role on every message and at least one user
// message: chat templates reject a conversation without one, and the shared
// prefix goes into the first.
func checkMessages(msgs []openai.Message) error {
	user := false
	for i, m := range msgs {
		if m.Role == "" {
			return fmt.Errorf(`message %d has no "role"`, i+1)
		}
		user = user || m.Role == "user"
	}
	if !user {
		return errors.New(`"messages" has no message with role "user"`)
	}
	return nil
}
