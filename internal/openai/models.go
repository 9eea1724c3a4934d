package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Model is one entry of /v1/models. MaxModelLen is vLLM's extension (0 when
// the server does not say).
type Model struct {
	ID          string `json:"id"`
	MaxModelLen int    `json:"max_model_len"`
}

// HTTPError is a non-2xx answer with the server's message.
type HTTPError struct {
	URL     string
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: HTTP %d", e.URL, e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.URL, e.Status, e.Message)
}

// SetAuth adds the bearer token when there is one. The key goes into the
// header only: never into a URL, a record or a message.
func SetAuth(req *http.Request, apiKey string) {
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
}

// maxSmallBody bounds the bodies of /v1/models and error answers.
const maxSmallBody = 4 << 20

// Get fetches url and returns its body when the status is 2xx, an *HTTPError
// otherwise.
func Get(ctx context.Context, hc *http.Client, url, apiKey string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	SetAuth(req, apiKey)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSmallBody))
	if err != nil {
		return nil, fmt.Errorf("%s: reading body: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, &HTTPError{URL: url, Status: resp.StatusCode, Message: ErrorMessage(body)}
	}
	return body, nil
}

// ListModels returns the models the server serves, in its order.
func ListModels(ctx context.Context, hc *http.Client, t Target, apiKey string) ([]Model, error) {
	body, err := Get(ctx, hc, t.ModelsURL(), apiKey)
	if err != nil {
		return nil, err
	}
	var list struct {
		Data []Model `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("%s: not a model list: %w", t.ModelsURL(), err)
	}
	return list.Data, nil
}

// FindModel finds the model asked for in a server's list. Ollama lists
// "tiny:latest" but serves requests for "tiny" too, so an untagged name
// matches its ":latest" tag.
func FindModel(models []Model, asked string) (Model, bool) {
	for _, m := range models {
		if m.ID == asked || (!strings.Contains(asked, ":") && m.ID == asked+":latest") {
			return m, true
		}
	}
	return Model{}, false
}

// ModelIDs are the ids of models, in order.
func ModelIDs(models []Model) []string {
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	return ids
}

// ModelNotServedError: the server's list lacks the model asked for.
type ModelNotServedError struct {
	Model  string
	Served []string
}

func (e *ModelNotServedError) Error() string {
	return fmt.Sprintf("model %q is not served; the server has: %s", e.Model, strings.Join(e.Served, ", "))
}
