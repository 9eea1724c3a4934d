// Package jsonscan is a zero-allocation cursor over JSON bytes for the
// project's hand-written decoders (the SSE chunk parser in openai, the
// record line decoder in record). It only lexes: every method reports
// false for what it does not handle, and the decoder then leaves the whole
// text to encoding/json, which decides every edge case and supplies the
// error. A method that returns true agrees with encoding/json on the same
// bytes; the fuzz tests hold it to that.
package jsonscan

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Cursor is a position in JSON text. Methods skip the whitespace before
// the token they read; on false the position is unspecified, since the
// caller gives up on the text.
type Cursor struct {
	b     []byte
	i     int
	depth int // of the arrays and objects Skip is inside
}

// New returns a cursor at the start of b, which it reads but never changes.
func New(b []byte) Cursor { return Cursor{b: b} }

// Pos is the offset of the cursor in the text, for Since.
func (s *Cursor) Pos() int { return s.i }

// B is the text the cursor reads.
func (s *Cursor) B() []byte { return s.b }

// Seek moves the cursor to pos, at the top level: for a decoder resuming
// a text whose beginning it read before (the same bytes read the same).
func (s *Cursor) Seek(pos int) { s.i, s.depth = pos, 0 }

// Since returns the text from pos to the cursor: the token just read, as
// encoding/json would pass it to an Unmarshaler.
func (s *Cursor) Since(pos int) []byte { return s.b[pos:s.i] }

// WS skips whitespace, as JSON defines it.
func (s *Cursor) WS() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Peek skips whitespace and returns the byte next, or 0 at the end (no
// JSON value starts with 0): it tells which kind of value follows.
func (s *Cursor) Peek() byte {
	s.WS()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// End reports whether only whitespace remains: encoding/json rejects
// anything after the value.
func (s *Cursor) End() bool {
	s.WS()
	return s.i == len(s.b)
}

// Consume skips whitespace and then c; false if c is not next.
func (s *Cursor) Consume(c byte) bool {
	s.WS()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Literal skips whitespace and then lit; false if lit is not next. It
// reads true, false and null, and any fixed token a decoder expects.
func (s *Cursor) Literal(lit string) bool {
	s.WS()
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// Null consumes a null literal if one is next: for most fields
// encoding/json leaves the value unchanged then.
func (s *Cursor) Null() bool { return s.Literal("null") }

// Bool reads true or false.
func (s *Cursor) Bool() (v, ok bool) {
	if s.Literal("true") {
		return true, true
	}
	return false, s.Literal("false")
}

// Open consumes open ('{' or '['); more tells whether members follow
// before closing.
func (s *Cursor) Open(open, closing byte) (more, ok bool) {
	if !s.Consume(open) {
		return false, false
	}
	return !s.Consume(closing), true
}

// Next reads the ',' before another member, or the closing bracket.
func (s *Cursor) Next(closing byte) (more, ok bool) {
	if s.Consume(',') {
		return true, true
	}
	return false, s.Consume(closing)
}

// Key reads an object key and its ':' when the key can match a struct
// field only by being equal to its name: no escapes, no ASCII capitals,
// nothing outside ASCII (encoding/json also matches keys that differ from
// a field's name in case, by Unicode folding), given lowercase field names.
// Other keys are left to encoding/json. The key is valid until the text
// changes.
func (s *Cursor) Key() ([]byte, bool) {
	s.WS()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c >= 'a' && c <= 'z' || c == '_': // the usual bytes, tested first
		case c == '"':
			k := s.b[s.i+1 : j]
			s.i = j + 1
			return k, s.Consume(':')
		case c < 0x20, c == '\\', c >= 'A' && c <= 'Z', c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// PlainString reads a string without escapes or control characters and
// returns its raw contents, valid until the text changes; utf8ok tells
// whether they are valid UTF-8 (encoding/json would replace invalid bytes
// with U+FFFD, so only then is raw the decoded value).
func (s *Cursor) PlainString() (raw []byte, utf8ok, ok bool) {
	s.WS()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	ascii := true
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			raw = s.b[s.i+1 : j]
			s.i = j + 1
			return raw, ascii || utf8.Valid(raw), true
		case c == '\\' || c < 0x20:
			return nil, false, false // an escape (perhaps of a quote) or a control character
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// StringLen reads any string and returns its length once unescaped as
// encoding/json unescapes it: invalid UTF-8 bytes and lone surrogates
// become U+FFFD (3 bytes). It counts without building the string.
func (s *Cursor) StringLen() (int, bool) {
	s.WS()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, false
	}
	b, n := s.b, 0
	for i := s.i + 1; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return n, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			l, size := escapeLen(b[i:])
			if size == 0 {
				return 0, false
			}
			n += l
			i += size
		case c < utf8.RuneSelf:
			n++
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			n += utf8.RuneLen(r) // 3 for an invalid byte's U+FFFD
			i += size
		}
	}
	return 0, false
}

// escapeLen measures the escape sequence b starts with: l bytes once
// unescaped, size bytes in the text; size 0 for an invalid escape. A
// surrogate pair is one sequence; a lone surrogate becomes U+FFFD.
func escapeLen(b []byte) (l, size int) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1, 2
	case 'u':
		r, ok := hex4(b[2:])
		if !ok {
			return 0, 0
		}
		if utf16.IsSurrogate(r) {
			if r2, ok := u4(b[6:]); ok && utf16.DecodeRune(r, r2) != utf8.RuneError {
				return 4, 12
			}
			r = utf8.RuneError
		}
		return utf8.RuneLen(r), 6
	}
	return 0, 0
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// u4 reads a \uXXXX escape.
func u4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hex4(b[2:])
}

// Number reads a number token as JSON defines it (no '+', no leading
// zeros, no bare '.'); isInt tells it has no fraction or exponent.
func (s *Cursor) Number() (tok []byte, isInt, ok bool) {
	s.WS()
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
		if i, ok = exponent(b, i+1); !ok {
			return nil, false, false
		}
	}
	s.i = i
	return b[start:i], isInt, true
}

// exponent reads the sign and digits of an exponent from b[i:], the 'e'
// read; it returns the offset after them.
func exponent(b []byte, i int) (int, bool) {
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	d := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i, i > d
}

// Int reads an integer that fits an int, as encoding/json reads one into
// an int field (a fraction or exponent fails there too).
func (s *Cursor) Int() (int, bool) {
	tok, isInt, ok := s.Number()
	if !ok || !isInt {
		return 0, false
	}
	n, err := strconv.Atoi(str(tok))
	return n, err == nil
}

// str views b as a string for a call that does not keep it.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Float reads a number as encoding/json reads one into a float64,
// converting it itself in the same pass over its digits when exactFloat
// would, else with strconv.
func (s *Cursor) Float() (float64, bool) {
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
// and one IEEE division rounds correctly, so the result is exactly
// strconv.ParseFloat's (its own first fast path, Clinger's). Other tokens
// are left to strconv.
func exactFloat(tok []byte) (float64, bool) {
	s := New(tok)
	f, _, exact, ok := s.floatToken()
	return f, ok && exact && s.i == len(tok)
}

// floatToken reads a number token as Number does and, when exact,
// converts it as exactFloat explains, from the digits as it reads them.
func (s *Cursor) floatToken() (f float64, tok []byte, exact, ok bool) {
	s.WS()
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
		if i, ok = exponent(b, i+1); !ok {
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

// maxDepth bounds the nesting Skip follows; deeper text goes to
// encoding/json (whose own limit is 10000), and the stack stays small.
const maxDepth = 100

// Skip validates and skips any value, as encoding/json skips the value
// of a key it has no field for.
func (s *Cursor) Skip() bool {
	switch c := s.Peek(); {
	case c == '"':
		_, ok := s.StringLen()
		return ok
	case c == '{', c == '[':
		return s.skipNested(c)
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, ok := s.Number()
		return ok
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Null()
	}
	return false
}

// skipNested skips the object or array that c opens, within maxDepth.
func (s *Cursor) skipNested(c byte) bool {
	if s.depth++; s.depth > maxDepth {
		return false
	}
	ok := false
	if c == '{' {
		ok = s.skipObject()
	} else {
		ok = s.skipArray()
	}
	s.depth--
	return ok
}

// skipObject skips an object whose keys may be any strings.
func (s *Cursor) skipObject() bool {
	more, ok := s.Open('{', '}')
	for ok && more {
		if _, ok = s.StringLen(); !ok || !s.Consume(':') || !s.Skip() {
			return false
		}
		more, ok = s.Next('}')
	}
	return ok
}

// skipArray skips an array of any values.
func (s *Cursor) skipArray() bool {
	more, ok := s.Open('[', ']')
	for ok && more {
		if !s.Skip() {
			return false
		}
		more, ok = s.Next(']')
	}
	return ok
}
