//go:build linux

package h1

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"servebench/internal/kstamp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// newLoop is a new loop; the test closes it (deferred: before the
// connections' cleanups close them, which the loop may still be watching).
func newLoop(t *testing.T) *Loop {
	t.Helper()
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// adopted is c's socket taken into l (with kernel times).
func adopted(t *testing.T, l *Loop, c *net.TCPConn, canceled *atomic.Bool) *loopConn {
	t.Helper()
	kstamp.Warm() // as New does for a client with kernel times
	lc, err := l.adopt(c, true, canceled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lc.Close() })
	return lc
}

// TestLoopReadsAsTCPConn: a connection of the read loop reads the same
// bytes and fails with the same errors, word for word, as net.TCPConn's
// own Read, for data, the end, a reset, a deadline and a close.
func TestLoopReadsAsTCPConn(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	cases := []struct {
		name string
		act  func(s net.Conn, c net.Conn)
	}{
		{"data", func(s, c net.Conn) { s.Write([]byte("hello")) }},
		{"data later", func(s, c net.Conn) {
			time.AfterFunc(20*time.Millisecond, func() { s.Write([]byte("hello")) })
		}},
		{"end", func(s, c net.Conn) { s.Close() }},
		{"end later", func(s, c net.Conn) { time.AfterFunc(20*time.Millisecond, func() { s.Close() }) }},
		{"reset", func(s, c net.Conn) {
			s.(*net.TCPConn).SetLinger(0)
			s.Close()
			time.Sleep(20 * time.Millisecond)
		}},
		{"deadline", func(s, c net.Conn) { c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)) }},
		{"past deadline", func(s, c net.Conn) {
			s.Write([]byte("hello"))
			time.Sleep(10 * time.Millisecond)
			c.SetReadDeadline(time.Unix(1, 0))
		}},
		{"closed", func(s, c net.Conn) { c.Close() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for i, how := range []string{"net.TCPConn", "the loop"} {
				c, s := pair(t)
				var nc net.Conn = c
				if i > 0 {
					nc = adopted(t, l, c, new(atomic.Bool))
				}
				buf := make([]byte, 64)
				var n int
				var err error
				read := func() {
					tc.act(s, nc)
					n, err = nc.Read(buf)
				}
				if i == 1 {
					l.Run(read)
				} else {
					read()
				}
				got[i] = string(buf[:n]) + "|" + errText(err, nc)
				if tc.name == "deadline" && !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("%s: %v is not os.ErrDeadlineExceeded", how, err)
				}
				if tc.name == "reset" && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("%s: %v is not ECONNRESET", how, err)
				}
				if tc.name == "end" && err != io.EOF {
					t.Errorf("%s: %v is not io.EOF", how, err)
				}
			}
			if got[0] != got[1] {
				t.Errorf("net.TCPConn read %q, the loop's connection %q", got[0], got[1])
			}
		})
	}
}

// TestLoopManyStreams: several tasks in the loop at once, each reading
// its own connection's tokens as they come, with kernel arrival times
// between the writes' times; a canceled run fails the reads waiting.
func TestLoopManyStreams(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	const streams, tokens = 16, 20
	type result struct {
		got     string
		arrived []time.Time
		err     error
	}
	results := make([]result, streams)
	done := make(chan int, streams)
	var written [streams][]time.Time
	var writers sync.WaitGroup
	for i := range streams {
		c, s := pair(t)
		lc := adopted(t, l, c, new(atomic.Bool))
		writers.Add(1)
		go func() {
			defer writers.Done()
			for k := range tokens {
				time.Sleep(time.Millisecond)
				written[i] = append(written[i], time.Now())
				s.Write([]byte{'a' + byte(k)})
			}
		}()
		go func() {
			l.Run(func() {
				buf := make([]byte, 64)
				for len(results[i].got) < tokens {
					n, err := lc.Read(buf)
					if err != nil {
						results[i].err = err
						return
					}
					results[i].got += string(buf[:n])
					at, _, _ := arrival(lc)
					results[i].arrived = append(results[i].arrived, at)
				}
			})
			done <- i
		}()
	}
	for range streams {
		<-done
	}
	writers.Wait()
	for i, r := range results {
		if r.err != nil || r.got != "abcdefghijklmnopqrst" {
			t.Errorf("stream %d read %q, %v", i, r.got, r.err)
		}
		for _, at := range r.arrived {
			if at.IsZero() {
				t.Errorf("stream %d: a read without a kernel time", i)
			}
		}
		if len(r.arrived) > 0 && len(written[i]) > 0 && r.arrived[0].Before(written[i][0].Add(-time.Millisecond)) {
			t.Errorf("stream %d: first bytes arrived %v before they were written", i, written[i][0].Sub(r.arrived[0]))
		}
	}

	// A run's end fails the reads that wait.
	c, _ := pair(t)
	var canceled atomic.Bool
	l.watchRun(&canceled)
	lc := adopted(t, l, c, &canceled)
	errc := make(chan error, 1)
	go l.Run(func() {
		_, err := lc.Read(make([]byte, 8))
		errc <- err
	})
	time.Sleep(20 * time.Millisecond)
	canceled.Store(true)
	l.nudge()
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("canceled read: %v, want a deadline error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a canceled read still waits")
	}
}

// TestLoopWritesAndOffloads: a write that must wait for room in the socket
// is handed to Run's goroutine and completes; a dial made in the loop runs
// there too.
func TestLoopWritesAndOffloads(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	c, s := pair(t)
	lc := adopted(t, l, c, new(atomic.Bool))
	big := make([]byte, 8<<20) // far beyond the socket buffers
	got := make(chan int, 1)
	go func() {
		n, _ := io.Copy(io.Discard, io.LimitReader(s, int64(len(big))))
		got <- int(n)
	}()
	var n int
	var err error
	l.Run(func() { n, err = lc.Write(big) })
	if err != nil || n != len(big) {
		t.Fatalf("wrote %d of %d: %v", n, len(big), err)
	}
	if r := <-got; r != len(big) {
		t.Errorf("the server read %d bytes", r)
	}
}

// TestLoopDoesNotSpinOnAnOperation: while a task's write waits for room
// (an operation on Run's goroutine), its socket, readable meanwhile (the
// server answered early), does not wake the loop over and over.
func TestLoopDoesNotSpinOnAnOperation(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	c, s := pair(t)
	lc := adopted(t, l, c, new(atomic.Bool))
	go func() {
		time.Sleep(20 * time.Millisecond)
		s.Write([]byte("HTTP/1.1 413 Too Large\r\n")) // read by the task, which waited for it
		time.Sleep(20 * time.Millisecond)
		s.Write([]byte("\r\n"))            // readable from now on, while the task writes
		time.Sleep(300 * time.Millisecond) // the server reads late
		io.Copy(io.Discard, s)
	}()
	big := make([]byte, 16<<20)
	var n int
	var err error
	l.Run(func() {
		var buf [64]byte
		lc.Read(buf[:]) // waits: the socket joins the epoll set
		n, err = lc.Write(big)
	})
	if err != nil || n != len(big) {
		t.Fatalf("wrote %d: %v", n, err)
	}
	if w := l.wakes.Load(); w > 200 {
		t.Errorf("the loop woke %d times while one write waited 300 ms: it spun", w)
	}
}

// TestLoopPushesAStream: a chunked stream answered to a client on the
// loop is pushed, token by token, with each read's kernel time, to the
// sink; the sink's stop leaves the rest (the last chunk, in the same read
// as its stop) to the response's reads, and the connection is reused.
func TestLoopPushesAStream(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	const tokens = 10
	srv := tokenServer(t, tokens, 2*time.Millisecond, "end") // "end" with the last chunk, as a server writes [DONE] then returns
	c := newClient(t, srv.URL, Config{Loop: l, KernelTimes: true})
	for round := range 2 {
		s := &collector{}
		var rest []byte
		var pushed bool
		var err error
		l.Run(func() {
			deadline := time.Now().Add(5 * time.Second)
			var resp *Response
			if resp, err = c.Do(requestBody(true), "", deadline, deadline); err != nil {
				return
			}
			s.stopAfter = len("t0;t1;t2;t3;t4;t5;t6;t7;t8;t9;e") // stops inside the last chunk
			pushed = resp.Push(s)
			rest, err = io.ReadAll(resp)
			resp.Close(true)
		})
		if err != nil || !pushed {
			t.Fatalf("round %d: pushed %v, %v", round, pushed, err)
		}
		if got := string(s.got) + string(rest); got != "t0;t1;t2;t3;t4;t5;t6;t7;t8;t9;end" {
			t.Errorf("round %d: pushed %q, then read %q", round, s.got, rest)
		}
		if s.calls < tokens/2 {
			t.Errorf("round %d: %d pushes for %d tokens written apart", round, s.calls, tokens)
		}
		for _, at := range s.at {
			if at.IsZero() {
				t.Errorf("round %d: bytes pushed without their kernel time", round)
				break
			}
		}
	}
	if n := c.idleCount(); n != 1 {
		t.Errorf("%d idle connections after two pushed streams, want the one reused", n)
	}
}

func (c *Client) idleCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle)
}

// TestLoopCoalescesPushedReads: streams pushed at once on a busy loop
// that naps (SetCoalesce) reach their sinks whole, each read with its
// kernel time, the reads of several sockets made in one pass and fed
// after (pushRead, feedReads); the loop took naps and waited fewer times
// than it read.
func TestLoopCoalescesPushedReads(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	l.SetCoalesce(500 * time.Microsecond)
	const streams, tokens = 32, 40
	srv := tokenServer(t, tokens, time.Millisecond, "")
	c := newClient(t, srv.URL, Config{Loop: l, KernelTimes: true})
	var want string
	for k := range tokens {
		want += fmt.Sprintf("t%d;", k)
	}
	sinks := make([]*collector, streams)
	errs := make([]error, streams)
	var wg sync.WaitGroup
	for i := range streams {
		sinks[i] = &collector{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Run(func() {
				deadline := time.Now().Add(10 * time.Second)
				resp, err := c.Do(requestBody(true), "", deadline, deadline)
				if err != nil {
					errs[i] = err
					return
				}
				if !resp.Push(sinks[i]) {
					errs[i] = errors.New("not pushed")
				}
				resp.Close(true)
			})
		}()
	}
	wg.Wait()
	calls := 0
	for i, s := range sinks {
		if errs[i] != nil || string(s.got) != want {
			t.Errorf("stream %d: pushed %q, %v", i, s.got, errs[i])
		}
		for _, at := range s.at {
			if at.IsZero() {
				t.Errorf("stream %d: bytes pushed without their kernel time", i)
				break
			}
		}
		calls += s.calls
	}
	if l.naps.Load() == 0 {
		t.Errorf("%d streams of a token a millisecond: the loop never napped", streams)
	}
	if w := l.wakes.Load(); w >= uint64(calls) {
		t.Errorf("the loop woke %d times for %d pushed reads: no wait found more than one socket", w, calls)
	}
}

// TestLoopNapEnds: a loop napping (here for up to an hour, once busy)
// starts a task posted meanwhile at once, and ends a read at its
// deadline; and it does not nap while a socket without kernel times is
// open (there the read's time is the bytes' time).
func TestLoopNapEnds(t *testing.T) {
	l := newLoop(t)
	defer l.Close()
	l.SetCoalesce(time.Hour)
	busy := func() { // wake-ups 15 ms apart: a window that judges the loop busy
		for range 3 {
			l.Run(func() {})
			time.Sleep(15 * time.Millisecond)
		}
	}
	within := func(what string, d time.Duration, fn func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { fn(); close(done) }()
		select {
		case <-done:
		case <-time.After(d):
			t.Fatalf("%s: still waiting after %v", what, d)
		}
	}
	busy()
	within("a post during a nap", 5*time.Second, func() { l.Run(func() {}) })
	if l.naps.Load() == 0 {
		t.Error("the busy loop took no nap")
	}

	c, _ := pair(t)
	lc := adopted(t, l, c, new(atomic.Bool))
	busy()
	var err error
	within("a read's deadline during a nap", 5*time.Second, func() {
		l.Run(func() {
			lc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, err = lc.Read(make([]byte, 8))
		})
	})
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read: %v, want its deadline", err)
	}

	c2, s2 := pair(t)
	plain, err := l.adopt(c2, false, new(atomic.Bool))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	busy()
	time.AfterFunc(20*time.Millisecond, func() { s2.Write([]byte("x")) })
	within("a read without kernel times", 5*time.Second, func() {
		l.Run(func() { _, err = plain.Read(make([]byte, 8)) })
	})
	if err != nil {
		t.Errorf("read without kernel times: %v", err)
	}
}

// tokenServer answers every request with tokens chunks "t0;", "t1;", ...
// flushed gap apart, then last (if any) with the body's last chunk.
func tokenServer(t *testing.T, tokens int, gap time.Duration, last string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for k := range tokens {
			fmt.Fprintf(w, "t%d;", k)
			w.(http.Flusher).Flush()
			time.Sleep(gap)
		}
		io.WriteString(w, last)
	}))
	t.Cleanup(srv.Close)
	return srv
}
