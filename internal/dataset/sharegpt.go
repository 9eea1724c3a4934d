package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// The ShareGPT filter is vLLM's, so that "ShareGPT" means the same requests
// mix in both tools. It is is_valid_sequence in
// vllm/benchmarks/dataset_utils.py (vllm-project/vllm, read at commit
// 5c92be2), with the defaults that ShareGPTDataset.sample in
// vllm/benchmarks/datasets.py (commit 0056b87) uses:
//
//	skip if prompt_len < 4, or output_len < 4 (not checked when
//	--sharegpt-output-len overrides it), or prompt_len > 1024,
//	or prompt_len + output_len > 2048
//
// after ShareGPTDataset.load_data dropped the entries with fewer than two
// turns. vLLM counts tokens with the model's tokenizer; here words stand in
// for them (see countWords), which are fewer for English text (about 1.3
// tokens a word), so slightly longer conversations pass, and the max_tokens
// taken from a reply is slightly shorter than the reply was.
const (
	shareGPTMinLen       = 4
	shareGPTMaxPromptLen = 1024
	shareGPTMaxTotalLen  = 2048
)

// validSequence is vLLM's is_valid_sequence with its default limits.
func validSequence(promptLen, outputLen int, skipMinOutput bool) bool {
	return promptLen >= shareGPTMinLen &&
		(skipMinOutput || outputLen >= shareGPTMinLen) &&
		promptLen <= shareGPTMaxPromptLen &&
		promptLen+outputLen <= shareGPTMaxTotalLen
}

type shareGPTTurn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

// shareGPTEntry is one conversation. Files differ in the key's spelling;
// every other key (id, model, markdown) is skipped by the decoder unread.
type shareGPTEntry struct {
	Conversations []shareGPTTurn `json:"conversations"`
	Conversation  []shareGPTTurn `json:"conversation"`
}

// request picks the request a conversation makes: the first human turn is
// the prompt, and the first reply after it gives the output length. vLLM
// takes turns 0 and 1 whatever their roles; the two agree on the usual file,
// whose conversations start with a human turn, and where one starts with a
// system or model turn this still sends what a person asked. Roles match
// ignoring case, and "user" counts as "human", for files in OpenAI's dialect.
func (e *shareGPTEntry) request() (prompt, reply string, ok bool) {
	turns := e.Conversations
	if turns == nil {
		turns = e.Conversation
	}
	if len(turns) < 2 {
		return "", "", false
	}
	human := func(t shareGPTTurn) bool {
		return strings.EqualFold(t.From, "human") || strings.EqualFold(t.From, "user")
	}
	for i, t := range turns {
		if !human(t) {
			continue
		}
		for _, r := range turns[i+1:] {
			if !human(r) && !strings.EqualFold(r.From, "system") {
				return t.Value, r.Value, true
			}
		}
		return "", "", false
	}
	return "", "", false
}

// readShareGPTFile reads and filters a ShareGPT file (see readShareGPT).
func readShareGPTFile(path string, outputTokens int) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError: names the file
	}
	defer f.Close()
	return readShareGPT(f, path, outputTokens)
}

// readShareGPT reads a JSON array of conversations one at a time with a
// streaming decoder, keeping only the prompt and output length of those that
// pass the filter: the usual ShareGPT file is 650 MB, and a run needs a few
// MB of it. outputTokens > 0 stands in for every reply's length, as vLLM's
// --sharegpt-output-len does: it is the length filtered on, and the items
// get no MaxTokens of their own, so that --output-tokens sets them.
func readShareGPT(r io.Reader, name string, outputTokens int) ([]Item, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("sharegpt %s: %w", name, eofIsUnexpected(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("sharegpt %s: want a JSON array of conversations, found %v", name, tok)
	}
	var items []Item
	n := 0
	for dec.More() {
		var e shareGPTEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("sharegpt %s: conversation %d (near byte %d): %w", name, n+1, dec.InputOffset(), eofIsUnexpected(err))
		}
		n++
		prompt, reply, ok := e.request()
		if !ok {
			continue
		}
		promptLen, replyLen := countWords(prompt), countWords(reply)
		outputLen, maxTokens := replyLen, replyLen
		if outputTokens > 0 {
			outputLen, maxTokens = outputTokens, 0
		}
		if validSequence(promptLen, outputLen, outputTokens > 0) {
			items = append(items, Item{Prompt: prompt, MaxTokens: maxTokens})
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return nil, fmt.Errorf("sharegpt %s: after conversation %d: %w", name, n, eofIsUnexpected(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("sharegpt %s: data after the array (near byte %d)", name, dec.InputOffset())
	}
	if n == 0 {
		return nil, fmt.Errorf("sharegpt %s has no conversations", name)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("sharegpt %s: none of its %d conversations passes vLLM's filter "+
			"(a human turn of %d to %d words, a reply of at least %d, together at most %d)",
			name, n, shareGPTMinLen, shareGPTMaxPromptLen, shareGPTMinLen, shareGPTMaxTotalLen)
	}
	return items, nil
}

// eofIsUnexpected: inside the array, the end of the file is a truncated file.
func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
