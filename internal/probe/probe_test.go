package probe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"servebench/internal/openai"
)

// server is a vLLM-shaped stand-in whose answers each test sets.
type server struct {
	health, models, smoke int // status codes
	key                   string
	ids                   []string
	readyAfter            int32 // /health answers 503 this many times first
	calls                 atomic.Int32
	smokeBody             string // the smoke's 200 answer, when set
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.key != "" && r.Header.Get("Authorization") != "Bearer "+s.key {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"message":"Unauthorized","type":"AuthenticationError","code":401}}`)
		return
	}
	switch r.URL.Path {
	case "/health":
		if s.calls.Add(1) <= s.readyAfter {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(s.health)
	case "/v1/models":
		w.WriteHeader(s.models)
		var data []string
		for _, id := range s.ids {
			data = append(data, fmt.Sprintf(`{"id":%q,"object":"model","max_model_len":4096}`, id))
		}
		fmt.Fprintf(w, `{"object":"list","data":[%s]}`, strings.Join(data, ","))
	case "/v1/completions", "/v1/chat/completions", "/v1/responses":
		w.WriteHeader(s.smoke)
		if s.smoke == 200 && s.smokeBody != "" {
			fmt.Fprint(w, s.smokeBody)
		} else if s.smoke == 200 {
			fmt.Fprint(w, `{"choices":[{"text":" Hi","finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
		} else {
			fmt.Fprint(w, `{"error":{"message":"engine dead","type":"InternalServerError","code":500}}`)
		}
	default:
		w.WriteHeader(404)
	}
}

func TestOutcomes(t *testing.T) {
	ok := func() *server { return &server{health: 200, models: 200, smoke: 200, ids: []string{"m1", "m2"}} }
	tests := []struct {
		name  string
		srv   *server
		cfg   func(*Config)
		want  Outcome
		inMsg string
		model string
	}{
		{name: "ready, first model", srv: ok(), want: Ready, model: "m1", inMsg: "max_model_len 4096"},
		{name: "ready, asked model", srv: ok(), cfg: func(c *Config) { c.Model = "m2" }, want: Ready, model: "m2"},
		{name: "untagged name matches :latest (Ollama)", srv: func() *server { s := ok(); s.ids = []string{"tiny:latest"}; return s }(), cfg: func(c *Config) { c.Model = "tiny" }, want: Ready, model: "tiny:latest"},
		{name: "a tag must match", srv: func() *server { s := ok(); s.ids = []string{"tiny:latest"}; return s }(), cfg: func(c *Config) { c.Model = "tiny:q4" }, want: NoModel},
		{name: "smoke ok", srv: ok(), cfg: func(c *Config) { c.Smoke = true }, want: Ready, inMsg: "1-token completion"},
		{name: "loading", srv: func() *server { s := ok(); s.health = 503; return s }(), want: NotReady, inMsg: "still starting or loading the model"},
		{name: "health 500", srv: func() *server { s := ok(); s.health = 500; return s }(), want: NotReady, inMsg: "unhealthy"},
		{name: "no /health (Ollama)", srv: func() *server { s := ok(); s.health = 404; return s }(), want: Ready},
		{name: "model missing", srv: ok(), cfg: func(c *Config) { c.Model = "other" }, want: NoModel, inMsg: "m1, m2"},
		{name: "no models", srv: func() *server { s := ok(); s.ids = nil; return s }(), want: NoModel},
		{name: "no key", srv: func() *server { s := ok(); s.key = "k"; return s }(), want: AuthFailed, inMsg: "API key"},
		{name: "right key", srv: func() *server { s := ok(); s.key = "k"; return s }(), cfg: func(c *Config) { c.APIKey = "k" }, want: Ready},
		{name: "smoke fails", srv: func() *server { s := ok(); s.smoke = 500; return s }(), cfg: func(c *Config) { c.Smoke = true }, want: SmokeFailed, inMsg: "engine dead"},
		{name: "wait until ready", srv: func() *server { s := ok(); s.readyAfter = 2; return s }(), cfg: func(c *Config) { c.Wait = 5 * time.Second }, want: Ready},
		{name: "wait gives up", srv: func() *server { s := ok(); s.readyAfter = 100; return s }(), cfg: func(c *Config) { c.Wait = 200 * time.Millisecond }, want: NotReady, inMsg: "gave up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(tt.srv)
			defer hs.Close()
			target, _ := openai.ParseTarget(hs.URL + "/v1")
			cfg := Config{Target: target, Endpoint: openai.EndpointCompletions, Timeout: time.Second, SmokeTimeout: time.Second, Interval: 50 * time.Millisecond}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			rep := Run(context.Background(), hs.Client(), cfg)
			if rep.Outcome() != tt.want || !strings.Contains(rep.Message, tt.inMsg) {
				t.Fatalf("outcome %v %q, want %v containing %q", rep.Outcome(), rep.Message, tt.want, tt.inMsg)
			}
			if tt.model != "" && rep.Model != tt.model {
				t.Errorf("model %q, want %q", rep.Model, tt.model)
			}
			if tt.want == Ready && (rep.HealthMs == nil || rep.ModelsMs == nil || rep.HealthMs == rep.ModelsMs) {
				t.Errorf("timings must be separate values: %v %v", rep.HealthMs, rep.ModelsMs)
			}
		})
	}
}

// rawServer answers each request with answers[path] (raw bytes; "" closes
// the connection at once), holding the connection open after a 101 and
// closing it after an answer without a Content-Length.
func rawServer(t *testing.T, answers map[string]string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					a := answers[req.URL.Path]
					if a == "" {
						return
					}
					io.WriteString(c, a)
					if strings.Contains(a, " 101 ") {
						time.Sleep(5 * time.Second)
						return
					}
					if !strings.Contains(a, "Content-Length") {
						return // the end of the answer is the close
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestOddAnswers: answers that are not the API's end the probe with the
// right outcome and hint, at once: a broken smoke completion is a smoke
// failure (exit 7) even with --wait, an unasked 101 does not hang, a
// non-HTTP answer or a TLS port says to use https.
func TestOddAnswers(t *testing.T) {
	length := func(head, body string) string {
		return fmt.Sprintf("%sContent-Length: %d\r\n\r\n%s", head, len(body), body)
	}
	health := length("HTTP/1.1 200 OK\r\n", "")
	models := length("HTTP/1.1 200 OK\r\n", `{"object":"list","data":[{"id":"m1"}]}`)
	tests := []struct {
		name    string
		answers map[string]string
		want    Outcome
		inMsg   string
	}{
		{"smoke answered HTML", map[string]string{"/health": health, "/v1/models": models,
			"/v1/completions": length("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "<html>hi</html>")}, SmokeFailed, "malformed"},
		{"smoke connection closed", map[string]string{"/health": health, "/v1/models": models}, SmokeFailed, "smoke completion failed"},
		{"smoke truncated", map[string]string{"/health": health, "/v1/models": models,
			"/v1/completions": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"choices\""}, SmokeFailed, "smoke completion failed"},
		{"101 on /health", map[string]string{"/health": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"}, NotReady, "switched protocols unasked"},
		{"redirect to https", map[string]string{"/health": length("HTTP/1.1 301 Moved Permanently\r\nLocation: https://example.invalid/health\r\n", "")}, NotReady, "use an https:// URL"},
		{"HTML model list", map[string]string{"/health": health, "/v1/models": length("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "<html>login</html>")}, NotReady, "not as an OpenAI-compatible API"},
		{"TLS alert", map[string]string{"/health": "\x15\x03\x01\x00\x02\x02\x46"}, Unreachable, "answered, but not HTTP: TLS? try https://"},
		{"HTTPS port", map[string]string{"/health": "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"}, NotReady, "use an https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, _ := openai.ParseTarget(rawServer(t, tt.answers) + "/v1")
			cfg := Config{Target: target, Endpoint: openai.EndpointCompletions, Smoke: true, Timeout: time.Second,
				SmokeTimeout: time.Second, Interval: 50 * time.Millisecond}
			if tt.want == SmokeFailed {
				cfg.Wait = 10 * time.Second // not waited for: the smoke's failure is final
			}
			hc := &http.Client{Transport: &http.Transport{}, CheckRedirect: openai.NoRedirects}
			start := time.Now()
			rep := Run(context.Background(), hc, cfg)
			if rep.Outcome() != tt.want || !strings.Contains(rep.Message, tt.inMsg) {
				t.Errorf("outcome %v %q, want %v containing %q", rep.Outcome(), rep.Message, tt.want, tt.inMsg)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

// TestSmokeAnswers: any generated output passes the smoke, with usage or
// without: text, reasoning alone (a reasoning model's one token), a tool
// call alone; /v1/responses answers are judged by their items and status.
func TestSmokeAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, endpoint, body string
		want                 Outcome
		inMsg                string
	}{
		{"reasoning only", openai.EndpointChat, `{"choices":[{"message":{"role":"assistant","content":null,"reasoning":"Hm"},"finish_reason":"length"}]}`, Ready, "1-token completion"},
		{"tool call only", openai.EndpointChat, `{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":"tool_calls"}]}`, Ready, "1-token completion"},
		{"nothing", openai.EndpointChat, `{"choices":[{"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}`, SmokeFailed, "no generated text"},
		{"response cut at 1 token", openai.EndpointResponses, `{"object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":" Hi"}]}],"usage":{"input_tokens":1,"output_tokens":1}}`, Ready, "1-token response"},
		{"response reasoning only", openai.EndpointResponses, `{"object":"response","status":"incomplete","output":[{"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"Hm"}]}]}`, Ready, "1-token response"},
		{"response failed", openai.EndpointResponses, `{"object":"response","status":"failed","error":{"code":"server_error","message":"engine died"},"output":[]}`, SmokeFailed, "engine died"},
		{"chat body for responses", openai.EndpointResponses, `{"choices":[{"message":{"content":"hi"}}]}`, SmokeFailed, "use --endpoint chat"},
	} {
		srv := httptest.NewServer(&server{health: 200, models: 200, smoke: 200, ids: []string{"m1"}, smokeBody: tt.body})
		target, _ := openai.ParseTarget(srv.URL)
		cfg := Config{Target: target, Endpoint: tt.endpoint, Smoke: true, Timeout: time.Second, SmokeTimeout: time.Second, Interval: 50 * time.Millisecond}
		rep := Run(context.Background(), srv.Client(), cfg)
		srv.Close()
		if rep.Outcome() != tt.want || !strings.Contains(rep.Message, tt.inMsg) {
			t.Errorf("%s: outcome %v %q, want %v containing %q", tt.name, rep.Outcome(), rep.Message, tt.want, tt.inMsg)
		}
	}
}
