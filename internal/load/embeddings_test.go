package load

import (
	"errors"
	"strings"
	"testing"
	"time"

	"servebench/internal/dataset"
	"servebench/internal/openai"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
	"servebench/internal/setting"
)

// TestEmbeddings: batches of prompts, one record each, never streamed,
// prompt_tokens from usage, both HTTP clients alike.
func TestEmbeddings(t *testing.T) {
	for _, netHTTP := range []bool{false, true} {
		f := &openaitest.Server{TTFT: 10 * time.Millisecond}
		recs, res, err := runFake(t, f, func(c *Config) {
			c.Endpoint, c.BatchSize, c.Stream, c.NetHTTP, c.FirstTokenTimeout = openai.EndpointEmbeddings, 3, true, netHTTP, time.Millisecond
			c.Dataset = dataset.Config{Prompts: []string{"abcd"}}
		})
		if err != nil || res.Failed != 0 || len(recs) != 3 || f.Embeds.Load() != 3 {
			t.Fatalf("net/http %v: %v, %d records, result %+v", netHTTP, err, len(recs), res)
		}
		for _, r := range recs {
			if !r.OK || r.Stream || r.MaxTokens != 0 || r.PromptTokens != 3*openaitest.EmbedTokens("abcd") || r.OutputTokens != 0 ||
				r.TokensFrom != record.TokensFromUsage || r.TTFTMs != nil || r.LatencyMs < 10 {
				t.Errorf("net/http %v: record %+v", netHTTP, r)
			}
		}
	}
}

func TestEmbeddingsFailures(t *testing.T) {
	for _, tc := range []struct {
		fault, kind, msg string
	}{
		{openaitest.FaultJSON200, record.ErrProtocol, "choices, not data"},
		{openaitest.FaultHTTP500, record.ErrHTTP, "boom"},
	} {
		recs, _, err := runFake(t, &openaitest.Server{Fault: tc.fault}, func(c *Config) { c.Endpoint = openai.EndpointEmbeddings })
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.OK || r.ErrorKind != tc.kind || !strings.Contains(r.Error, tc.msg) {
				t.Errorf("%s: record %+v", tc.fault, r)
			}
		}
	}
}

func TestEmbeddingsConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"batch for chat", Config{Endpoint: openai.EndpointChat, BatchSize: 2}, "{BatchSize} is for {Endpoint} embeddings"},
		{"negative batch", Config{Endpoint: openai.EndpointEmbeddings, BatchSize: -1}, "{BatchSize} -1"},
		{"URL disagrees", Config{URL: "http://h/v1/embeddings", Endpoint: openai.EndpointChat}, "{URL} names the embeddings endpoint"},
		{"unknown", Config{Endpoint: "images"}, `{Endpoint} "images"`},
	} {
		cfg := tc.cfg
		if cfg.URL == "" {
			cfg.URL = "http://h"
		}
		cfg.Requests = 1
		err := cfg.Validate()
		var se *setting.Error
		if !errors.As(err, &se) || !strings.Contains(se.Error(), strings.NewReplacer("{", "", "}", "").Replace(tc.err)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
	cfg := Config{URL: "http://h/v1/embeddings", Requests: 1, Stream: true, IgnoreEOS: true}
	if err := cfg.Validate(); err != nil || cfg.Endpoint != openai.EndpointEmbeddings || cfg.Stream || cfg.IgnoreEOS || cfg.BatchSize != 1 {
		t.Errorf("inferred: %v, %+v", err, cfg)
	}
}
