package sim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// discardWriter is a flushable ResponseWriter that keeps nothing, so the
// benchmarks measure the handler alone.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}

// BenchmarkHandler serves whole requests with no delays: the cost of
// parsing, scheduling and building the events.
func BenchmarkHandler(b *testing.B) {
	for _, bm := range []struct{ name, path, body string }{
		{"completions-stream", "/v1/completions", `{"prompt":"a b c","max_tokens":16,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`},
		{"chat-stream", "/v1/chat/completions", `{"messages":[{"role":"user","content":"a b c"}],"max_tokens":16,"ignore_eos":true,"stream":true}`},
		{"chat", "/v1/chat/completions", `{"messages":[{"role":"user","content":"a b c"}],"max_tokens":16,"ignore_eos":true}`},
		{"responses-stream", "/v1/responses", `{"input":"a b c","max_output_tokens":16,"ignore_eos":true,"stream":true}`},
		{"responses", "/v1/responses", `{"input":"a b c","max_output_tokens":16,"ignore_eos":true}`},
	} {
		b.Run(bm.name, func(b *testing.B) {
			s := New(Config{})
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					r := httptest.NewRequest("POST", bm.path, strings.NewReader(bm.body))
					clear(w.h)
					s.ServeHTTP(w, r)
				}
			})
		})
	}
}

// BenchmarkPacedToken is the waker's own work for one paced token, without
// the write: build the token's events, frame them as an HTTP chunk, work
// out the next due time. It must not allocate.
func BenchmarkPacedToken(b *testing.B) {
	for _, bm := range []struct {
		name, path, body string
		ep               endpoint
	}{
		{"completions", "/v1/completions", `{"prompt":"a b c","max_tokens":1000000,"ignore_eos":true,"stream":true}`, completions},
		{"chat", "/v1/chat/completions", `{"messages":[{"role":"user","content":"a b c"}],"max_tokens":1000000,"ignore_eos":true,"stream":true}`, chat},
		{"responses", "/v1/responses", `{"input":"a b c","max_output_tokens":1000000,"ignore_eos":true,"stream":true}`, responses},
	} {
		b.Run(bm.name, func(b *testing.B) {
			s := New(Config{ITL: time.Millisecond, MaxModelLen: 1 << 21})
			w := &discardWriter{h: http.Header{}}
			p, aerr := s.parse(w, httptest.NewRequest("POST", bm.path, strings.NewReader(bm.body)), bm.ep)
			if aerr != nil {
				b.Fatal(aerr.msg)
			}
			sc := s.sleepers.Get().(*scratch)
			object := "text_completion"
			if bm.ep == chat {
				object = "chat.completion.chunk"
			}
			sc.prefix = s.appendPrefix(sc.prefix[:0], &p, object)
			st := &sc.st
			*st = stream{s: s, p: &p, sc: sc, strike: -1}
			b.ReportAllocs()
			for b.Loop() {
				sc.buf = s.appendEvents(sc.buf[:0], &p, sc, st.i%(p.n-1)+1, st.strike)
				sc.chunk = appendChunk(sc.chunk[:0], sc.buf)
				st.i++
				st.advance()
			}
		})
	}
}
