package load

import (
	"math"
	"strings"
	"testing"
	"time"

	"servebench/internal/openai"
	"servebench/internal/openai/openaitest"
	"servebench/internal/record"
)

func chat(c *Config) { c.Endpoint = openai.EndpointChat }

// TestReasoningAnswers: a reasoning model's stream, in reasoning_content
// alone or in both keys (one token, not two): TTFT at the first reasoning
// chunk, TTFO at the first content chunk, every output chunk an ITL gap,
// reasoning tokens from usage's details (or the chunks counted).
func TestReasoningAnswers(t *testing.T) {
	for _, both := range []bool{false, true} {
		f := &openaitest.Server{TTFT: 20 * time.Millisecond, ITL: 10 * time.Millisecond, Tokens: 6, Reasoning: 3, BothReasoningKeys: both, CachedTokens: 2}
		recs, _, err := runFake(t, f, chat)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.OK || r.TTFTMs == nil || r.TTFOMs == nil || r.OutputTokens != 6 || r.ReasoningTokens != 3 ||
				r.ReasoningFrom != record.TokensFromUsage || r.CachedTokens != 2 || len(r.ITLMs) != 5 || r.ToolCalls != 0 {
				t.Fatalf("both keys %v: record %+v", both, r)
			}
			// TTFO is the 4th output chunk's time (3 reasoning chunks, then
			// the answer): TTFT plus the first three gaps, exactly. The
			// gaps themselves are the server's pacing, 10 ms each, which a
			// loaded machine stretches (by 95 ms once at load 7) or squeezes.
			gap := *r.TTFOMs - *r.TTFTMs
			if sum := r.ITLMs[0] + r.ITLMs[1] + r.ITLMs[2]; math.Abs(gap-sum) > 0.01 || gap < 15 {
				t.Errorf("both keys %v: ttfo - ttft = %.2f ms, want the first three gaps' %.2f, about 30 (ttft %.2f itl %v)", both, gap, sum, *r.TTFTMs, r.ITLMs)
			}
		}
	}
	// Without usage, the reasoning chunks are counted.
	f := &openaitest.Server{Tokens: 5, Reasoning: 2, BothReasoningKeys: true, UsageJSON: "null"}
	recs, _, err := runFake(t, f, chat)
	if err != nil {
		t.Fatal(err)
	}
	if r := recs[0]; !r.OK || r.ReasoningTokens != 2 || r.ReasoningFrom != record.TokensFromChunks || r.OutputTokens != 5 || r.TokensFrom != record.TokensFromChunks {
		t.Errorf("record %+v", r)
	}
}

// TestToolCallAnswers: an answer made only of tool calls succeeds,
// streamed or whole, and counts its calls.
func TestToolCallAnswers(t *testing.T) {
	for _, stream := range []bool{true, false} {
		f := &openaitest.Server{TTFT: 10 * time.Millisecond, ITL: 5 * time.Millisecond, Tokens: 4, ToolCalls: 2}
		recs, _, err := runFake(t, f, func(c *Config) { chat(c); c.Stream = stream })
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.OK || r.ToolCalls != 2 || r.FinishReason != "tool_calls" || r.OutputTokens != 4 {
				t.Fatalf("stream %v: record %+v", stream, r)
			}
			if stream && (r.TTFOMs == nil || *r.TTFOMs != *r.TTFTMs || len(r.ITLMs) != 3) {
				t.Errorf("stream: ttft %v ttfo %v itl %v", r.TTFTMs, r.TTFOMs, r.ITLMs)
			}
		}
	}
}

// TestUnusableUsage: counts a server cannot mean fall back to the chunks
// (marked), or, when usable but impossible, fail as protocol.
func TestUnusableUsage(t *testing.T) {
	for _, tt := range []struct {
		usage string
		from  string
		kind  string
	}{
		{`{"prompt_tokens":4,"completion_tokens":3.5,"total_tokens":7.5}`, record.TokensFromBadUsage, ""},
		{`{"prompt_tokens":"4","completion_tokens":3}`, record.TokensFromBadUsage, ""},
		{`{"prompt_tokens":4,"completion_tokens":123456789012345678901}`, record.TokensFromBadUsage, ""},
		{`{"prompt_tokens":4,"completion_tokens":99}`, record.TokensFromUsage, record.ErrProtocol},         // over max_tokens
		{`{"prompt_tokens":4294967296,"completion_tokens":3}`, record.TokensFromUsage, record.ErrProtocol}, // past 2^31-1
	} {
		for _, stream := range []bool{true, false} {
			f := &openaitest.Server{Tokens: 3, UsageJSON: tt.usage}
			recs, _, err := runFake(t, f, func(c *Config) { c.Stream = stream; c.Requests = 1 })
			if err != nil {
				t.Fatal(err)
			}
			r := recs[0]
			switch {
			case tt.kind != "":
				if r.OK || r.ErrorKind != tt.kind || !strings.Contains(r.Error, "usage reports") {
					t.Errorf("%s stream %v: %+v", tt.usage, stream, r)
				}
			case !stream:
				if !r.OK || r.TokensFrom != record.TokensFromNone {
					t.Errorf("%s whole: %+v", tt.usage, r)
				}
			case !r.OK || r.TokensFrom != tt.from || r.OutputTokens != 3:
				t.Errorf("%s stream: %+v", tt.usage, r)
			}
		}
	}
}

// TestToolCallCount: calls are counted by the deltas' index (so a server
// that repeats the id in every delta is not counted a call per delta),
// bounded by the deltas, else by the ids, else one.
func TestToolCallCount(t *testing.T) {
	for _, tt := range []struct {
		n    outputCount
		want int
	}{
		{outputCount{toolCalls: 6, toolCallIDs: 6, indexes: 1}, 1}, // the id repeated in every delta of one call
		{outputCount{toolCalls: 6, toolCallIDs: 2, indexes: 2}, 2}, // vLLM, OpenAI: two calls
		{outputCount{toolCalls: 2, indexes: 9}, 2},                 // an index past the deltas
		{outputCount{toolCalls: 3, toolCallIDs: 3}, 3},             // ids, no index
		{outputCount{toolCalls: 3}, 1},                             // neither
		{outputCount{}, 0},
	} {
		if got := tt.n.calls(); got != tt.want {
			t.Errorf("%+v: %d calls, want %d", tt.n, got, tt.want)
		}
	}
}
