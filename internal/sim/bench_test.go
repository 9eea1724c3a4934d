package sim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
