package load

import (
	"servebench/internal/dataset"
	"servebench/internal/openai"
	"servebench/internal/setting"
)

// Prompt is a request body ready to send.
type Prompt struct {
	MaxTokens int
	Body      []byte
}

// prompter turns dataset items into request bodies in the dispatcher, off
// the request path. A literal prompt repeats the same item, so its body is
// built once and reused.
type prompter struct {
	cfg  *Config
	src  dataset.Source
	last dataset.Item
	body *Prompt
}

func (p *prompter) next() (*Prompt, error) {
	it := p.src.Next()
	if p.body != nil && sameItem(it, p.last) {
		return p.body, nil
	}
	if it.Prompt == "" && len(it.Messages) > 0 && p.cfg.Endpoint != openai.EndpointChat {
		return nil, setting.Errorf("the prompts include chat messages: use {Endpoint} chat")
	}
	maxTokens := p.cfg.MaxTokens
	if it.MaxTokens > 0 {
		maxTokens = it.MaxTokens
	}
	req := openai.Request{Endpoint: p.cfg.Endpoint, Model: p.cfg.Model, Prompt: it.Prompt, Messages: it.Messages,
		MaxTokens: maxTokens, IgnoreEOS: p.cfg.IgnoreEOS, Stream: p.cfg.Stream}
	// The run's extras first, then the line's: the more specific wins.
	for _, extra := range []map[string]any{p.cfg.ExtraBody, it.Extra} {
		if extra != nil {
			req.Extra = append(req.Extra, extra)
		}
	}
	body, err := req.Body()
	if err != nil {
		return nil, err
	}
	p.last, p.body = it, &Prompt{MaxTokens: maxTokens, Body: body}
	return p.body, nil
}

// sameItem is true for an item repeated by a literal or cycled source: the
// same text (compared by length first, so distinct synthetic prompts cost
// little) and the same limits.
func sameItem(a, b dataset.Item) bool {
	return a.MaxTokens == b.MaxTokens && len(a.Messages) == 0 && len(b.Messages) == 0 && a.Extra == nil && b.Extra == nil &&
		len(a.Prompt) == len(b.Prompt) && a.Prompt == b.Prompt
}
