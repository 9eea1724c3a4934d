package load

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"servebench/internal/openai"
)

// Prompt is a request body built once and sent as often as needed.
type Prompt struct {
	Text      string
	MaxTokens int
	Body      []byte
}

// ReadPromptFile reads one prompt per non-blank line.
func ReadPromptFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("prompt file: %w", err)
	}
	defer f.Close()
	prompts, err := readPrompts(f)
	if err != nil {
		return nil, fmt.Errorf("prompt file %s: %w", path, err)
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("prompt file %s has no prompts", path)
	}
	return prompts, nil
}

func readPrompts(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var prompts []string
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			prompts = append(prompts, line)
		}
	}
	return prompts, sc.Err()
}

// buildPrompts encodes every prompt's request body up front, so the request
// path does no JSON encoding.
func buildPrompts(cfg *Config) ([]*Prompt, error) {
	out := make([]*Prompt, 0, len(cfg.Prompts))
	for _, text := range cfg.Prompts {
		req := openai.Request{Endpoint: cfg.Endpoint, Model: cfg.Model, Prompt: text,
			MaxTokens: cfg.MaxTokens, IgnoreEOS: cfg.IgnoreEOS, Stream: cfg.Stream}
		body, err := req.Body()
		if err != nil {
			return nil, err
		}
		out = append(out, &Prompt{Text: text, MaxTokens: cfg.MaxTokens, Body: body})
	}
	return out, nil
}
