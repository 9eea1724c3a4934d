package load

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"servebench/internal/openai"
)

// identity is what the server says it is, written into every record
// (server_version, model_root), so that a comparison can tell when its two
// sides ran different builds or weights.
type identity struct {
	version string            // GET /version's "version" (vLLM); "" when it has none
	roots   map[string]string // the /v1/models cards' "root", by model id
}

// serverIdentity asks GET /version and /v1/models once, before the first
// request, within a few seconds, over the connection the model check just
// used (Run asks only when Config.CheckModel: a run told not to check
// asks the server nothing before its load). Neither answer is required:
// Ollama, TGI and gateways answer neither or another shape, and then the
// fields stay empty.
func serverIdentity(ctx context.Context, hc *http.Client, cfg *Config) identity {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var id identity
	if body, err := openai.Get(ctx, hc, cfg.Target.Root+"/version", cfg.APIKey); err == nil {
		var v struct {
			Version string `json:"version"`
		}
		if json.Unmarshal(body, &v) == nil {
			id.version = v.Version
		}
	}
	if models, err := openai.ListModels(ctx, hc, cfg.Target, cfg.APIKey); err == nil {
		for _, m := range models {
			if m.Root != "" {
				if id.roots == nil {
					id.roots = map[string]string{}
				}
				id.roots[m.ID] = m.Root
			}
		}
	}
	return id
}
