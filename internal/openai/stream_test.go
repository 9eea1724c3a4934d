package openai

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// vllmChat is a chat stream as vLLM sends it with include_usage: an opening
// role chunk with empty content, one chunk per token, finish_reason on the
// last, a usage chunk with empty choices, then [DONE].
const vllmChat = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}]}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"logprobs":null,"finish_reason":"length","stop_reason":null}]}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":7,"total_tokens":9,"completion_tokens":2}}

data: [DONE]

`

func readAll(t *testing.T, s string) ([]Event, error) {
	t.Helper()
	r := NewStreamReader(strings.NewReader(s))
	var evs []Event
	for {
		ev, err := r.Next()
		if err != nil {
			return evs, err
		}
		if ev.Usage != nil {
			u := *ev.Usage
			ev.Usage = &u
		}
		evs = append(evs, ev)
		if ev.Done {
			return evs, nil
		}
	}
}

func TestStreamVLLMChat(t *testing.T) {
	evs, err := readAll(t, vllmChat)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 5 {
		t.Fatalf("got %d events", len(evs))
	}
	if evs[0].ContentBytes != 0 {
		t.Error("role chunk counted as content")
	}
	if evs[1].ContentBytes != 3 || evs[2].ContentBytes != 2 || evs[2].FinishReason != "length" {
		t.Errorf("content events: %+v %+v", evs[1], evs[2])
	}
	if u := evs[3].Usage; u == nil || u.CompletionTokens != 2 || u.PromptTokens != 7 {
		t.Errorf("usage: %+v", evs[3])
	}
	if !evs[4].Done {
		t.Error("no [DONE]")
	}
}

func TestStreamQuirks(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error  // from Next
		lastErr string // Event.Err of the last event
		usage   int    // completion tokens of the last usage seen
	}{
		{name: "no space after data:, CRLF", in: "data:{\"choices\":[{\"text\":\"a\"}]}\r\n\r\ndata:[DONE]\r\n"},
		{name: "comments and event fields skipped", in: ": ping\nevent: message\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]\n"},
		{name: "ends without DONE", in: "data: {\"choices\":[{\"text\":\"a\"}]}\n\n", wantErr: io.EOF},
		{name: "last line without newline", in: "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]"},
		{name: "malformed chunk", in: "data: {\"choices\":[{\"te\n\n", wantErr: ErrMalformed},
		{name: "vLLM error event in a 200 stream", in: "data: {\"error\":{\"message\":\"engine died\",\"type\":\"InternalServerError\",\"code\":500}}\n\n", lastErr: "engine died"},
		{name: "flat error shape", in: "data: {\"object\":\"error\",\"message\":\"bad thing\",\"type\":\"x\",\"code\":400}\n\n", lastErr: "bad thing"},
		{name: "llama.cpp error line", in: "data: {\"choices\":[{\"text\":\"a\"}]}\n\nerror: {\"code\":500,\"message\":\"slot unavailable\",\"type\":\"server_error\"}\n\n", lastErr: "slot unavailable"},
		{name: "string error (TGI)", in: "data: {\"error\":\"Input validation error\"}\n\n", lastErr: "Input validation error"},
		{name: "Ollama zero usage on every chunk", usage: 1,
			in: "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}}\n\n" +
				"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n"},
		{name: "long line", in: "data: {\"choices\":[{\"text\":\"" + strings.Repeat("x", 100000) + "\"}]}\n\ndata: [DONE]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := readAll(t, tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if tt.lastErr != "" {
				if err != io.EOF || len(evs) == 0 || evs[len(evs)-1].Err != tt.lastErr {
					t.Fatalf("events %+v err %v", evs, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			usage := 0
			for _, ev := range evs {
				if ev.Usage != nil {
					usage = ev.Usage.CompletionTokens
				}
			}
			if usage != tt.usage {
				t.Errorf("usage %d, want %d", usage, tt.usage)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"error":{"message":"The model ` + "`x`" + ` does not exist.","type":"NotFoundError","param":null,"code":404}}`, "The model `x` does not exist."},
		{`{"object":"error","message":"old shape","type":"BadRequestError","param":null,"code":400}`, "old shape"},
		{`{"error":"plain string"}`, "plain string"},
		{`{"detail":"Not Found"}`, "Not Found"},
		{`{"detail":[{"loc":["body"],"msg":"field required"}]}`, `[{"loc":["body"],"msg":"field required"}]`},
		{"<html>\n<body>Bad   Gateway</body></html>", "<html> <body>Bad Gateway</body></html>"},
		{strings.Repeat("é", 400), strings.Repeat("é", MaxErrorLen/2) + "..."},
		{"\xff\xfe", "\uFFFD"},
	}
	for _, tt := range tests {
		if got := ErrorMessage([]byte(tt.in)); got != tt.want {
			t.Errorf("ErrorMessage(%.40q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBody(t *testing.T) {
	b, err := Request{Endpoint: EndpointChat, Model: "m", Prompt: "hi", MaxTokens: 5, IgnoreEOS: true, Stream: true}.Body()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = Request{Endpoint: EndpointCompletions, Model: "m", Prompt: "hi"}.Body()
	if want := `{"model":"m","prompt":"hi","stream":false}`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = Request{Endpoint: EndpointEmbeddings, Model: "m", Inputs: []string{"a", "b"}, MaxTokens: 5, IgnoreEOS: true, Stream: true}.Body()
	if want := `{"model":"m","input":["a","b"]}`; string(b) != want {
		t.Errorf("embeddings: got  %s\nwant %s", b, want)
	}
	b, _ = Request{Endpoint: EndpointEmbeddings, Model: "m", Prompt: "hi", Extra: []map[string]any{{"dimensions": 4}}}.Body()
	if want := `{"dimensions":4,"input":["hi"],"model":"m"}`; string(b) != want {
		t.Errorf("embeddings with extra: got  %s\nwant %s", b, want)
	}
	if _, err := (Request{Endpoint: "images"}).Body(); err == nil {
		t.Error("unknown endpoint accepted")
	}
}

func FuzzStreamReader(f *testing.F) {
	f.Add([]byte(vllmChat))
	f.Add([]byte("data: {\"error\":{\"message\":\"x\"}}\n\n"))
	f.Add([]byte("data: [DONE]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewStreamReader(strings.NewReader(string(data)))
		for i := 0; i < len(data)+2; i++ {
			ev, err := r.Next()
			if err != nil || ev.Done {
				return
			}
		}
		t.Fatal("more events than bytes")
	})
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"m","type":"t"}}`))
	f.Add([]byte(`{"object":"error","message":"m"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if msg := ErrorMessage(data); len(msg) > MaxErrorLen+3 {
			t.Fatalf("message of %d bytes", len(msg))
		}
	})
}

// refEvents is the WHATWG event-stream parser, written plainly: the data
// of each event, and "error:" lines (llama.cpp's) as "ERR:" + the rest.
// Like StreamReader, and unlike the standard, it keeps an event that the
// end of the stream cuts off.
func refEvents(in string) []string {
	in = strings.TrimPrefix(in, "\ufeff")
	var lines []string
	for len(in) > 0 {
		i := strings.IndexAny(in, "\r\n")
		if i < 0 {
			lines = append(lines, in)
			break
		}
		lines = append(lines, in[:i])
		if strings.HasPrefix(in[i:], "\r\n") {
			i++
		}
		in = in[i+1:]
	}
	var out, data []string
	has := false
	for _, line := range lines {
		switch field, value, _ := strings.Cut(line, ":"); {
		case line == "":
			if has {
				out = append(out, strings.Join(data, "\n"))
			}
			data, has = nil, false
		case strings.HasPrefix(line, "error:"):
			out = append(out, "ERR:"+line[len("error:"):])
		case field == "data":
			data, has = append(data, strings.TrimPrefix(value, " ")), true
		}
	}
	if has {
		out = append(out, strings.Join(data, "\n"))
	}
	return out
}

// readData is what StreamReader finds in in, read through r's wrapper.
func readData(in string, wrap func(io.Reader) io.Reader) ([]string, error) {
	s := NewStreamReaderSize(wrap(strings.NewReader(in)), 16)
	var out []string
	for {
		data, errLine, err := s.nextData()
		switch {
		case err == io.EOF:
			return out, nil
		case err != nil:
			return out, err
		case errLine != nil:
			out = append(out, "ERR:"+string(errLine))
		default:
			out = append(out, string(data))
		}
	}
}

// FuzzStreamLines: StreamReader splits any input into events as the
// reference parser does, whatever the reads' sizes.
func FuzzStreamLines(f *testing.F) {
	for _, seed := range []string{
		"data: a\r\rdata: b\n\ndata: c\r\n\r\n",
		"\ufeffdata: first\n\n",
		"data: {\"a\":\ndata: 1}\n\n: comment\nid: 1\nevent: x\nretry: 5\n\ndata\n\n",
		"data:x\rdata:y\r\r",
		"error: {\"message\":\"x\"}\n\ndata: [DONE]",
		strings.Repeat("x", 40) + "\r\n\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		want := refEvents(in)
		for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader} {
			got, err := readData(in, wrap)
			if err != nil || strings.Join(got, "\x00|") != strings.Join(want, "\x00|") {
				t.Fatalf("%q:\ngot  %q %v\nwant %q", in, got, err, want)
			}
		}
	})
}

// TestStreamWHATWG: line ends, multi-line data, comments and a BOM, as the
// standard has them, give the events they should (issue 13: a BOM lost
// the first event, CR line ends and multi-line data failed).
func TestStreamWHATWG(t *testing.T) {
	chunkA := `{"choices":[{"text":"a"}]}`
	for _, in := range []string{
		"\ufeffdata: " + chunkA + "\n\ndata: [DONE]\n\n",
		"data: " + chunkA + "\r\rdata: [DONE]\r\r",
		"data: " + chunkA + "\r\n\r\ndata: [DONE]\r\n\r\n",
		"data: {\"choices\":\ndata: [{\"text\":\"a\"}]}\n\n: keep-alive\n\ndata: [DONE]\n\n",
	} {
		evs, err := readAll(t, in)
		if err != nil || len(evs) != 2 || evs[0].ContentBytes != 1 || !evs[1].Done {
			t.Errorf("%q: events %+v, err %v", in, evs, err)
		}
	}
}

// TestNextData: the raw data of event:/data: pairs, read as Next reads
// lines (CRLF, comments, multi-line data joined), with no [DONE] to end
// them; llama.cpp's error: line as a message.
func TestNextData(t *testing.T) {
	in := "event: response.created\r\ndata: {\"type\":\"response.created\"}\r\n\r\n: keep-alive\n\nevent: x\ndata: {\"a\":\ndata: 1}\n\nerror: {\"error\":{\"message\":\"boom\"}}\n"
	sr := NewStreamReader(strings.NewReader(in))
	var got []string
	for {
		data, msg, err := sr.NextData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(data)+"|"+msg)
	}
	want := []string{`{"type":"response.created"}|`, "{\"a\":\n1}|", "|boom"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %q, want %q", got, want)
	}
}
