package sim

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// DefaultEmbeddingDim is the length of llmsim's embeddings: small, since
// a benchmark of the endpoint measures the round trip, not the vectors.
const DefaultEmbeddingDim = 8

// embedRequest holds the fields of vLLM's EmbeddingCompletionRequest that
// llmsim reads.
type embedRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
}

// handleEmbeddings answers POST /v1/embeddings in vLLM's shape, one
// embedding per input, --ttft after arrival (the whole answer comes at
// once, as a prefill does; --itl plays no part). The vectors are a
// function of the text alone (FNV-1a seeded, unit length), so the same
// input always embeds the same. Slots, faults and /metrics do not apply.
func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	arrived := s.arrivedAt(r)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, badRequest("reading the request body: %v", err))
		return
	}
	s.logRequest(r, body)
	var req embedRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, badRequest("invalid JSON body: %v", err))
		return
	}
	model := 0
	if req.Model != "" {
		i, ok := s.index[req.Model]
		if !ok {
			writeError(w, &apiError{http.StatusNotFound, "NotFoundError", "The model `" + req.Model + "` does not exist."})
			return
		}
		model = i
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		writeError(w, badRequest("llmsim supports only encoding_format \"float\", got %q.", req.EncodingFormat))
		return
	}
	texts, aerr := embedInputs(req.Input)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	tokens := 0
	for i, t := range texts {
		n := countWords(t)
		if n == 0 {
			writeError(w, badRequest("input[%d] is empty.", i))
			return
		}
		if n > s.cfg.MaxModelLen {
			writeError(w, badRequest("This model's maximum context length is %d tokens. However, input[%d] has %d tokens.", s.cfg.MaxModelLen, i, n))
			return
		}
		tokens += n
	}
	seq := s.seq.Add(1)
	if s.cfg.TTFT > 0 {
		t := time.NewTimer(s.cfg.TTFT - (mono() - arrived))
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	writeJSON(w, http.StatusOK, s.embeddingsBody(texts, model, seq, tokens))
}

// embedInputs reads input as vLLM takes it for text: a string or a list
// of strings (token-id inputs are not simulated).
func embedInputs(raw json.RawMessage) ([]string, *apiError) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, badRequest("Field required: input.")
	case raw[0] == '"':
		var t string
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, badRequest("invalid input: %v", err)
		}
		return []string{t}, nil
	case raw[0] == '[':
		var ts []string
		if err := json.Unmarshal(raw, &ts); err != nil {
			return nil, badRequest("input must be a string or a list of strings: %v", err)
		}
		if len(ts) == 0 {
			return nil, badRequest("input cannot be an empty list.")
		}
		return ts, nil
	}
	return nil, badRequest("input must be a string or a list of strings.")
}

// embeddingsBody renders vLLM's EmbeddingResponse:
//
//	{"id":"embd-..","object":"list","created":..,"model":..,
//	 "data":[{"index":0,"object":"embedding","embedding":[..]}],
//	 "usage":{"prompt_tokens":N,"total_tokens":N,"completion_tokens":0,"prompt_tokens_details":null}}
func (s *Server) embeddingsBody(texts []string, model int, seq uint64, tokens int) []byte {
	dim := s.cfg.EmbeddingDim
	b := make([]byte, 0, 128+len(texts)*(48+dim*12))
	b = append(b, `{"id":"embd-`...)
	b = append(b, s.idTag...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `","object":"list","created":`...)
	b = strconv.AppendInt(b, time.Now().Unix(), 10)
	b = append(b, `,"model":`...)
	b = append(b, s.quote[model]...)
	b = append(b, `,"data":[`...)
	for i, t := range texts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"object":"embedding","embedding":[`...)
		for j, v := range embed(t, dim) {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, `,"completion_tokens":0,"prompt_tokens_details":null}}`...)
	return b
}

// embed is text's vector: dim draws of a generator seeded by the text's
// FNV-1a hash, scaled to unit length.
func embed(text string, dim int) []float64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	r := newRNG(int64(h.Sum64()), 0)
	v := make([]float64, dim)
	norm := 0.0
	for i := range v {
		v[i] = 2*r.float() - 1
		norm += v[i] * v[i]
	}
	norm = math.Sqrt(norm)
	for i := range v {
		if norm > 0 {
			v[i] /= norm
		}
	}
	return v
}
