package record

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
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
	sModel
	sURL
	sEndpoint
	sTokensFrom
	sFinishReason
	sErrorKind
	sError
	numStringFields
)

// Record fields by key, for the duplicate check.
const (
	fSchema = iota
	fRunID
	fLabel
	fSeq
	fPhase
	fModel
	fURL
	fEndpoint
	fStream
	fIgnoreEOS
	fConcurrency
	fRate
	fMaxTokens
	fScheduledAt
	fSentAt
	fQueueMs
	fTTFTMs
	fLatencyMs
	fITLMs
	fTPOTMs
	fPromptTokens
	fOutputTokens
	fTokensFrom
	fFinishReason
	fStatus
	fOK
	fErrorKind
	fError
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
var keyTokens = func() [][]byte {
	toks := make([][]byte, len(fieldNames))
	for f, k := range fieldNames {
		toks[f] = []byte(`"` + k + `":`)
	}
	return toks
}()

var fieldByKey = map[string]int{
	"schema": fSchema, "run_id": fRunID, "label": fLabel, "seq": fSeq, "phase": fPhase,
	"model": fModel, "url": fURL, "endpoint": fEndpoint, "stream": fStream, "ignore_eos": fIgnoreEOS,
	"concurrency": fConcurrency, "rate": fRate, "max_tokens": fMaxTokens,
	"scheduled_at": fScheduledAt, "sent_at": fSentAt, "queue_ms": fQueueMs, "ttft_ms": fTTFTMs,
	"latency_ms": fLatencyMs, "itl_ms": fITLMs, "tpot_ms": fTPOTMs,
	"prompt_tokens": fPromptTokens, "output_tokens": fOutputTokens, "tokens_from": fTokensFrom,
	"finish_reason": fFinishReason, "status": fStatus, "ok": fOK, "error_kind": fErrorKind, "error": fError,
}

// scan is a position in a line.
type scan struct {
	b []byte
	i int
}

func (s *scan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c; false if c is not next.
func (s *scan) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string token without escapes or control
// characters, returning its raw contents; utf8ok tells whether they are
// valid UTF-8 (encoding/json would replace invalid bytes).
func (s *scan) plainString() (raw []byte, utf8ok, ok bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	end := bytes.IndexByte(s.b[start:], '"')
	if end < 0 {
		return nil, false, false
	}
	raw = s.b[start : start+end]
	ascii := true
	for _, c := range raw {
		if c < 0x20 || c == '\\' {
			return nil, false, false // an escape (perhaps of a quote) or a control character
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	s.i = start + end + 1
	return raw, ascii || utf8.Valid(raw), true
}

// number reads a JSON number token; isInt tells it has no fraction or
// exponent.
func (s *scan) number() (tok []byte, isInt, ok bool) {
	s.ws()
	b, i := s.b, s.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false, false
		}
	}
	s.i = i
	return b[start:i], isInt, true
}

// str views b as a string for a call that does not keep it.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// float reads a number, converting it itself in the same pass over its
// digits when exactFloat would, else with strconv.
func (s *scan) float() (float64, bool) {
	f, tok, exact, ok := s.floatToken()
	if !ok || exact {
		return f, ok
	}
	f, err := strconv.ParseFloat(str(tok), 64)
	return f, err == nil
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactFloat converts a number token of the usual form (digits, a point,
// digits, no exponent) when its digits fit in 2^53 and its scale is at
// most 10^22: the mantissa and the power of ten are then exact float64s,
// and one IEEE division or multiplication rounds correctly, so the result
// is exactly strconv.ParseFloat's (its own first fast path, Clinger's).
// Other tokens are left to strconv.
func exactFloat(tok []byte) (float64, bool) {
	s := scan{b: tok}
	f, _, exact, ok := s.floatToken()
	return f, ok && exact && s.i == len(tok)
}

// floatToken reads a JSON number token as number does and, when exact,
// converts it as exactFloat explains, from the digits as it reads them.
func (s *scan) floatToken() (f float64, tok []byte, exact, ok bool) {
	s.ws()
	b, i := s.b, s.i
	start := i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	digits, scale := 0, 0 // significant digits (no leading zeros); digits after the point
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			mant = mant*10 + uint64(b[i]-'0')
			digits++
		}
	default:
		return 0, nil, false, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if digits > 0 || b[i] != '0' {
				digits++
			}
			mant = mant*10 + uint64(b[i]-'0') // wraps past 19 digits, when it is not used
			scale++
		}
		if i == d {
			return 0, nil, false, false
		}
	}
	exact = digits <= 15 && scale <= 22
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		exact = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, nil, false, false
		}
	}
	s.i = i
	if exact {
		f = float64(mant) / pow10[scale]
		if neg {
			f = -f
		}
	}
	return f, b[start:i], exact, true
}

func (s *scan) int() (int, bool) {
	tok, isInt, ok := s.number()
	if !ok || !isInt {
		return 0, false
	}
	n, err := strconv.ParseInt(str(tok), 10, strconv.IntSize)
	return int(n), err == nil
}

func (s *scan) bool() (bool, bool) {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
		return true, true
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// skipScalar skips a string, number or literal after an unknown key.
// Objects and arrays are left to encoding/json.
func (s *scan) skipScalar() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, utf8ok, ok := s.plainString()
		return ok && utf8ok
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, ok := s.number()
		return ok
	case c == 't' || c == 'f':
		_, ok := s.bool()
		return ok
	case c == 'n' && len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null":
		s.i += 4
		return true
	}
	return false
}

// string reads a string field, sharing the previous line's value when equal.
func (d *decoder) string(s *scan, field int) (string, bool) {
	raw, utf8ok, ok := s.plainString()
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
	start := s.i
	raw, _, ok := s.plainString()
	if ok {
		if t, ok := parseUTC(raw); ok {
			return t, true
		}
	}
	// Let time.Time decide, on the raw token as encoding/json would pass it.
	s.i = start
	s.ws()
	tokStart := s.i
	if _, _, ok := s.plainString(); !ok {
		return time.Time{}, false
	}
	var t time.Time
	if t.UnmarshalJSON(s.b[tokStart:s.i]) != nil {
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
	if !s.consume('[') {
		return nil, false
	}
	d.floats = d.floats[:0]
	if !s.consume(']') {
		for {
			f, ok := s.float()
			if !ok {
				return nil, false
			}
			d.floats = append(d.floats, f)
			if s.consume(']') {
				break
			}
			if !s.consume(',') {
				return nil, false
			}
		}
	}
	out := d.carve(len(d.floats))
	copy(out, d.floats)
	return out, true
}

// decode parses line into r, which must be zero; false means the line is
// not in the form this decoder handles (r is then garbage).
func (d *decoder) decode(line []byte, r *Record) bool {
	s := &scan{b: line}
	d.next = 0
	if !s.consume('{') {
		return false
	}
	var seen uint32
	if s.consume('}') {
		s.ws()
		return s.i == len(s.b)
	}
	for {
		var key []byte
		f, known := d.next, false
		if s.ws(); f < len(keyTokens) && bytes.HasPrefix(s.b[s.i:], keyTokens[f]) {
			s.i += len(keyTokens[f]) // the key expected next, as writers put it
			known = true
		} else {
			var ok bool
			if key, _, ok = s.plainString(); !ok || !s.consume(':') {
				return false
			}
			f, known = fieldByKey[string(key)]
		}
		d.next = f + 1
		if !known {
			for _, c := range key { // it could match a field ignoring case
				if c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
					return false
				}
			}
			if !s.skipScalar() {
				return false
			}
		} else {
			if seen&(1<<f) != 0 {
				return false
			}
			seen |= 1 << f
			if !d.field(s, r, f) {
				return false
			}
		}
		if s.consume('}') {
			break
		}
		if !s.consume(',') {
			return false
		}
	}
	s.ws()
	return s.i == len(s.b)
}

// field reads the value of field f into r.
func (d *decoder) field(s *scan, r *Record, f int) (ok bool) {
	switch f {
	case fSchema:
		r.Schema, ok = s.int()
	case fRunID:
		r.RunID, ok = d.string(s, sRunID)
	case fLabel:
		r.Label, ok = d.string(s, sLabel)
	case fSeq:
		r.Seq, ok = s.int()
	case fPhase:
		r.Phase, ok = d.string(s, sPhase)
	case fModel:
		r.Model, ok = d.string(s, sModel)
	case fURL:
		r.URL, ok = d.string(s, sURL)
	case fEndpoint:
		r.Endpoint, ok = d.string(s, sEndpoint)
	case fStream:
		r.Stream, ok = s.bool()
	case fIgnoreEOS:
		r.IgnoreEOS, ok = s.bool()
	case fConcurrency:
		r.Concurrency, ok = s.int()
	case fRate:
		r.Rate, ok = s.float()
	case fMaxTokens:
		r.MaxTokens, ok = s.int()
	case fScheduledAt:
		r.ScheduledAt, ok = d.time(s)
	case fSentAt:
		r.SentAt, ok = d.time(s)
	case fQueueMs:
		r.QueueMs, ok = s.float()
	case fTTFTMs:
		var v float64
		if v, ok = s.float(); ok {
			r.TTFTMs = d.floatPtr(v)
		}
	case fLatencyMs:
		r.LatencyMs, ok = s.float()
	case fITLMs:
		r.ITLMs, ok = d.itl(s)
	case fTPOTMs:
		var v float64
		if v, ok = s.float(); ok {
			r.TPOTMs = d.floatPtr(v)
		}
	case fPromptTokens:
		r.PromptTokens, ok = s.int()
	case fOutputTokens:
		r.OutputTokens, ok = s.int()
	case fTokensFrom:
		r.TokensFrom, ok = d.string(s, sTokensFrom)
	case fFinishReason:
		r.FinishReason, ok = d.string(s, sFinishReason)
	case fStatus:
		r.Status, ok = s.int()
	case fOK:
		r.OK, ok = s.bool()
	case fErrorKind:
		r.ErrorKind, ok = d.string(s, sErrorKind)
	case fError:
		r.Error, ok = d.string(s, sError)
	}
	return ok
}
