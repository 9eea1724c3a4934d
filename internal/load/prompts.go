package load

import (
	"servebench/internal/dataset"
	"servebench/internal/openai"
	"servebench/internal/setting"
)

// Prompt is a request body ready to send.
type Prompt struct {
	Model     string
	MaxTokens int
	Inputs    int // embeddings: the texts sent, one embedding each to come
	Requested int // a synthetic prompt's requested tokens, prefix included; 0 for others
	Body      []byte
}

// prompter turns dataset items into request bodies in the dispatcher, off
// the request path, each with its model (of a mix, picked in dispatch
// order). A literal prompt repeats the same item, so its body is built
// once per model and reused.
type prompter struct {
	cfg    *Config
	src    dataset.Source
	salted bool // src's items carry the salt already (calibrate's)
	last   dataset.Item
	bodies map[string]*Prompt // of last, by model
}

func (p *prompter) next() (*Prompt, error) {
	it := p.src.Next()
	model := p.cfg.Model
	if p.cfg.picker != nil {
		model = p.cfg.picker.pick()
	}
	if p.cfg.Endpoint == openai.EndpointEmbeddings {
		return p.embeddings(it, model)
	}
	if !p.salted {
		it = dataset.Salted(it, p.cfg.salt)
	}
	if !sameItem(it, p.last) {
		clear(p.bodies)
	}
	if body := p.bodies[model]; body != nil {
		return body, nil
	}
	if it.Prompt == "" && len(it.Messages) > 0 && p.cfg.Endpoint != openai.EndpointChat && p.cfg.Endpoint != openai.EndpointResponses {
		return nil, setting.Errorf("the prompts include chat messages: use {Endpoint} chat (or responses)")
	}
	maxTokens := p.cfg.MaxTokens
	if it.MaxTokens > 0 {
		maxTokens = it.MaxTokens
	}
	req := openai.Request{Endpoint: p.cfg.Endpoint, Model: model, Prompt: it.Prompt, Messages: it.Messages,
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
	if p.bodies == nil {
		p.bodies = map[string]*Prompt{}
	}
	prompt := &Prompt{Model: model, MaxTokens: maxTokens, Body: body}
	if p.cfg.Dataset.InputTokens > 0 {
		prompt.Requested = it.PromptWords
	}
	p.last, p.bodies[model] = it, prompt
	return prompt, nil
}

// sameItem is true for an item repeated by a literal or cycled source: the
// same text (compared by length first, so distinct synthetic prompts cost
// little) and the same limits.
func sameItem(a, b dataset.Item) bool {
	return a.MaxTokens == b.MaxTokens && len(a.Messages) == 0 && len(b.Messages) == 0 && a.Extra == nil && b.Extra == nil &&
		len(a.Prompt) == len(b.Prompt) && a.Prompt == b.Prompt
}

// embeddings builds an embeddings request of BatchSize consecutive
// prompts, it first. max_tokens is neither sent nor recorded: nothing is
// generated.
func (p *prompter) embeddings(it dataset.Item, model string) (*Prompt, error) {
	if p.cfg.BatchSize == 1 && sameItem(it, p.last) && p.bodies[model] != nil {
		return p.bodies[model], nil
	}
	inputs := make([]string, 0, p.cfg.BatchSize)
	var extras []map[string]any
	if p.cfg.ExtraBody != nil {
		extras = append(extras, p.cfg.ExtraBody)
	}
	for {
		if it.Prompt == "" && len(it.Messages) > 0 {
			return nil, setting.Errorf("the prompts include chat messages: {Endpoint} embeddings takes texts (prompt lines)")
		}
		inputs = append(inputs, it.Prompt)
		if it.Extra != nil {
			extras = append(extras, it.Extra)
		}
		if len(inputs) == p.cfg.BatchSize {
			break
		}
		it = p.src.Next()
	}
	req := openai.Request{Endpoint: openai.EndpointEmbeddings, Model: model, Inputs: inputs, Extra: extras}
	body, err := req.Body()
	if err != nil {
		return nil, err
	}
	prompt := &Prompt{Model: model, Inputs: len(inputs), Body: body}
	if p.cfg.BatchSize == 1 {
		if !sameItem(it, p.last) {
			clear(p.bodies)
		}
		if p.bodies == nil {
			p.bodies = map[string]*Prompt{}
		}
		p.last, p.bodies[model] = it, prompt
	}
	return prompt, nil
}
