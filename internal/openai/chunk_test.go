package openai

import (
	"strings"
	"testing"

	"servebench/internal/jsonscan"
)

// chunkSamples are chunks and bodies of the servers genload meets, and the
// awkward cases the scanner must either get right or hand over.
var chunkSamples = []string{
	`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" all","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"logprobs":{"content":[{"token":"lo","logprob":-0.5,"bytes":[108,111],"top_logprobs":[]}]},"finish_reason":"length","stop_reason":null}]}`,
	`{"id":"x","choices":[],"usage":{"prompt_tokens":7,"total_tokens":9,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}}`,
	`{"choices":[{"index":0,"delta":{"reasoning_content":"think","reasoning":"more"}}]}`,
	`{"choices":[{"index":0,"message":{"role":"assistant","content":"a b c","reasoning_content":null,"tool_calls":[]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}`,
	`{"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1,"id":"chatcmpl-x","model":"llama","object":"chat.completion.chunk"}`,
	`{"choices":[{"text":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83c\udf89 \ud800 \udc00x \u2028","finish_reason":null}]}`,
	"{\"choices\":[{\"text\":\"raw é 日本 \xff\xfe bad\"}]}",
	`{"choices":[{"text":"a"},{"text":"bc","finish_reason":"length"},null]}`,
	`{"error":{"message":"engine died","type":"InternalServerError","code":500}}`,
	`{"object":"error","message":"bad thing","type":"x","code":400}`,
	`{"error":null,"choices":[{"text":"a"}]}`,
	`{"error":"Input validation error"}`,
	`{"detail":"Not Found"}`,
	`{"detail":null}`,
	`{"choices":[{"text":"a","text":"bb"}]}`,
	`{"Choices":[{"text":"a"}]}`,
	`{"choices":[{"TEXT":"a"}]}`,
	`{"choices":[{"text":5}]}`,
	`{"choices":{"text":"a"}}`,
	`{"usage":{"prompt_tokens":1.5}}`,
	`{"usage":{"prompt_tokens":99999999999999999999}}`,
	`{"usage":{}}`,
	`{"choices":[{"finish_reason":"\u0073top"}]}`,
	`{"choices":[{"text":"a"}]} trailing`,
	`{"choices":[{"text":"a"}],}`,
	`{"choices":[{"te`,
	`null`,
	`[]`,
	`{}`,
	`{"a":[[[[[[{"b":[1,2,{"c":"d"}]}]]]]]],"choices":[{"text":"x"}]}`,
	` { "choices" : [ { "text" : "x" } ] } `,
	`{"x-request id":"a.b","choices":[{"text":"x","log-probs":null}]}`,
	// reasoning, both keys (never added), and in a whole body's message
	`{"choices":[{"index":0,"delta":{"reasoning":"th","reasoning_content":"th"},"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{"reasoning":null,"reasoning_content":"abc"}}]}`,
	`{"choices":[{"index":0,"delta":{"reasoning":"","reasoning_content":"abc"}}]}`,
	`{"choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning":"let me think"},"finish_reason":"stop"}]}`,
	// vLLM's streamed tool call: the id, type and name first, then argument fragments
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"id":"chatcmpl-tool-1a2b","type":"function","index":0,"function":{"name":"get_weather"}}]},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \""}}]},"logprobs":null,"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"tool_calls","stop_reason":null}]}`,
	`{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`,
	`{"choices":[{"delta":{"tool_calls":[null,{"id":null},{"id":""},{"ID":"x"}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":{"id":"x"}}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"id":5}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":1.5},{"index":"0"},{"index":-2},{"index":9223372036854775807},{"index":99999999999999999999},{"index":3,"index":4}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_1"},{"index":0}]}}]}`,
	// usage details, and usages that are unusable (counted chunks then)
	`{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":20,"total_tokens":27,"completion_tokens_details":{"reasoning_tokens":12},"prompt_tokens_details":{"cached_tokens":4}}}`,
	`{"usage":{"prompt_tokens":7,"completion_tokens_details":null,"prompt_tokens_details":null}}`,
	`{"usage":{"completion_tokens_details":{"reasoning_tokens":1.0}}}`,
	`{"usage":{"completion_tokens_details":"x"}}`,
	`{"usage":{"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":2}}}`,
	`{"usage":{"completion_tokens":"12"}}`,
	`{"usage":{"completion_tokens":-3}}`,
	`{"usage":{"completion_tokens":4294967296}}`,
	`{"usage":"none"}`,
	`{"usage":[1]}`,
}

func TestParseChunkMatchesEncodingJSON(t *testing.T) {
	fast := 0
	for _, in := range chunkSamples {
		got, gotErr := parseChunk([]byte(in))
		want, wantErr := parseChunkJSON([]byte(in))
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s:\ngot  %+v %v\nwant %+v %v", in, got, gotErr, want, wantErr)
		}
		var c chunkInfo
		if (&scanner{jsonscan.New([]byte(in))}).chunk(&c) {
			fast++
		}
	}
	if fast < 15 {
		t.Errorf("the scanner took only %d of %d samples", fast, len(chunkSamples))
	}
}

func FuzzParseChunk(f *testing.F) {
	for _, in := range chunkSamples {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gotErr := parseChunk(data)
		want, wantErr := parseChunkJSON(data)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q:\ngot  %+v %v\nwant %+v %v", data, got, gotErr, want, wantErr)
		}
	})
}

// TestStreamNoStaleFields: a choice that leaves out a field must not take
// it from the previous chunk. llama.cpp and OpenAI end chat streams with
// "delta":{}; decoding each chunk into the previous one's choices counted
// that last chunk as content again.
func TestStreamNoStaleFields(t *testing.T) {
	in := "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"choices\":[{\"delta\":{}}]}\n\ndata: [DONE]\n\n"
	evs, err := readAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].ContentBytes != 3 || evs[1].ContentBytes != 0 || evs[1].FinishReason != "stop" || evs[2].FinishReason != "" {
		t.Errorf("events %+v", evs)
	}
}

// vllmCompletionChunk is one token of a vLLM completions stream.
const vllmCompletionChunk = `{"id":"cmpl-009097f1b390f83c0000000000000002","object":"text_completion","created":1795782164,"model":"llmsim/tiny","choices":[{"index":0,"text":" her","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`

// BenchmarkStreamChunk is the client's cost per streamed token: reading
// one SSE event from the buffered body and parsing its chunk.
func BenchmarkStreamChunk(b *testing.B) {
	event := "data: " + vllmCompletionChunk + "\n\n"
	const perBody = 1000
	body := strings.Repeat(event, perBody) + "data: [DONE]\n\n"
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	r := NewStreamReader(strings.NewReader(body))
	for b.Loop() {
		ev, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		if ev.Done {
			r = NewStreamReader(strings.NewReader(body))
		}
	}
}

// BenchmarkParseChunk is the chunk parsing alone; BenchmarkParseChunkJSON
// the same with encoding/json, as before.
func BenchmarkParseChunk(b *testing.B) {
	data := []byte(vllmCompletionChunk)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseChunk(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseChunkJSON(b *testing.B) {
	data := []byte(vllmCompletionChunk)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseChunkJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestChunkAnswers: what each kind of output adds up to. Reasoning is read
// from reasoning, else reasoning_content, never both; a tool call's first
// delta (with its id) opens a call; an unusable usage is marked, not fatal.
func TestChunkAnswers(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want chunkInfo
	}{
		{`{"choices":[{"delta":{"reasoning":"abc","reasoning_content":"abc"}}]}`, chunkInfo{reasoningBytes: 3}},
		{`{"choices":[{"delta":{"reasoning_content":"abcd"}}]}`, chunkInfo{reasoningBytes: 4}},
		{`{"choices":[{"message":{"content":"hi","reasoning":"ab","reasoning_content":"ab"}}]}`, chunkInfo{contentBytes: 2, reasoningBytes: 2}},
		{`{"choices":[{"delta":{"tool_calls":[{"id":"c1","type":"function","index":0,"function":{"name":"f"}}]}}]}`, chunkInfo{toolCalls: 1, toolCallIDs: 1, toolCallIndex: 1}},
		{`{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}`, chunkInfo{toolCalls: 1, toolCallIndex: 1}},
		{`{"choices":[{"delta":{"tool_calls":[{"index":2,"id":"c"},{"index":"1"},{"index":-1},{"index":null}]}}]}`, chunkInfo{toolCalls: 4, toolCallIDs: 1, toolCallIndex: 3}},
		{`{"usage":{"prompt_tokens":3,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":5},"prompt_tokens_details":{"cached_tokens":2}}}`,
			chunkInfo{hasUsage: true, usage: Usage{PromptTokens: 3, CompletionTokens: 9, ReasoningTokens: 5, ReasoningSet: true, CachedTokens: 2}}},
		{`{"usage":{"prompt_tokens":3,"completion_tokens":9.5}}`, chunkInfo{hasUsage: true, usageBad: true}},
		{`{"usage":{"completion_tokens":"9"}}`, chunkInfo{hasUsage: true, usageBad: true}},
		{`{"usage":{"completion_tokens":12345678901234567890}}`, chunkInfo{hasUsage: true, usageBad: true}},
	} {
		got, err := parseChunk([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("%s:\ngot  %+v %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
}

// vllmReasoningChunk and vllmToolChunk are a reasoning delta and a tool
// call's argument fragment as vLLM streams them.
const (
	vllmReasoningChunk = `{"id":"chatcmpl-009097f1b390f83c","object":"chat.completion.chunk","created":1795782164,"model":"llmsim/tiny","choices":[{"index":0,"delta":{"reasoning":" her","reasoning_content":" her"},"logprobs":null,"finish_reason":null}]}`
	vllmToolChunk      = `{"id":"chatcmpl-009097f1b390f83c","object":"chat.completion.chunk","created":1795782164,"model":"llmsim/tiny","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\""}}]},"logprobs":null,"finish_reason":null}]}`
)

func BenchmarkParseChunkReasoning(b *testing.B) {
	data := []byte(vllmReasoningChunk)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseChunk(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseChunkToolCall(b *testing.B) {
	data := []byte(vllmToolChunk)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseChunk(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPrefixSkipsWhatChunksShare: the chunks of a vLLM stream are scanned
// from their "choices" on, once the first has shown where that is, with
// the same results as a whole scan; a chunk that begins otherwise is
// scanned whole.
func TestPrefixSkipsWhatChunksShare(t *testing.T) {
	var p Prefix
	stream := []string{
		vllmCompletionChunk,
		strings.Replace(vllmCompletionChunk, `" her"`, `" and"`, 1),
		strings.Replace(vllmCompletionChunk, `"finish_reason":null`, `"finish_reason":"length"`, 1),
		strings.Replace(vllmCompletionChunk, `"model":"llmsim/tiny"`, `"model":"other"`, 1),     // a prefix of its own
		`{"id":"x","object":"error","message":"boom","choices":[{"text":"a"}]}`,                 // not kept: it sets objectError
		`{"id":"x","object":"error","message":"boom","choices":[{"text":"b"}]}`,                 // so this one is scanned whole
		`{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":1},"choices":[{"text":"a"}]}`, // nor usage before "choices"
		`{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":1},"choices":[{"text":"b"}]}`,
		`{"error":{"message":"boom"}}`,
	}
	for i, data := range stream {
		var got chunkInfo
		err := parseChunkPrefix([]byte(data), &got, &p)
		want, wantErr := parseChunkJSON([]byte(data))
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("chunk %d %s:\ngot  %+v %v\nwant %+v %v", i, data, got, err, want, wantErr)
		}
		if i == 0 && p.n != strings.Index(data, `"choices"`) {
			t.Errorf("prefix of %d bytes kept, want the %d before \"choices\"", p.n, strings.Index(data, `"choices"`))
		}
	}
}

// FuzzParseChunkPrefix holds a scan resumed after a stream's previous
// chunk's prefix to encoding/json: a first chunk a, then b, which shares
// a's first cut bytes and goes on with tail.
func FuzzParseChunkPrefix(f *testing.F) {
	for _, in := range chunkSamples {
		f.Add([]byte(in), uint8(len(in)/2), []byte(`"choices":[{"text":"x"}]}`))
	}
	f.Add([]byte(vllmCompletionChunk), uint8(strings.Index(vllmCompletionChunk, `"choices"`)), []byte(`"choices":[{"text":"x","finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`))
	f.Add([]byte(vllmCompletionChunk), uint8(strings.Index(vllmCompletionChunk, `"choices"`)), []byte(`"choices":[],"choices":[]}`))
	f.Add([]byte(`{"object":"error","choices":[{"text":"a"}]}`), uint8(19), []byte(`"choices":[{"text":"b"}]}`))
	f.Fuzz(func(t *testing.T, a []byte, cut uint8, tail []byte) {
		var p Prefix
		var first chunkInfo
		_ = parseChunkPrefix(a, &first, &p)
		b := append(append([]byte(nil), a[:min(int(cut), len(a))]...), tail...)
		var got chunkInfo
		err := parseChunkPrefix(b, &got, &p)
		want, wantErr := parseChunkJSON(b)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Fatalf("after %q, %q:\ngot  %+v %v\nwant %+v %v", a, b, got, err, want, wantErr)
		}
	})
}

func BenchmarkParseChunkPrefix(b *testing.B) {
	data := []byte(vllmCompletionChunk)
	var p Prefix
	b.ReportAllocs()
	for b.Loop() {
		var c chunkInfo
		if err := parseChunkPrefix(data, &c, &p); err != nil {
			b.Fatal(err)
		}
	}
}
