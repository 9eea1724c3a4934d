package openai

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// MaxErrorLen bounds an error message taken from a server, so that a server
// answering with a megabyte of HTML does not bloat every record.
const MaxErrorLen = 300

// errorBody covers the error shapes servers send: vLLM's and OpenAI's
// {"error":{"message":..}}, TGI's and llama.cpp's {"error":"text"}, vLLM's
// older flat {"object":"error","message":..}, and FastAPI's {"detail":..}.
type errorBody struct {
	Error   json.RawMessage `json:"error"`
	Object  string          `json:"object"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail"`
}

type errorObject struct {
	Message string `json:"message"`
	Type    string `json:"type"`
}

// ErrorMessage extracts a one-line message from an error body, whatever its
// shape. It falls back to the body's text, trimmed and bounded.
func ErrorMessage(body []byte) string {
	msg, _ := parseError(body)
	if msg == "" { // a bare error object, as llama.cpp's "error:" lines carry
		var bare struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &bare) == nil {
			msg = bare.Message
		}
	}
	if msg == "" {
		msg = string(body)
	}
	return Clip(msg)
}

// StreamError reports whether a stream event is an error instead of a chunk,
// and its message. vLLM sends {"error":{...}} inside a 200 stream when
// generation fails; peers that count that as a success are wrong.
func StreamError(data []byte) (string, bool) {
	msg, ok := parseError(data)
	return Clip(msg), ok
}

func parseError(data []byte) (string, bool) {
	var b errorBody
	if json.Unmarshal(data, &b) != nil {
		return "", false
	}
	switch {
	case len(b.Error) > 0 && string(b.Error) != "null":
		var obj errorObject
		if json.Unmarshal(b.Error, &obj) == nil && (obj.Message != "" || obj.Type != "") {
			if obj.Message == "" {
				return obj.Type, true
			}
			return obj.Message, true
		}
		var s string
		if json.Unmarshal(b.Error, &s) == nil {
			return s, true
		}
		return string(b.Error), true
	case b.Object == "error":
		return b.Message, true
	case len(b.Detail) > 0:
		var s string
		if json.Unmarshal(b.Detail, &s) == nil {
			return s, true
		}
		return string(b.Detail), true
	}
	return "", false
}

// Clip makes s one bounded line of valid UTF-8.
func Clip(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if len(s) <= MaxErrorLen {
		return s
	}
	cut := MaxErrorLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
