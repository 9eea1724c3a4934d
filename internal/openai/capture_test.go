package openai

import (
	"strings"
	"testing"
)

// TestCaptureStream: a conversation's answer is the text of its content
// deltas, in order, and its reasoning apart; the role and usage chunks add
// nothing; a reader without a capture keeps nothing.
func TestCaptureStream(t *testing.T) {
	in := "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
		"data: {\"choices\":[{\"delta\":{\"reasoning\":\"hmm\",\"reasoning_content\":\"hmm\"}}]}\n\n" +
		"data: {\"choices\":[{\"delta\":{\"content\":\"Hel\\\"lo\"}}]}\n\n" +
		"data: {\"choices\":[{\"delta\":{\"content\":\" w\\u00f6rld\"},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3}}\n\n" +
		"data: [DONE]\n\n"
	var c Capture
	sr := NewStreamReaderSize(strings.NewReader(in), 64)
	sr.SetCapture(&c)
	for {
		ev, err := sr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Done {
			break
		}
	}
	if string(c.Content) != "Hel\"lo wörld" || string(c.Reasoning) != "hmm" {
		t.Errorf("content %q reasoning %q", c.Content, c.Reasoning)
	}
	c.Reset()
	sr.SetCapture(nil)
	sr.Reset(strings.NewReader(in))
	for {
		if ev, err := sr.Next(); err != nil || ev.Done {
			break
		}
	}
	if len(c.Content)+len(c.Reasoning) != 0 {
		t.Errorf("captured without a capture: %q", c.Content)
	}
}

func TestCaptureWhole(t *testing.T) {
	var c Capture
	if err := CaptureText([]byte(`{"choices":[{"text":"one two"}]}`), &c); err != nil || string(c.Content) != "one two" {
		t.Errorf("completion: %q %v", c.Content, err)
	}
	c.Reset()
	if err := CaptureText([]byte(`{"choices":[{"message":{"content":"hi","reasoning_content":"r"}}]}`), &c); err != nil ||
		string(c.Content) != "hi" || string(c.Reasoning) != "r" {
		t.Errorf("chat: %q %q %v", c.Content, c.Reasoning, err)
	}
}

// FuzzCapture: what is captured is what the fast parser counted, byte for
// byte in length, on any chunk both accept.
func FuzzCapture(f *testing.F) {
	for _, in := range chunkSamples {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseChunk(data)
		var c Capture
		cerr := c.add(data)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("%q: parse %v, capture %v", data, err, cerr)
		}
		if err == nil && (len(c.Content) != info.contentBytes || len(c.Reasoning) != info.reasoningBytes) {
			t.Fatalf("%q: captured %d+%d bytes, counted %d+%d", data, len(c.Content), len(c.Reasoning), info.contentBytes, info.reasoningBytes)
		}
	})
}
