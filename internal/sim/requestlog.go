package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// requestLine is one line of Config.RequestLog.
type requestLine struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
	Body    json.RawMessage     `json:"body,omitempty"`
	RawBody string              `json:"raw_body,omitempty"` // a body that is not JSON
}

// requestLogMu serializes the lines of every Server's RequestLog.
var requestLogMu sync.Mutex

// logRequest writes r's line to the request log, if there is one. The
// Authorization header is redacted: the log is for tests, and a key in
// it would end up in their output.
func (s *Server) logRequest(r *http.Request, body []byte) {
	if s.cfg.RequestLog == nil {
		return
	}
	line := requestLine{Method: r.Method, Path: r.URL.Path, Headers: map[string][]string{}}
	for name, values := range r.Header {
		if strings.EqualFold(name, "Authorization") {
			values = []string{"[redacted]"}
		}
		line.Headers[strings.ToLower(name)] = values
	}
	if json.Valid(body) {
		line.Body = body
	} else {
		line.RawBody = string(body)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	requestLogMu.Lock()
	defer requestLogMu.Unlock()
	s.cfg.RequestLog.Write(append(b, '\n'))
}
