package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// EmbedTokens is how this server counts an input's tokens: one per four
// bytes, rounded up, and at least one. It is not llmsim's word count, so
// a client that counts for itself instead of reading usage is caught.
func EmbedTokens(text string) int { return max(1, (len(text)+3)/4) }

// embeddings answers POST /v1/embeddings as vLLM does, TTFT after the
// request: one embedding per input (a string or a list of strings), usage
// with prompt_tokens and total_tokens. FaultHTTP500 gives a 500 and
// FaultJSON200 a completion's body instead.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	s.Embeds.Add(1)
	start := time.Now()
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"BadRequestError","param":null,"code":400}}`, err.Error())
		return
	}
	var inputs []string
	if json.Unmarshal(req.Input, &inputs) != nil {
		var one string
		if err := json.Unmarshal(req.Input, &one); err != nil {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"input: want a string or a list of strings","type":"BadRequestError","param":null,"code":400}}`)
			return
		}
		inputs = []string{one}
	}
	switch {
	case req.Model != s.model():
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error":{"message":"The model %s does not exist.","type":"NotFoundError","param":null,"code":404}}`, req.Model)
		return
	case len(inputs) == 0:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"message":"input is empty","type":"BadRequestError","param":null,"code":400}}`)
		return
	case s.Fault == FaultHTTP500:
		w.WriteHeader(500)
		fmt.Fprint(w, `{"error":{"message":"boom","type":"InternalServerError","param":null,"code":500}}`)
		return
	}
	if !sleepUntil(r, start.Add(s.TTFT)) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if s.Fault == FaultJSON200 {
		fmt.Fprintf(w, `{"object":"text_completion","model":%q,"choices":[{"index":0,"text":"hi","finish_reason":"stop"}]}`, s.model())
		return
	}
	dim := s.EmbeddingDim
	if dim <= 0 {
		dim = 3
	}
	items := make([]string, len(inputs))
	tokens := 0
	for i, text := range inputs {
		tokens += EmbedTokens(text)
		v := make([]string, dim)
		for j := range v {
			v[j] = fmt.Sprintf("%.4f", float64((len(text)+j)%7)/7-0.5)
		}
		items[i] = fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":[%s]}`, i, strings.Join(v, ","))
	}
	fmt.Fprintf(w, `{"id":"embd-test","object":"list","created":%d,"model":%q,"data":[%s],"usage":{"prompt_tokens":%d,"total_tokens":%d}}`,
		time.Now().Unix(), s.model(), strings.Join(items, ","), tokens, tokens)
}
