package openai

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, root, api, endpoint string
		bad                     bool
	}{
		{in: "http://localhost:8000", root: "http://localhost:8000", api: "http://localhost:8000/v1"},
		{in: "http://localhost:8000/", root: "http://localhost:8000", api: "http://localhost:8000/v1"},
		{in: "http://localhost:8000/v1", root: "http://localhost:8000", api: "http://localhost:8000/v1"},
		{in: "http://localhost:8000/v1/", root: "http://localhost:8000", api: "http://localhost:8000/v1"},
		{in: "http://h/v1/completions", root: "http://h", api: "http://h/v1", endpoint: EndpointCompletions},
		{in: "http://h/v1/chat/completions", root: "http://h", api: "http://h/v1", endpoint: EndpointChat},
		{in: "http://h/v1/responses/", root: "http://h", api: "http://h/v1", endpoint: EndpointResponses},
		// a proxy prefix in front of the API is kept
		{in: "https://gw.example/llm/v1", root: "https://gw.example/llm", api: "https://gw.example/llm/v1"},
		{in: "http://[::1]:8000", root: "http://[::1]:8000", api: "http://[::1]:8000/v1"},
		{in: "localhost:8000", bad: true},       // no scheme
		{in: "ftp://h", bad: true},              // wrong scheme
		{in: "http://h/v1?x=1", bad: true},      // query would be dropped
		{in: "http://u:secret@h/v1", bad: true}, // credentials would be logged
		{in: "http://", bad: true},
		{in: "http://h:99999/v1", bad: true},            // no such port
		{in: "http://h:0", bad: true},                   // nor this one
		{in: "http://[fe80::1%25eth0]:8000", bad: true}, // a zone: issue 13
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: want error, got %+v", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got.Root != tt.root || got.API != tt.api || got.Endpoint != tt.endpoint {
			t.Errorf("%q: got %+v", tt.in, got)
		}
	}
}

// TestParseTargetSuggests: a URL without a scheme gets the one to type.
func TestParseTargetSuggests(t *testing.T) {
	for _, in := range []string{"localhost:8000", "gpu1"} {
		_, err := ParseTarget(in)
		if want := "(did you mean http://" + in + "?)"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}
