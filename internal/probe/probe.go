// Package probe answers "can I benchmark this server now?": is it up,
// healthy, serving the model, answering a real completion. Each outcome has
// its own exit code so scripts and cron can branch, and each message says
// what to do next.
package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"servebench/internal/openai"
	"servebench/internal/record"
)

// Outcome is the verdict of one probe; cmd/probe gives each its exit code.
type Outcome int

// Outcomes.
const (
	Ready       Outcome = iota
	Unreachable         // no TCP connection, DNS or TLS failure
	NotReady            // answers, but /health or /v1/models is not OK (still loading, 5xx)
	NoModel             // the model asked for is not served, or none is
	AuthFailed          // 401/403: the API key is missing or wrong
	SmokeFailed         // the 1-token completion failed
)

// Advice is what to try next, which the command words with its own flags.
type Advice int

// Advices.
const (
	NoAdvice     Advice = iota
	GiveKey             // give (the right) API key
	Wait                // wait longer: the server is starting or loading the model
	WaitOrLonger        // wait, or allow each check more time
	TrustCert           // trust the server's certificate
)

var outcomeNames = map[Outcome]string{
	Ready: "ready", Unreachable: "unreachable", NotReady: "not_ready",
	NoModel: "model_not_served", AuthFailed: "auth_rejected", SmokeFailed: "smoke_failed",
}

func (o Outcome) String() string { return outcomeNames[o] }

// Config is one probe.
type Config struct {
	Target       openai.Target
	TLS          *tls.Config // nil: Go's defaults
	Model        string      // "" = any; the first served model is reported
	APIKey       string
	Endpoint     string        // for the smoke completion
	Smoke        bool          // send a real 1-token completion
	Timeout      time.Duration // per HTTP check
	SmokeTimeout time.Duration
	Wait         time.Duration // keep trying while unreachable or not ready, up to this long
	Interval     time.Duration // between tries

	// Waiting, when set, hears of every try that will be followed by
	// another: the verdict so far and how much of Wait is left. Long waits
	// (vLLM loading a model) must say what they wait for.
	Waiting func(last *Report, left time.Duration)
}

// Report is what a probe found. Durations are milliseconds.
type Report struct {
	URL         string   `json:"url"`
	Status      string   `json:"status"`
	ExitCode    int      `json:"exit_code"` // the program's, filled in by the command
	Message     string   `json:"message"`
	Model       string   `json:"model,omitempty"`
	Models      []string `json:"models,omitempty"`
	MaxModelLen int      `json:"max_model_len,omitempty"`
	HealthMs    *float64 `json:"health_ms,omitempty"`
	ModelsMs    *float64 `json:"models_ms,omitempty"`
	SmokeMs     *float64 `json:"smoke_ms,omitempty"`
	Attempts    int      `json:"attempts"`
	WaitedS     float64  `json:"waited_s"`
	Advice      Advice   `json:"-"` // what to try next, for the command to add to Message

	outcome Outcome
}

// Outcome is the verdict.
func (r *Report) Outcome() Outcome { return r.outcome }

// Run probes once, or keeps probing while the server is unreachable or not
// ready until cfg.Wait has passed. A missing model, a rejected key or a failed
// smoke completion end the wait at once: waiting would not change them.
func Run(ctx context.Context, hc *http.Client, cfg Config) *Report {
	start := time.Now()
	deadline := start.Add(cfg.Wait)
	var rep *Report
	for attempt := 1; ; attempt++ {
		rep = once(ctx, hc, cfg)
		rep.Attempts = attempt
		rep.WaitedS = time.Since(start).Seconds()
		retry := rep.outcome == Unreachable || rep.outcome == NotReady
		if !retry || ctx.Err() != nil || time.Now().Add(cfg.Interval).After(deadline) {
			break
		}
		if cfg.Waiting != nil {
			cfg.Waiting(rep, time.Until(deadline))
		}
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Interval):
		}
	}
	if rep.outcome != Ready && cfg.Wait > 0 && (rep.outcome == Unreachable || rep.outcome == NotReady) {
		rep.Message += fmt.Sprintf(" (gave up after %s, %d tries)", time.Since(start).Round(time.Second), rep.Attempts)
	}
	return rep
}

func once(ctx context.Context, hc *http.Client, cfg Config) *Report {
	t := cfg.Target
	rep := &Report{URL: t.Root}
	verdict := func(o Outcome, format string, args ...any) *Report {
		rep.outcome, rep.Status = o, o.String()
		rep.Message = fmt.Sprintf(format, args...)
		return rep
	}

	// /health: vLLM, SGLang and TGI answer it; Ollama and hosted APIs do not
	// have it (404), and then /v1/models alone decides.
	ms, err := timed(ctx, cfg.Timeout, func(ctx context.Context) error {
		_, err := openai.Get(ctx, hc, t.HealthURL(), cfg.APIKey)
		return err
	})
	if o, msg, next, bad := classify(err, t.HealthURL()); bad && !isStatus(err, http.StatusNotFound) {
		rep.Advice = next
		return verdict(o, "%s", msg)
	}
	rep.HealthMs = record.Float(ms)

	var models []openai.Model
	ms, err = timed(ctx, cfg.Timeout, func(ctx context.Context) (err error) {
		models, err = openai.ListModels(ctx, hc, t, cfg.APIKey)
		return err
	})
	if o, msg, next, bad := classify(err, t.ModelsURL()); bad {
		rep.Advice = next
		return verdict(o, "%s", msg)
	}
	rep.ModelsMs = record.Float(ms)
	for _, m := range models {
		rep.Models = append(rep.Models, m.ID)
	}
	if len(models) == 0 {
		return verdict(NoModel, "%s lists no models: is a model loaded?", t.ModelsURL())
	}
	m := models[0]
	if cfg.Model != "" {
		var ok bool
		if m, ok = openai.FindModel(models, cfg.Model); !ok {
			return verdict(NoModel, "%v", &openai.ModelNotServedError{Model: cfg.Model, Served: rep.Models})
		}
	}
	rep.Model, rep.MaxModelLen = m.ID, m.MaxModelLen

	if cfg.Smoke {
		ms, err = timed(ctx, cfg.SmokeTimeout, func(ctx context.Context) error { return smoke(ctx, hc, cfg, rep.Model) })
		if err != nil {
			// /health and /v1/models just answered: whatever broke the
			// completion, waiting for the server will not mend it.
			if o, msg, next, _ := classify(err, t.EndpointURL(cfg.Endpoint)); o == AuthFailed {
				rep.Advice = next
				return verdict(o, "%s", msg)
			}
			return verdict(SmokeFailed, "smoke completion failed: %v%s", err, httpsHint(err))
		}
		rep.SmokeMs = record.Float(ms)
	}
	msg := fmt.Sprintf("%s serves %s", t.Root, rep.Model)
	if rep.MaxModelLen > 0 {
		msg += fmt.Sprintf(" (max_model_len %d)", rep.MaxModelLen)
	}
	switch {
	case cfg.Smoke && cfg.Endpoint == openai.EndpointEmbeddings:
		msg += fmt.Sprintf("; an embedding took %.1f ms", *rep.SmokeMs)
	case cfg.Smoke && cfg.Endpoint == openai.EndpointResponses:
		msg += fmt.Sprintf("; a 1-token response took %.1f ms", *rep.SmokeMs)
	case cfg.Smoke:
		msg += fmt.Sprintf("; a 1-token completion took %.1f ms", *rep.SmokeMs)
	}
	return verdict(Ready, "%s", msg)
}

// smoke sends a real, non-streaming 1-token completion, or for the
// embeddings endpoint the embedding of one short text.
func smoke(ctx context.Context, hc *http.Client, cfg Config, model string) error {
	body, err := openai.Request{Endpoint: cfg.Endpoint, Model: model, Prompt: "Hello", MaxTokens: 1}.Body()
	if err != nil {
		return err
	}
	url := cfg.Target.EndpointURL(cfg.Endpoint)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	openai.SetAuth(req, cfg.APIKey)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := openai.Unanswered(resp, url); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &openai.HTTPError{URL: url, Status: resp.StatusCode, Message: openai.ErrorMessage(data)}
	}
	if cfg.Endpoint == openai.EndpointEmbeddings {
		_, err := openai.ParseEmbeddings(data, 1)
		return err
	}
	if cfg.Endpoint == openai.EndpointResponses {
		return smokeResponses(data)
	}
	r, err := openai.ParseResponse(data)
	if err != nil {
		return err
	}
	// Generated output of any kind will do: text, reasoning (a reasoning
	// model's one token is reasoning) or a tool call, else a usage that
	// counts a generated token.
	if r.ContentBytes == 0 && r.ReasoningBytes == 0 && r.ToolCalls == 0 && (r.Usage == nil || r.Usage.CompletionTokens == 0) {
		return errors.New("the answer had no generated text")
	}
	return nil
}

// smokeResponses judges a /v1/responses answer as smoke does a completion:
// any generated output (or usage counting it), and a status that is not a
// failure; a 1-token answer is "incomplete" by max_output_tokens, which is
// what was asked.
func smokeResponses(data []byte) error {
	b, err := openai.ParseResponsesBody(data)
	if err != nil {
		return err
	}
	switch {
	case b.Choices:
		return errors.New("the server answered /v1/responses with a chat or completions body: use --endpoint chat or completions")
	case b.ErrorBody:
		return fmt.Errorf("error body with a 2xx status: %s", b.Reason)
	}
	if _, ok := openai.Finish(b.Status, b.Reason, b.FunctionCalls); !ok {
		return fmt.Errorf("the response is %s: %s", b.Status, b.Reason)
	}
	if b.TextBytes == 0 && b.ReasoningBytes == 0 && b.FunctionCalls == 0 && (b.Usage == nil || b.Usage.CompletionTokens == 0) {
		return errors.New("the answer had no generated text")
	}
	return nil
}

// timed runs f with a timeout and returns how long it took in milliseconds.
func timed(ctx context.Context, timeout time.Duration, f func(context.Context) error) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	return float64(time.Since(start)) / float64(time.Millisecond), err
}

func isStatus(err error, status int) bool {
	var he *openai.HTTPError
	return errors.As(err, &he) && he.Status == status
}

// httpsHint is a hint for an answer that says the request should have
// gone over TLS (Go's "Client sent an HTTP request to an HTTPS server",
// nginx's "The plain HTTP request was sent to HTTPS port").
func httpsHint(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "HTTP request to an HTTPS server") || strings.Contains(msg, "plain HTTP request was sent to HTTPS port") {
		return ": the server speaks https, use an https:// URL"
	}
	return ""
}

// classify turns a check's error into an outcome, a message and what to
// try next.
func classify(err error, url string) (Outcome, string, Advice, bool) {
	if err == nil {
		return Ready, "", NoAdvice, false
	}
	var he *openai.HTTPError
	if errors.As(err, &he) {
		switch {
		case he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden:
			return AuthFailed, fmt.Sprintf("%v: the API key is missing or wrong", he), GiveKey, true
		case he.Status == http.StatusServiceUnavailable:
			return NotReady, fmt.Sprintf("%v: the server is still starting or loading the model", he), Wait, true
		case he.Status == http.StatusNotFound:
			return NotReady, fmt.Sprintf("%v: is this an OpenAI-compatible server, and is the URL's path right?", he), NoAdvice, true
		case he.Status >= 300 && he.Status < 400 || he.Status < 200:
			return NotReady, he.Error(), NoAdvice, true
		}
		if hint := httpsHint(err); hint != "" {
			return NotReady, he.Error() + hint, NoAdvice, true
		}
		return NotReady, fmt.Sprintf("%v: the server is up but unhealthy", he), NoAdvice, true
	}
	if errors.Is(err, openai.ErrNotModelList) {
		return NotReady, fmt.Sprintf("%v: the server answers, but not as an OpenAI-compatible API: is the URL right?", err), NoAdvice, true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return NotReady, fmt.Sprintf("%s: no answer within the timeout: overloaded or stuck?", url), WaitOrLonger, true
	}
	msg := err.Error()
	if strings.Contains(msg, "malformed HTTP") {
		return Unreachable, "the server answered, but not HTTP: TLS? try https://: " + msg, NoAdvice, true
	}
	if strings.Contains(msg, "certificate") || strings.Contains(msg, "tls:") {
		return Unreachable, "TLS failed: check the certificate: " + msg, TrustCert, true
	}
	return Unreachable, "is the server running, and on that host and port?: " + msg, NoAdvice, true
}
