package openai

import (
	"context"
	"encoding/json"
	"errors"
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
	Root        string `json:"root"` // vLLM: the weights the served name stands for
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
	if err := Unanswered(resp, url); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSmallBody))
	if err != nil {
		return nil, fmt.Errorf("%s: reading body: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, &HTTPError{URL: url, Status: resp.StatusCode, Message: ErrorMessage(body)}
	}
	return body, nil
}

// Unanswered is the *HTTPError of a response that is no answer and whose
// body must not be read: an unrequested 101 Switching Protocols (what
// follows is not HTTP and may never end; net/http hands the raw connection
// over as the body, beyond the request's context) or a redirect, which a
// benchmark never follows (the client must not follow it either:
// http.ErrUseLastResponse). nil for any other response.
func Unanswered(resp *http.Response, url string) error {
	switch {
	case resp.StatusCode < 200:
		return &HTTPError{URL: url, Status: resp.StatusCode, Message: "the server switched protocols unasked"}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		msg := "redirect to " + resp.Header.Get("Location") + ", not followed"
		if strings.HasPrefix(url, "http://") && strings.HasPrefix(strings.ToLower(resp.Header.Get("Location")), "https://") {
			msg += ": the server wants https, use an https:// URL"
		}
		return &HTTPError{URL: url, Status: resp.StatusCode, Message: msg}
	}
	return nil
}

// NoRedirects is an http.Client's CheckRedirect that follows none: the
// redirect is the answer.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ErrNotModelList is a 2xx /v1/models answer that is not a model list (an
// HTML page, a proxy's own answer): the server answers, but not as the API.
var ErrNotModelList = errors.New("not a model list")

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
		return nil, fmt.Errorf("%s: %w: %v: %s", t.ModelsURL(), ErrNotModelList, err, Clip(string(body[:min(len(body), 80)])))
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
