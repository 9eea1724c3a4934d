package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPacedSlowClient: a client that stops reading fills its socket; the
// waker must not wait for it. Another stream's tokens stay on time
// meanwhile, and the stopped one, once read, is whole and well framed
// (its handler took over the write the waker could not finish).
func TestPacedSlowClient(t *testing.T) {
	const itl, n = 200 * time.Microsecond, 2000
	s := New(Config{TTFT: 5 * time.Millisecond, ITL: itl})
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		// A small fixed send buffer (no autotuning) fills in a few
		// dozen tokens when the client does not read.
		c.(*net.TCPConn).SetWriteBuffer(8 << 10)
		return s.ConnContext(ctx, c)
	}
	ts.Start()
	defer ts.Close()

	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		})
	}}
	slow, err := d.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	body := streamBody(n)
	fmt.Fprintf(slow, "POST /v1/completions HTTP/1.1\r\nHost: llmsim\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)

	// While the slow client is not reading, a 40-token stream runs.
	time.Sleep(30 * time.Millisecond)
	client := &http.Client{Transport: ts.Client().Transport, Timeout: 5 * time.Second}
	_, events := streamEvents(t, client, ts.URL+"/v1/completions", streamBody(40))
	at := contentTimes(t, events)
	if len(at) != 40 {
		t.Fatalf("%d content chunks, want 40", len(at))
	}
	// 39 gaps of 0.2 ms: a waker stuck on the full socket would hold
	// them until the slow client reads, 300 ms from its start.
	if span := at[39] - at[0]; span > 100*time.Millisecond {
		t.Errorf("first to last token %v, want about %v: the stopped client held up the others", span, 39*itl)
	}
	time.Sleep(300 * time.Millisecond)

	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(resp.Body) // checks the chunked framing
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the slow stream: %v", err)
	}
	var texts int
	for line := range strings.SplitSeq(string(all), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok && data != "[DONE]" && decodeChunk(t, data).hasContent() {
			texts++
		}
	}
	if texts != n || !strings.HasSuffix(string(all), "data: [DONE]\n\n") {
		t.Errorf("slow stream: %d content chunks (want %d), ends %q", texts, n, all[max(len(all)-40, 0):])
	}
	if s.unpaced.Load() == 0 {
		t.Error("no stream was given back to its handler: the socket never filled, the test tested nothing")
	}
}

// TestPacedClientLeaves: clients that leave paced streams at any moment
// (between tokens, or while the waker writes one) free their slot at once
// and are counted aborted; with one slot, every next request gets in.
func TestPacedClientLeaves(t *testing.T) {
	s, ts := newTestServer(t, Config{TTFT: 2 * time.Millisecond, ITL: 500 * time.Microsecond, MaxNumSeqs: 1})
	const leavers = 30
	for i := range leavers {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/completions", strings.NewReader(streamBody(1000)))
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(resp.Body)
		for range i % 7 * 3 { // leave after a few lines, 0 to 18
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 1 {
			time.Sleep(time.Duration(i) * 37 * time.Microsecond)
		}
		cancel()
		resp.Body.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.stats.aborted.Load() < leavers && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := s.stats.aborted.Load(); got != leavers {
		t.Errorf("%d requests aborted, want %d", got, leavers)
	}
	_, events := streamEvents(t, ts.Client(), ts.URL+"/v1/completions", streamBody(5))
	if at := contentTimes(t, events); len(at) != 5 || at[0] > time.Second {
		t.Errorf("after the leavers: %d tokens, the first after %v", len(at), at)
	}
	if r := s.slots.running.Load(); r != 0 {
		t.Errorf("%d slots held after every answer ended", r)
	}
}

// TestPacedFramingAsNetHTTP holds the paced writer, which frames HTTP
// chunks itself, to net/http's own framing: for each streamed endpoint,
// the body a paced server sends decodes (net/http's chunked reader) to the
// same bytes as an unpaced server's, whose chunks net/http wrote, ids and
// times aside.
func TestPacedFramingAsNetHTTP(t *testing.T) {
	cfg := Config{TTFT: time.Millisecond, ITL: time.Millisecond, Seed: 7}
	volatile := regexp.MustCompile(`"(created|created_at)":\d+|"(id|item_id)":"[^"]*"`)
	for _, tc := range []struct{ path, body string }{
		{"/v1/completions", `{"prompt":"hello","max_tokens":6,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"hello"}],"max_tokens":6,"ignore_eos":true,"stream":true}`},
		{"/v1/responses", `{"input":"hello","max_output_tokens":6,"stream":true}`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var got [2]string
			for i, start := range []func(*testing.T, Config) (*Server, *httptest.Server){newTestServer, newUnpacedServer} {
				s, ts := start(t, cfg)
				resp, b := post(t, ts.URL+tc.path, tc.body)
				if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
					t.Fatalf("status %d, transfer encoding %v: %s", resp.StatusCode, resp.TransferEncoding, b)
				}
				if i == 0 && s.unpaced.Load() != 0 {
					t.Fatalf("the paced server sent %d streams unpaced", s.unpaced.Load())
				}
				got[i] = volatile.ReplaceAllString(string(b), "")
			}
			if got[0] != got[1] {
				t.Errorf("paced body:\n%s\nunpaced body:\n%s", got[0], got[1])
			}
		})
	}
}
