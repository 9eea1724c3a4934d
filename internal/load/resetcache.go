package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"servebench/internal/openai"
)

// ErrNoResetPrefixCache is Run's error when Config.ResetPrefixCache is set
// and the server has no POST /reset_prefix_cache (a 404 or 405): vLLM
// serves it only in development mode.
var ErrNoResetPrefixCache = errors.New("the server does not serve POST /reset_prefix_cache (vLLM serves it only when started with VLLM_SERVER_DEV_MODE=1 in its environment)")

// resetPrefixCache empties the server's prefix cache with POST
// /reset_prefix_cache, at the server's root as vLLM serves it.
func resetPrefixCache(ctx context.Context, hc *http.Client, cfg *Config) error {
	url := cfg.Target.Root + "/reset_prefix_cache"
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	for name, values := range cfg.Headers {
		req.Header[name] = values
	}
	openai.SetAuth(req, cfg.APIKey)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("resetting the prefix cache: POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return fmt.Errorf("%w: POST %s: HTTP %d", ErrNoResetPrefixCache, url, resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("resetting the prefix cache: %w", &openai.HTTPError{URL: url, Status: resp.StatusCode, Message: openai.ErrorMessage(body)})
	}
	return nil
}
