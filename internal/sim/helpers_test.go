package sim

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// newTestServer serves cfg on a loopback httptest server for the test, as
// Run does (streams paced).
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s := New(cfg)
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ConnContext = s.ConnContext
	ts.Start()
	t.Cleanup(ts.Close)
	return s, ts
}

// newUnpacedServer serves cfg without ConnContext: every stream is sent by
// its handler, as under a server that does not give llmsim its connections.
func newUnpacedServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// event is one SSE data line and when the client read it, since the send.
type event struct {
	at   time.Duration
	data string
}

// chunk is the part of a vLLM stream chunk the tests look at.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index int    `json:"index"`
		Text  string `json:"text"`
		Delta *struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// post sends body and returns the response with its body read.
func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// streamEvents sends body with client and reads every SSE event, timing each
// from just before the send.
func streamEvents(t *testing.T, client *http.Client, url, body string) (*http.Response, []event) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []event
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			events = append(events, event{time.Since(sent), strings.TrimSuffix(data, "\n")})
		} else if line != "\n" && line != "" {
			t.Errorf("unexpected SSE line %q", line)
		}
		if err == io.EOF {
			return resp, events
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func decodeChunk(t *testing.T, data string) chunk {
	t.Helper()
	var c chunk
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("chunk %q: %v", data, err)
	}
	return c
}

// hasContent says whether a chunk carries generated text, as a client
// measuring TTFT decides it.
func (c chunk) hasContent() bool {
	for _, ch := range c.Choices {
		if ch.Text != "" || ch.Delta != nil && ch.Delta.Content != nil && *ch.Delta.Content != "" {
			return true
		}
	}
	return false
}

// contentTimes returns when each content chunk arrived.
func contentTimes(t *testing.T, events []event) []time.Duration {
	var at []time.Duration
	for _, e := range events {
		if e.data != "[DONE]" && decodeChunk(t, e.data).hasContent() {
			at = append(at, e.at)
		}
	}
	return at
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
