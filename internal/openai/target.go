// Package openai speaks the OpenAI-compatible HTTP API as vLLM, SGLang, TGI,
// Ollama and llama.cpp's server implement it: where the endpoints are, how a
// request body looks, how a server-sent-event stream and an error body are
// read. It knows nothing about load or statistics.
package openai

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Endpoints genload can drive.
const (
	EndpointCompletions = "completions"
	EndpointChat        = "chat"
	EndpointEmbeddings  = "embeddings"
	// EndpointResponses is /v1/responses, OpenAI's Responses API as vLLM
	// serves it (responses.go).
	EndpointResponses = "responses"
)

// Endpoints lists them, as a usage message says them.
const Endpoints = EndpointCompletions + ", " + EndpointChat + ", " + EndpointResponses + " or " + EndpointEmbeddings

// KnownEndpoint says whether genload and probe can drive endpoint.
func KnownEndpoint(endpoint string) bool {
	switch endpoint {
	case EndpointCompletions, EndpointChat, EndpointResponses, EndpointEmbeddings:
		return true
	}
	return false
}

// Target is a server address resolved from what a user typed: a base URL
// ("http://host:8000"), the API root ("http://host:8000/v1") or a full
// endpoint ("http://host:8000/v1/chat/completions"). Root is where vLLM
// serves /health and /version; API is the OpenAI prefix (usually Root+"/v1").
type Target struct {
	Root string
	API  string
	// Endpoint is set when the URL named one; "" otherwise.
	Endpoint string
}

// ParseTarget resolves raw into a Target. Query strings and fragments are
// refused because they would be silently dropped from every request.
func ParseTarget(raw string) (Target, error) {
	trimmed := strings.TrimSpace(raw)
	if !strings.Contains(trimmed, "://") && trimmed != "" {
		// "localhost:8000" parses as scheme "localhost"; "gpu1" as a path.
		return Target{}, fmt.Errorf("bad URL %q: want http:// or https:// (did you mean http://%s?)", raw, trimmed)
	}
	u, err := url.Parse(trimmed)
	if err != nil {
		return Target{}, fmt.Errorf("bad URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Target{}, fmt.Errorf("bad URL %q: want http:// or https://", raw)
	}
	if u.Host == "" {
		return Target{}, fmt.Errorf("bad URL %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Target{}, fmt.Errorf("bad URL %q: no query or fragment please", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("bad URL %q: port %s is not 1-65535", raw, p)
		}
	}
	if strings.Contains(u.Hostname(), "%") {
		return Target{}, fmt.Errorf("bad URL %q: an IPv6 zone (%%...) cannot be used; give the address without it, or a host name", raw)
	}
	if u.User != nil {
		return Target{}, fmt.Errorf("bad URL: credentials in the URL would be logged; give the API key on its own")
	}
	path := strings.TrimRight(u.Path, "/")
	var t Target
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		t.Endpoint, path = EndpointChat, strings.TrimSuffix(path, "/chat/completions")
	case strings.HasSuffix(path, "/responses"):
		t.Endpoint, path = EndpointResponses, strings.TrimSuffix(path, "/responses")
	case strings.HasSuffix(path, "/embeddings"):
		t.Endpoint, path = EndpointEmbeddings, strings.TrimSuffix(path, "/embeddings")
	case strings.HasSuffix(path, "/completions"):
		t.Endpoint, path = EndpointCompletions, strings.TrimSuffix(path, "/completions")
	}
	origin := u.Scheme + "://" + u.Host
	if strings.HasSuffix(path, "/v1") {
		t.API = origin + path
		t.Root = origin + strings.TrimSuffix(path, "/v1")
	} else {
		t.Root = origin + path
		t.API = t.Root + "/v1"
	}
	return t, nil
}

// HealthURL is vLLM's liveness endpoint (200 when ready, 503 while loading).
func (t Target) HealthURL() string { return t.Root + "/health" }

// ModelsURL lists the served models.
func (t Target) ModelsURL() string { return t.API + "/models" }

// EndpointURL is the URL of a completions, chat, responses or embeddings
// endpoint.
func (t Target) EndpointURL(endpoint string) string {
	switch endpoint {
	case EndpointChat:
		return t.API + "/chat/completions"
	case EndpointResponses:
		return t.API + "/responses"
	case EndpointEmbeddings:
		return t.API + "/embeddings"
	}
	return t.API + "/completions"
}
