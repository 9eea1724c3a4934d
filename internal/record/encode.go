package record

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as one JSON object, byte for byte what encoding/json
// writes for it with HTML escaping off (the same field order, omitted empty
// fields, string escapes and number formats), without reflection or
// allocation. ok is false, with dst unchanged, for what encoding/json would
// refuse or write differently than this code knows how to (a NaN or
// infinite float, a time outside year 0-9999 or not in UTC): the caller
// then falls back to encoding/json, which returns its own error.
//
// TestAppendJSONMatchesEncodingJSON and FuzzAppendJSON hold it to that.
func AppendJSON(dst []byte, r *Record) (_ []byte, ok bool) {
	n0 := len(dst)
	b := append(dst, `{"schema":`...)
	b = strconv.AppendInt(b, int64(r.Schema), 10)
	b = append(b, `,"run_id":`...)
	b = appendString(b, r.RunID)
	b = append(b, `,"label":`...)
	b = appendString(b, r.Label)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	b = append(b, `,"phase":`...)
	b = appendString(b, r.Phase)
	if r.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendString(b, r.RequestID)
	}
	b = append(b, `,"model":`...)
	b = appendString(b, r.Model)
	b = append(b, `,"url":`...)
	b = appendString(b, r.URL)
	b = append(b, `,"endpoint":`...)
	b = appendString(b, r.Endpoint)
	b = append(b, `,"stream":`...)
	b = strconv.AppendBool(b, r.Stream)
	b = append(b, `,"ignore_eos":`...)
	b = strconv.AppendBool(b, r.IgnoreEOS)
	b = append(b, `,"concurrency":`...)
	b = strconv.AppendInt(b, int64(r.Concurrency), 10)
	b = append(b, `,"rate":`...)
	if b, ok = appendFloat(b, r.Rate); !ok {
		return dst[:n0], false
	}
	b = append(b, `,"max_tokens":`...)
	b = strconv.AppendInt(b, int64(r.MaxTokens), 10)
	if r.Search != "" {
		b = append(b, `,"search":`...)
		b = appendString(b, r.Search)
	}
	if r.SearchSLO != "" {
		b = append(b, `,"search_slo":`...)
		b = appendString(b, r.SearchSLO)
	}
	if r.SearchMinGoodput != 0 {
		b = append(b, `,"search_min_goodput":`...)
		if b, ok = appendFloat(b, r.SearchMinGoodput); !ok {
			return dst[:n0], false
		}
	}
	b = append(b, `,"scheduled_at":`...)
	if b, ok = appendTime(b, r.ScheduledAt); !ok {
		return dst[:n0], false
	}
	b = append(b, `,"sent_at":`...)
	if b, ok = appendTime(b, r.SentAt); !ok {
		return dst[:n0], false
	}
	b = append(b, `,"queue_ms":`...)
	if b, ok = appendFloat(b, r.QueueMs); !ok {
		return dst[:n0], false
	}
	if r.TTFTMs != nil {
		b = append(b, `,"ttft_ms":`...)
		if b, ok = appendFloat(b, *r.TTFTMs); !ok {
			return dst[:n0], false
		}
	}
	if r.TTFOMs != nil {
		b = append(b, `,"ttfo_ms":`...)
		if b, ok = appendFloat(b, *r.TTFOMs); !ok {
			return dst[:n0], false
		}
	}
	b = append(b, `,"latency_ms":`...)
	if b, ok = appendFloat(b, r.LatencyMs); !ok {
		return dst[:n0], false
	}
	if len(r.ITLMs) > 0 {
		b = append(b, `,"itl_ms":[`...)
		for i, v := range r.ITLMs {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendFloat(b, v); !ok {
				return dst[:n0], false
			}
		}
		b = append(b, ']')
	}
	if r.TPOTMs != nil {
		b = append(b, `,"tpot_ms":`...)
		if b, ok = appendFloat(b, *r.TPOTMs); !ok {
			return dst[:n0], false
		}
	}
	if r.TimesFrom != "" {
		b = append(b, `,"times_from":`...)
		b = appendString(b, r.TimesFrom)
	}
	if r.ReadLagP99Ms != nil {
		b = append(b, `,"read_lag_p99_ms":`...)
		if b, ok = appendFloat(b, *r.ReadLagP99Ms); !ok {
			return dst[:n0], false
		}
	}
	if r.ReadLagMaxMs != nil {
		b = append(b, `,"read_lag_max_ms":`...)
		if b, ok = appendFloat(b, *r.ReadLagMaxMs); !ok {
			return dst[:n0], false
		}
	}
	if r.CoalescedEvents != 0 {
		b = append(b, `,"coalesced_events":`...)
		b = strconv.AppendInt(b, int64(r.CoalescedEvents), 10)
	}
	if r.LateChunks != 0 {
		b = append(b, `,"late_chunks":`...)
		b = strconv.AppendInt(b, int64(r.LateChunks), 10)
	}
	b = append(b, `,"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(r.PromptTokens), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(r.OutputTokens), 10)
	b = append(b, `,"tokens_from":`...)
	b = appendString(b, r.TokensFrom)
	if r.ReasoningTokens != 0 {
		b = append(b, `,"reasoning_tokens":`...)
		b = strconv.AppendInt(b, int64(r.ReasoningTokens), 10)
	}
	if r.ReasoningFrom != "" {
		b = append(b, `,"reasoning_from":`...)
		b = appendString(b, r.ReasoningFrom)
	}
	if r.CachedTokens != 0 {
		b = append(b, `,"cached_tokens":`...)
		b = strconv.AppendInt(b, int64(r.CachedTokens), 10)
	}
	if r.InputTokensRequested != 0 {
		b = append(b, `,"input_tokens_requested":`...)
		b = strconv.AppendInt(b, int64(r.InputTokensRequested), 10)
	}
	if r.ToolCalls != 0 {
		b = append(b, `,"tool_calls":`...)
		b = strconv.AppendInt(b, int64(r.ToolCalls), 10)
	}
	if r.FinishReason != "" {
		b = append(b, `,"finish_reason":`...)
		b = appendString(b, r.FinishReason)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, r.OK)
	if r.ErrorKind != "" {
		b = append(b, `,"error_kind":`...)
		b = appendString(b, r.ErrorKind)
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	if r.Shard != "" {
		b = append(b, `,"shard":`...)
		b = appendString(b, r.Shard)
	}
	if r.Host != "" {
		b = append(b, `,"host":`...)
		b = appendString(b, r.Host)
	}
	if r.ClockSkewMs != nil {
		b = append(b, `,"clock_skew_ms":`...)
		if b, ok = appendFloat(b, *r.ClockSkewMs); !ok {
			return dst[:n0], false
		}
	}
	if r.ClockSkewErrMs != nil {
		b = append(b, `,"clock_skew_err_ms":`...)
		if b, ok = appendFloat(b, *r.ClockSkewErrMs); !ok {
			return dst[:n0], false
		}
	}
	if r.SessionID != "" {
		b = append(b, `,"session_id":`...)
		b = appendString(b, r.SessionID)
	}
	if r.Turn != 0 {
		b = append(b, `,"turn":`...)
		b = strconv.AppendInt(b, int64(r.Turn), 10)
	}
	if r.HistoryMessages != 0 {
		b = append(b, `,"history_messages":`...)
		b = strconv.AppendInt(b, int64(r.HistoryMessages), 10)
	}
	if r.PromptSalt != "" {
		b = append(b, `,"prompt_salt":`...)
		b = appendString(b, r.PromptSalt)
	}
	if r.ServerVersion != "" {
		b = append(b, `,"server_version":`...)
		b = appendString(b, r.ServerVersion)
	}
	if r.ModelRoot != "" {
		b = append(b, `,"model_root":`...)
		b = appendString(b, r.ModelRoot)
	}
	return append(b, '}'), true
}

// appendFloat formats f as encoding/json does: like ES6's number to string
// conversion, %f style except for very small or large magnitudes, which get
// an exponent without padding (1e-7, not 1e-07).
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendTime writes t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, trailing zeros dropped) for UTC times of years 0-9999, the
// only ones records hold.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	if t.Location() != time.UTC {
		return b, false
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off:
// quotes, backslashes and control characters escaped (\b \f \n \r \t by
// name, the rest as \u00XX), invalid UTF-8 bytes replaced by \ufffd, and
// U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
