package load

import (
	"errors"
	"fmt"
	"io"
	"time"

	"servebench/internal/openai"
	"servebench/internal/record"
)

// readResponsesStream reads a /v1/responses stream: event:/data: pairs
// that end with response.completed, not [DONE]. Output is any delta
// (response.output_text.delta, response.reasoning_text.delta and the
// reasoning summary's, response.function_call_arguments.delta) and the
// response.output_item.added that opens a function call, which carries
// its name: the call's first token, as the name delta is in chat. TTFT is
// the first of them, TTFO the first text or function-call one, an ITL
// sample every gap between them, as for chat. Tokens come from
// response.usage, else the output events counted. The stream succeeds
// when the terminal event says completed, or incomplete because
// max_output_tokens cut it (finish_reason length); response.failed, an
// incomplete for another reason, an error event and an end without a
// terminal event are stream failures.
func (a *attempter) readResponsesStream(rec *record.Record, rd *reader, sent time.Time, t *try) error {
	sr := rd.sr
	var last, endAt time.Time
	chunks, events := 0, 0
	var usage *openai.Usage
	var usageBuf openai.Usage
	var out outputCount
	clock := newChunkClock(t.resp, rd)
	fail := func(err error) error {
		clock.finish(rec)
		finishTokens(rec, usage, chunks)
		out.finish(rec, usage, chunks)
		return err
	}
	var end openai.ResponsesEvent // the terminal event
	for {
		data, errMsg, err := sr.NextData()
		now := time.Now()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF) && events == 0:
				return fail(protocolErr("no server-sent events in the response: does this server stream? It said: %s", said(rd.body.start())))
			case errors.Is(err, io.EOF):
				return fail(errors.New("stream ended before response.completed"))
			case errors.Is(err, errTooLarge):
				return fail(&kindError{kind: record.ErrProtocol, err: err})
			}
			return fail(fmt.Errorf("stream broke: %w", err))
		}
		events++
		if errMsg != "" {
			return fail(fmt.Errorf("error event in stream: %s", errMsg))
		}
		if string(data) == "[DONE]" {
			return fail(errors.New("stream ended with [DONE] before response.completed"))
		}
		ev, err := openai.ParseResponsesEvent(data)
		if err != nil {
			return fail(&kindError{kind: record.ErrProtocol, err: err})
		}
		if ev.Choices {
			return fail(protocolErr("the server answered /v1/responses with chat or completions chunks, not Responses API events (use --endpoint chat or completions): %s", openai.Clip(string(data))))
		}
		output, answer := false, false
		switch ev.Type {
		case openai.RespTextDelta:
			output, answer = ev.DeltaBytes > 0, true
		case openai.RespReasoningDelta, openai.RespSummaryDelta:
			output = ev.DeltaBytes > 0
			if output {
				out.reasoning++
			}
		case openai.RespArgumentsDelta:
			output, answer = ev.DeltaBytes > 0, true
			out.toolCalls++
		case openai.RespItemAdded:
			if ev.Item == "function_call" {
				output, answer = true, true
				out.toolCalls++
				out.toolCallIDs++
			}
		case openai.RespError:
			return fail(fmt.Errorf("error event in stream: %s", orSaid(ev.Reason, "no message")))
		case openai.RespCompleted, openai.RespIncomplete, openai.RespFailed:
			end = ev
		}
		if output {
			now = clock.at(now, true)
			if chunks == 0 {
				t.firstContent()
				rec.TTFTMs = record.Float(record.Ms(now.Sub(sent)))
			} else {
				rec.ITLMs = append(rec.ITLMs, record.Ms(now.Sub(last)))
			}
			last = now
			chunks++
			if answer && rec.TTFOMs == nil {
				rec.TTFOMs = record.Float(record.Ms(now.Sub(sent)))
			}
		}
		out.usageBad = out.usageBad || ev.UsageBad
		if ev.Usage != nil {
			usageBuf = *ev.Usage
			usage = &usageBuf
		}
		if end.Type != "" {
			endAt = clock.at(now, false)
			break
		}
	}
	rec.LatencyMs = record.Ms(endAt.Sub(sent)) // the terminal event's time
	clock.finish(rec)
	finishTokens(rec, usage, chunks)
	out.finish(rec, usage, chunks)
	status := end.Status
	if end.Type == openai.RespFailed && status == "" {
		status = "failed"
	} else if end.Type == openai.RespIncomplete && status == "" {
		status = "incomplete"
	}
	finish, ok := openai.Finish(status, end.Reason, rec.ToolCalls)
	if !ok {
		return responseFailed(status, end.Reason)
	}
	rec.FinishReason = finish
	if chunks == 0 {
		return protocolErr("stream ended cleanly but carried no content, reasoning or tool call")
	}
	if err := checkCounts(rec); err != nil {
		return err
	}
	if rec.OutputTokens > 1 {
		rec.TPOTMs = record.Float((rec.LatencyMs - *rec.TTFTMs) / float64(rec.OutputTokens-1))
	}
	return nil
}

// readResponsesBody reads a whole /v1/responses answer: the output items'
// text, reasoning and function calls, the status, and usage.
func (a *attempter) readResponsesBody(rec *record.Record, body io.Reader, sent time.Time) error {
	data, err := readWhole(rec, body, sent)
	if err != nil {
		return err
	}
	b, err := openai.ParseResponsesBody(data)
	if err != nil {
		return &kindError{kind: record.ErrProtocol, err: err}
	}
	switch {
	case b.Choices:
		return protocolErr("the server answered /v1/responses with a chat or completions body, not a response (use --endpoint chat or completions): %s", openai.Clip(string(data)))
	case b.ErrorBody:
		return protocolErr("error body with a 2xx status: %s", b.Reason)
	}
	rec.ToolCalls = b.FunctionCalls
	if u := b.Usage; u != nil {
		rec.PromptTokens, rec.OutputTokens, rec.TokensFrom = u.PromptTokens, u.CompletionTokens, record.TokensFromUsage
		rec.CachedTokens = u.CachedTokens
		if u.ReasoningSet {
			rec.ReasoningTokens, rec.ReasoningFrom = u.ReasoningTokens, record.TokensFromUsage
		}
	}
	finish, ok := openai.Finish(b.Status, b.Reason, b.FunctionCalls)
	if !ok {
		return responseFailed(b.Status, b.Reason)
	}
	rec.FinishReason = finish
	if b.TextBytes == 0 && b.ReasoningBytes == 0 && b.FunctionCalls == 0 {
		return protocolErr("response carried no content, reasoning or tool call")
	}
	return checkCounts(rec)
}

// responseFailed is the failure of an answer whose status is not a
// success: failed, cancelled, incomplete for a reason other than
// max_output_tokens.
func responseFailed(status, reason string) error {
	return fmt.Errorf("response %s: %s", status, orSaid(reason, "the server gave no reason"))
}

func orSaid(s, instead string) string {
	if s == "" {
		return instead
	}
	return s
}
