package record

import (
	"time"

	"servebench/internal/jsonscan"
)

// decoder parses record lines without reflection. It handles the lines
// writers produce (known lowercase keys, each once; strings without escape
// sequences; plain numbers) and reports false for anything else, so that
// the caller decodes that line with encoding/json instead. A line it
// accepts gives exactly the Record encoding/json would give: it never
// decides an edge case itself. FuzzDecodeMatchesEncodingJSON holds it to
// that.
//
// Strings that repeat from line to line (run_id, model, url, ...) are
// shared rather than allocated again, and float samples are carved out of
// larger blocks, so a long input costs few allocations. Records remain
// independent: no two share a slice element or a pointer target.
type decoder struct {
	next   int                     // the field expected next: writers put them in one order
	last   [numStringFields]string // the previous value of each string field
	slab   []float64               // where ITL samples and the optional floats are carved from
	floats []float64               // scratch for the ITL samples of the line
}

// String fields, indexing decoder.last.
const (
	sRunID = iota
	sLabel
	sPhase
	sRequestID
	sModel
	sURL
	sEndpoint
	sTimesFrom
	sTokensFrom
	sSearch
	sSearchSLO
	sReasoningFrom
	sFinishReason
	sErrorKind
	sError
	sShard
	sHost
	sSessionID
	sPromptSalt
	sServerVersion
	sModelRoot
	numStringFields
)

// Record fields by key, for the duplicate check.
const (
	fSchema = iota
	fRunID
	fLabel
	fSeq
	fPhase
	fRequestID
	fModel
	fURL
	fEndpoint
	fStream
	fIgnoreEOS
	fConcurrency
	fRate
	fMaxTokens
	fSearch
	fSearchSLO
	fSearchMinGoodput
	fScheduledAt
	fSentAt
	fQueueMs
	fTTFTMs
	fTTFOMs
	fLatencyMs
	fITLMs
	fTPOTMs
	fTimesFrom
	fReadLagP99Ms
	fReadLagMaxMs
	fCoalescedEvents
	fLateChunks
	fPromptTokens
	fOutputTokens
	fTokensFrom
	fReasoningTokens
	fReasoningFrom
	fCachedTokens
	fInputTokensRequested
	fToolCalls
	fFinishReason
	fStatus
	fOK
	fErrorKind
	fError
	fShard
	fHost
	fClockSkewMs
	fClockSkewErrMs
	fSessionID
	fTurn
	fHistoryMessages
	fPromptSalt
	fServerVersion
	fModelRoot
)

// fieldNames are the keys in the order writers put them, by field index.
var fieldNames = func() []string {
	names := make([]string, len(fieldByKey))
	for k, f := range fieldByKey {
		names[f] = k
	}
	return names
}()

// keyTokens are the keys by field index as writers put them: `"schema":`.
var keyTokens = func() []string {
	toks := make([]string, len(fieldNames))
	for f, k := range fieldNames {
		toks[f] = `"` + k + `":`
	}
	return toks
}()

var fieldByKey = map[string]int{
	"schema": fSchema, "run_id": fRunID, "label": fLabel, "seq": fSeq, "phase": fPhase, "request_id": fRequestID,
	"model": fModel, "url": fURL, "endpoint": fEndpoint, "stream": fStream, "ignore_eos": fIgnoreEOS,
	"concurrency": fConcurrency, "rate": fRate, "max_tokens": fMaxTokens,
	"search": fSearch, "search_slo": fSearchSLO, "search_min_goodput": fSearchMinGoodput,
	"scheduled_at": fScheduledAt, "sent_at": fSentAt, "queue_ms": fQueueMs, "ttft_ms": fTTFTMs, "ttfo_ms": fTTFOMs,
	"latency_ms": fLatencyMs, "itl_ms": fITLMs, "tpot_ms": fTPOTMs,
	"times_from": fTimesFrom, "read_lag_p99_ms": fReadLagP99Ms, "read_lag_max_ms": fReadLagMaxMs, "coalesced_events": fCoalescedEvents,
	"late_chunks":   fLateChunks,
	"prompt_tokens": fPromptTokens, "output_tokens": fOutputTokens, "tokens_from": fTokensFrom,
	"reasoning_tokens": fReasoningTokens, "reasoning_from": fReasoningFrom, "cached_tokens": fCachedTokens,
	"input_tokens_requested": fInputTokensRequested, "tool_calls": fToolCalls,
	"finish_reason": fFinishReason, "status": fStatus, "ok": fOK, "error_kind": fErrorKind, "error": fError,
	"shard": fShard, "host": fHost, "clock_skew_ms": fClockSkewMs, "clock_skew_err_ms": fClockSkewErrMs,
	"session_id": fSessionID, "turn": fTurn, "history_messages": fHistoryMessages, "prompt_salt": fPromptSalt,
	"server_version": fServerVersion, "model_root": fModelRoot,
}

// scan is a position in a line.
type scan struct {
	jsonscan.Cursor
}

// skipScalar skips a string, number or literal after an unknown key.
// Objects, arrays and strings that are not their own value are left to
// encoding/json.
func (s *scan) skipScalar() bool {
	switch c := s.Peek(); {
	case c == '"':
		_, utf8ok, ok := s.PlainString()
		return ok && utf8ok
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, ok := s.Number()
		return ok
	case c == 't' || c == 'f':
		_, ok := s.Bool()
		return ok
	case c == 'n':
		return s.Null()
	}
	return false
}

// string reads a string field, sharing the previous line's value when equal.
func (d *decoder) string(s *scan, field int) (string, bool) {
	raw, utf8ok, ok := s.PlainString()
	if !ok || !utf8ok {
		return "", false
	}
	if d.last[field] != string(raw) { // no allocation for the comparison
		d.last[field] = string(raw)
	}
	return d.last[field], true
}

// time reads a timestamp as time.Time's UnmarshalJSON does, parsing the
// common form (UTC, RFC 3339 with 0-9 fraction digits) itself.
func (d *decoder) time(s *scan) (time.Time, bool) {
	s.WS()
	start := s.Pos()
	raw, _, ok := s.PlainString()
	if !ok {
		return time.Time{}, false
	}
	if t, ok := parseUTC(raw); ok {
		return t, true
	}
	// Let time.Time decide, on the raw token as encoding/json would pass it.
	var t time.Time
	if t.UnmarshalJSON(s.Since(start)) != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseUTC parses 2006-01-02T15:04:05.999999999Z with the range checks
// of time's RFC 3339 parser; anything else is left to it.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)&1)
}

// carve returns a slice of n floats no other record shares.
func (d *decoder) carve(n int) []float64 {
	if n == 0 {
		return []float64{} // empty but not nil, as encoding/json gives for []
	}
	if n > len(d.slab) {
		d.slab = make([]float64, max(4096, n))
	}
	out := d.slab[:n:n]
	d.slab = d.slab[n:]
	return out
}

func (d *decoder) floatPtr(v float64) *float64 {
	p := &d.carve(1)[0]
	*p = v
	return p
}

// itl reads the ITL array.
func (d *decoder) itl(s *scan) ([]float64, bool) {
	d.floats = d.floats[:0]
	more, ok := s.Open('[', ']')
	for ok && more {
		var f float64
		if f, ok = s.Float(); !ok {
			return nil, false
		}
		d.floats = append(d.floats, f)
		more, ok = s.Next(']')
	}
	if !ok {
		return nil, false
	}
	out := d.carve(len(d.floats))
	copy(out, d.floats)
	return out, true
}

// decode parses line into r, which must be zero; false means the line is
// not in the form this decoder handles (r is then garbage).
func (d *decoder) decode(line []byte, r *Record) bool {
	s := &scan{jsonscan.New(line)}
	d.next = 0
	var seen uint64
	more, ok := s.Open('{', '}')
	for ok && more {
		f, known := d.next, true
		if f >= len(keyTokens) || !s.Literal(keyTokens[f]) { // the key expected next, as writers put it
			var key []byte
			if key, ok = s.Key(); !ok { // a key that could match a field ignoring case is left to encoding/json
				return false
			}
			f, known = fieldByKey[string(key)]
		}
		d.next = f + 1
		switch {
		case !known:
			ok = s.skipScalar()
		case seen&(1<<f) != 0:
			return false
		default:
			seen |= 1 << f
			ok = d.field(s, r, f)
		}
		if ok {
			more, ok = s.Next('}')
		}
	}
	return ok && s.End()
}

// field reads the value of field f into r.
func (d *decoder) field(s *scan, r *Record, f int) (ok bool) {
	switch f {
	case fSchema:
		r.Schema, ok = s.Int()
	case fRunID:
		r.RunID, ok = d.string(s, sRunID)
	case fLabel:
		r.Label, ok = d.string(s, sLabel)
	case fSeq:
		r.Seq, ok = s.Int()
	case fPhase:
		r.Phase, ok = d.string(s, sPhase)
	case fRequestID:
		r.RequestID, ok = d.string(s, sRequestID)
	case fModel:
		r.Model, ok = d.string(s, sModel)
	case fURL:
		r.URL, ok = d.string(s, sURL)
	case fEndpoint:
		r.Endpoint, ok = d.string(s, sEndpoint)
	case fStream:
		r.Stream, ok = s.Bool()
	case fIgnoreEOS:
		r.IgnoreEOS, ok = s.Bool()
	case fConcurrency:
		r.Concurrency, ok = s.Int()
	case fRate:
		r.Rate, ok = s.Float()
	case fMaxTokens:
		r.MaxTokens, ok = s.Int()
	case fSearch:
		r.Search, ok = d.string(s, sSearch)
	case fSearchSLO:
		r.SearchSLO, ok = d.string(s, sSearchSLO)
	case fSearchMinGoodput:
		r.SearchMinGoodput, ok = s.Float()
	case fScheduledAt:
		r.ScheduledAt, ok = d.time(s)
	case fSentAt:
		r.SentAt, ok = d.time(s)
	case fQueueMs:
		r.QueueMs, ok = s.Float()
	case fTTFTMs:
		var v float64
		if v, ok = s.Float(); ok {
			r.TTFTMs = d.floatPtr(v)
		}
	case fTTFOMs:
		var v float64
		if v, ok = s.Float(); ok {
			r.TTFOMs = d.floatPtr(v)
		}
	case fLatencyMs:
		r.LatencyMs, ok = s.Float()
	case fITLMs:
		r.ITLMs, ok = d.itl(s)
	case fTPOTMs:
		var v float64
		if v, ok = s.Float(); ok {
			r.TPOTMs = d.floatPtr(v)
		}
	case fTimesFrom:
		r.TimesFrom, ok = d.string(s, sTimesFrom)
	case fReadLagP99Ms:
		var v float64
		if v, ok = s.Float(); ok {
			r.ReadLagP99Ms = d.floatPtr(v)
		}
	case fReadLagMaxMs:
		var v float64
		if v, ok = s.Float(); ok {
			r.ReadLagMaxMs = d.floatPtr(v)
		}
	case fCoalescedEvents:
		r.CoalescedEvents, ok = s.Int()
	case fLateChunks:
		r.LateChunks, ok = s.Int()
	case fPromptTokens:
		r.PromptTokens, ok = s.Int()
	case fOutputTokens:
		r.OutputTokens, ok = s.Int()
	case fTokensFrom:
		r.TokensFrom, ok = d.string(s, sTokensFrom)
	case fReasoningTokens:
		r.ReasoningTokens, ok = s.Int()
	case fReasoningFrom:
		r.ReasoningFrom, ok = d.string(s, sReasoningFrom)
	case fCachedTokens:
		r.CachedTokens, ok = s.Int()
	case fInputTokensRequested:
		r.InputTokensRequested, ok = s.Int()
	case fToolCalls:
		r.ToolCalls, ok = s.Int()
	case fFinishReason:
		r.FinishReason, ok = d.string(s, sFinishReason)
	case fStatus:
		r.Status, ok = s.Int()
	case fOK:
		r.OK, ok = s.Bool()
	case fErrorKind:
		r.ErrorKind, ok = d.string(s, sErrorKind)
	case fError:
		r.Error, ok = d.string(s, sError)
	case fShard:
		r.Shard, ok = d.string(s, sShard)
	case fHost:
		r.Host, ok = d.string(s, sHost)
	case fClockSkewMs:
		var v float64
		if v, ok = s.Float(); ok {
			r.ClockSkewMs = d.floatPtr(v)
		}
	case fClockSkewErrMs:
		var v float64
		if v, ok = s.Float(); ok {
			r.ClockSkewErrMs = d.floatPtr(v)
		}
	case fSessionID:
		r.SessionID, ok = d.string(s, sSessionID)
	case fTurn:
		r.Turn, ok = s.Int()
	case fHistoryMessages:
		r.HistoryMessages, ok = s.Int()
	case fPromptSalt:
		r.PromptSalt, ok = d.string(s, sPromptSalt)
	case fServerVersion:
		r.ServerVersion, ok = d.string(s, sServerVersion)
	case fModelRoot:
		r.ModelRoot, ok = d.string(s, sModelRoot)
	}
	return ok
}
