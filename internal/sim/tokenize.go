package sim

import (
	"encoding/json"
	"io"
	"net/http"
)

// routeTokenize serves vLLM's tokenizer endpoints, at the root as vLLM
// serves them (not under /v1), and POST /reset_prefix_cache, which vLLM
// serves only in development mode (VLLM_SERVER_DEV_MODE=1) and llmsim
// always.
func (s *Server) routeTokenize() {
	s.mux.HandleFunc("POST /tokenize", s.handleTokenize)
	s.mux.HandleFunc("POST /detokenize", s.handleDetokenize)
	s.mux.HandleFunc("POST /reset_prefix_cache", s.handleResetPrefixCache)
}

// tokenizeRequest is vLLM's TokenizeCompletionRequest (prompt) or
// TokenizeChatRequest (messages).
type tokenizeRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []chatMessage   `json:"messages"`
	AddGenerationPrompt *bool           `json:"add_generation_prompt"`
}

// tokenizeResponse is vLLM's TokenizeResponse.
type tokenizeResponse struct {
	Count       int      `json:"count"`
	MaxModelLen int      `json:"max_model_len"`
	Tokens      []uint32 `json:"tokens"`
}

// handleTokenize answers POST /tokenize with the ids a generation request
// with the same prompt or messages would count: for messages, the chat
// template included (with the generation prompt unless
// add_generation_prompt is false), so count equals that request's
// usage.prompt_tokens.
func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request) {
	var req tokenizeRequest
	if aerr := s.readTokenizerRequest(w, r, &req, &req.Model); aerr != nil {
		writeError(w, aerr)
		return
	}
	a := &promptAcc{pieces: s.cfg.Tokenizer == TokenizerPieces, keep: true, ids: []uint32{}}
	var aerr *apiError
	switch {
	case req.Messages != nil:
		aerr = a.messages(req.Messages, req.AddGenerationPrompt == nil || *req.AddGenerationPrompt)
	case len(req.Prompt) > 0 && req.Prompt[0] == '"':
		var text string
		if err := json.Unmarshal(req.Prompt, &text); err != nil {
			aerr = badRequest("invalid prompt: %v", err)
		}
		a.text(text)
	case len(req.Prompt) > 0:
		aerr = badRequest("prompt must be a string.")
	default:
		aerr = badRequest("Field required: prompt (or messages).")
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	body, _ := json.Marshal(tokenizeResponse{Count: a.n, MaxModelLen: s.cfg.MaxModelLen, Tokens: a.ids})
	writeJSON(w, http.StatusOK, body)
}

// handleDetokenize answers POST /detokenize, {"tokens":[...]}, with
// {"prompt":"..."}: the pieces tokenizer's text. The words tokenizer's
// ids are hashes, which no text comes back from: a 400 says so.
func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string  `json:"model"`
		Tokens []int64 `json:"tokens"`
	}
	if aerr := s.readTokenizerRequest(w, r, &req, &req.Model); aerr != nil {
		writeError(w, aerr)
		return
	}
	if s.cfg.Tokenizer != TokenizerPieces {
		writeError(w, badRequest("llmsim's words tokenizer cannot detokenize: its ids are hashes of the words. Start llmsim with --tokenizer pieces."))
		return
	}
	text, err := decodePieces(req.Tokens)
	if err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	body, _ := json.Marshal(struct {
		Prompt string `json:"prompt"`
	}{text})
	writeJSON(w, http.StatusOK, body)
}

// readTokenizerRequest decodes a tokenizer endpoint's body into v and
// checks the model it names (*model), as the generation endpoints do.
func (s *Server) readTokenizerRequest(w http.ResponseWriter, r *http.Request, v any, model *string) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return badRequest("reading the request body: %v", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	if _, ok := s.index[*model]; *model != "" && !ok {
		return &apiError{http.StatusNotFound, "NotFoundError", "The model `" + *model + "` does not exist."}
	}
	return nil
}

// handleResetPrefixCache empties the prefix cache and answers 200 with an
// empty body, as vLLM does.
func (s *Server) handleResetPrefixCache(w http.ResponseWriter, r *http.Request) {
	if s.cache != nil {
		s.cache.reset()
	}
	w.WriteHeader(http.StatusOK)
}
