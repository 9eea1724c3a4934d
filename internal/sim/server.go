package sim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the simulated vLLM OpenAI server. It is an http.Handler, so tests
// can mount it on httptest.NewServer; Run serves it on a real listener.
type Server struct {
	cfg      Config
	names    []string       // served model names; names[0] labels metrics
	index    map[string]int // served name -> position in names
	quote    [][]byte       // names, JSON-quoted once
	clock    engineClock    // stall mapping
	waker    *waker         // precise wake-ups, or nil
	timed    bool           // any delay configured; false: never sleep
	faulty   bool           // faults configured
	slots    *slots         // --max-num-seqs
	stats    stats          // /metrics counters
	late     lateness       // how late timed tokens left
	lateTTFT lateness       // of those, the first tokens: how late from the request's arrival
	unpaced  atomic.Int64   // paced streams a short write gave back to their handler
	cache    *prefixCache   // nil: no prefix cache
	mux      *http.ServeMux // routes once ready
	idTag    string         // 16 hex digits: response ids differ across runs
	seq      atomic.Uint64  // arrival numbers
	ready    atomic.Bool    // startup delay over
	start    time.Duration  // mono() at New
	sleepers sync.Pool      // *scratch
	models   []byte         // GET /v1/models body
}

// New builds a Server from cfg. Fields whose zero value cannot be meant
// (no model, MaxNumSeqs or MaxModelLen < 1) get their defaults; the startup
// delay and the stall clock start now.
func New(cfg Config) *Server {
	cfg = cfg.normalized()
	s := &Server{
		cfg:    cfg,
		names:  cfg.Models,
		index:  map[string]int{},
		waker:  getWaker(),
		timed:  cfg.TTFT > 0 || cfg.ITL > 0 || cfg.ITLPerSeq > 0 || cfg.Stall > 0 || cfg.PrefillPerToken > 0,
		slots:  newSlots(cfg.MaxNumSeqs),
		faulty: len(cfg.FaultCycle) > 0 || len(cfg.FaultRates) > 0,
		idTag:  fmt.Sprintf("%016x", rand.Uint64()),
		start:  mono(),
	}
	if len(cfg.ServedModelNames) > 0 {
		s.names = cfg.ServedModelNames
	}
	for i, n := range s.names {
		if _, dup := s.index[n]; !dup {
			s.index[n] = i
		}
		q, _ := json.Marshal(n)
		s.quote = append(s.quote, q)
	}
	s.clock = engineClock{stallAt: s.start + cfg.StallAfter, stall: cfg.Stall}
	s.ready.Store(cfg.StartupDelay == 0)
	s.sleepers.New = func() any {
		return &scratch{sleeper: newSleeper(), st: stream{back: make(chan struct{}, 1)}}
	}
	s.models = s.modelList(time.Now().Unix())
	s.stats.init()
	if cfg.CacheBlocks > 0 {
		s.cache = newPrefixCache(cfg.CacheBlocks)
	}

	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	s.mux.HandleFunc("GET /version", s.handleVersion)
	s.mux.HandleFunc("GET /v1/models", s.handleModels)
	s.mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.mux.HandleFunc("POST /v1/completions", s.handleGenerate(completions))
	s.mux.HandleFunc("POST /v1/chat/completions", s.handleGenerate(chat))
	s.mux.HandleFunc("POST /v1/responses", s.handleGenerate(responses))
	s.mux.HandleFunc("POST /v1/embeddings", s.handleEmbeddings)
	s.routeTokenize()
	return s
}

// Ready reports whether the startup delay is over.
func (s *Server) Ready() bool {
	if s.ready.Load() {
		return true
	}
	if mono()-s.start >= s.cfg.StartupDelay {
		s.ready.Store(true)
		return true
	}
	return false
}

// ServeHTTP answers 503 to everything while starting (with an empty body on
// /health, as a load balancer expects, and a vLLM error body elsewhere), and
// routes once ready. Unknown paths get 404 and wrong methods 405 from the
// router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.Ready() {
		if r.URL.Path == "/health" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeError(w, &apiError{http.StatusServiceUnavailable, "ServiceUnavailableError",
			"The server is starting up; retry once GET /health answers 200."})
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []byte(`{"version":"`+Version+`"}`))
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.models)
}

// modelCard and modelPermission mirror vLLM's ModelCard and ModelPermission.
type modelCard struct {
	ID          string            `json:"id"`
	Object      string            `json:"object"`
	Created     int64             `json:"created"`
	OwnedBy     string            `json:"owned_by"`
	Root        string            `json:"root"`
	Parent      *string           `json:"parent"`
	MaxModelLen int               `json:"max_model_len"`
	Permission  []modelPermission `json:"permission"`
}

type modelPermission struct {
	ID                 string  `json:"id"`
	Object             string  `json:"object"`
	Created            int64   `json:"created"`
	AllowCreateEngine  bool    `json:"allow_create_engine"`
	AllowSampling      bool    `json:"allow_sampling"`
	AllowLogprobs      bool    `json:"allow_logprobs"`
	AllowSearchIndices bool    `json:"allow_search_indices"`
	AllowView          bool    `json:"allow_view"`
	AllowFineTuning    bool    `json:"allow_fine_tuning"`
	Organization       string  `json:"organization"`
	Group              *string `json:"group"`
	IsBlocking         bool    `json:"is_blocking"`
}

// modelList renders GET /v1/models once. As in vLLM, each served name is a
// card whose root is the model path (the first --model when names are
// given with --served-model-name).
func (s *Server) modelList(created int64) []byte {
	list := struct {
		Object string      `json:"object"`
		Data   []modelCard `json:"data"`
	}{Object: "list"}
	for i, n := range s.names {
		root := n
		if len(s.cfg.ServedModelNames) > 0 {
			root = s.cfg.Models[0]
		}
		list.Data = append(list.Data, modelCard{
			ID: n, Object: "model", Created: created, OwnedBy: "vllm", Root: root,
			MaxModelLen: s.cfg.MaxModelLen,
			Permission: []modelPermission{{
				ID: fmt.Sprintf("modelperm-%s%016x", s.idTag, i), Object: "model_permission",
				Created: created, AllowSampling: true, AllowLogprobs: true, AllowView: true,
				Organization: "*",
			}},
		})
	}
	b, _ := json.Marshal(list)
	return b
}

// apiError is an error answer in vLLM's ErrorResponse shape:
//
//	{"error":{"message":"...","type":"BadRequestError","param":null,"code":400}}
type apiError struct {
	code int    // HTTP status, repeated in the body as vLLM does
	typ  string // BadRequestError, NotFoundError, ServiceUnavailableError
	msg  string
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "BadRequestError", fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	msg, _ := json.Marshal(e.msg)
	body := fmt.Appendf(nil, `{"error":{"message":%s,"type":%q,"param":null,"code":%d}}`, msg, e.typ, e.code)
	writeJSON(w, e.code, body)
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}
