package jsonscan

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestWSAndEnd(t *testing.T) {
	for _, tc := range []struct {
		in  string
		pos int
		end bool
	}{
		{"", 0, true},
		{" \t\r\n", 4, true},
		{"  x ", 2, false},
		{"\v1", 0, false}, // not JSON whitespace
		{"\u00a01", 0, false},
	} {
		s := New([]byte(tc.in))
		s.WS()
		if s.Pos() != tc.pos {
			t.Errorf("WS(%q) at %d, want %d", tc.in, s.Pos(), tc.pos)
		}
		if s := New([]byte(tc.in)); s.End() != tc.end {
			t.Errorf("End(%q) = %v", tc.in, !tc.end)
		}
	}
}

func TestConsumePeekLiteral(t *testing.T) {
	s := New([]byte(` { "a" : nul null  truefalse `))
	steps := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"peek {", func() bool { return s.Peek() == '{' }, true},
		{"consume [", func() bool { return s.Consume('[') }, false},
		{"consume {", func() bool { return s.Consume('{') }, true},
		{"peek \"", func() bool { return s.Peek() == '"' }, true},
		{"literal key", func() bool { return s.Literal(`"a"`) }, true},
		{"consume :", func() bool { return s.Consume(':') }, true},
		{"null on nul", func() bool { return s.Null() }, false},
		{"literal nul", func() bool { return s.Literal("nul") }, true},
		{"null", func() bool { return s.Null() }, true},
		{"bool true", func() bool { v, ok := s.Bool(); return v && ok }, true},
		{"bool false", func() bool { v, ok := s.Bool(); return !v && ok }, true},
		{"bool at end", func() bool { _, ok := s.Bool(); return ok }, false},
		{"peek at end", func() bool { return s.Peek() == 0 }, true},
		{"end", s.End, true},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("%s: %v at %d", st.name, got, s.Pos())
		}
	}
}

func TestOpenNext(t *testing.T) {
	for _, tc := range []struct {
		in    string
		n     int // members read
		ok    bool
		open  byte
		close byte
	}{
		{"[]", 0, true, '[', ']'},
		{" [ 1 , 2 ,3 ] ", 3, true, '[', ']'},
		{"[1,]", 1, false, '[', ']'},
		{"[1 2]", 1, false, '[', ']'},
		{"[1", 1, false, '[', ']'},
		{"{}", 0, true, '{', '}'},
		{"[}", 0, false, '{', '}'},
	} {
		s := New([]byte(tc.in))
		n := 0
		more, ok := s.Open(tc.open, tc.close)
		for ok && more {
			if _, _, ok = s.Number(); !ok {
				break
			}
			n++
			more, ok = s.Next(tc.close)
		}
		if n != tc.n || ok != tc.ok || (ok && !s.End()) {
			t.Errorf("%q: %d members, ok %v; want %d, %v", tc.in, n, ok, tc.n, tc.ok)
		}
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		in  string
		key string
		ok  bool
	}{
		{`"choices":`, "choices", true},
		{` "finish_reason" : `, "finish_reason", true},
		{`"":`, "", true},
		{`"a-b c.1":`, "a-b c.1", true},
		{`"a"`, "a", false},            // no colon
		{`"Choices":`, "", false},      // matches "choices" ignoring case
		{`"\u0063hoices":`, "", false}, // an escape
		{`"\u212a":`, "", false},       // the Kelvin sign folds to k
		{"\"a\x01\":", "", false},
		{`"abc`, "", false},
		{`abc:`, "", false},
	} {
		s := New([]byte(tc.in))
		k, ok := s.Key()
		if ok != tc.ok || (ok && string(k) != tc.key) {
			t.Errorf("Key(%s) = %q, %v; want %q, %v", tc.in, k, ok, tc.key, tc.ok)
		}
	}
}

func TestPlainString(t *testing.T) {
	for _, tc := range []struct {
		in         string
		raw        string
		utf8ok, ok bool
	}{
		{`"stop"`, "stop", true, true},
		{` ""`, "", true, true},
		{`"é 日本 🎉"`, "é 日本 🎉", true, true},
		{"\"bad \xff\"", "bad \xff", false, true},
		{`"a\"b"`, "", false, false},
		{`"a\nb"`, "", false, false},
		{"\"a\tb\"", "", false, false},
		{`"open`, "", false, false},
		{`5`, "", false, false},
	} {
		s := New([]byte(tc.in))
		raw, utf8ok, ok := s.PlainString()
		if string(raw) != tc.raw || utf8ok != tc.utf8ok || ok != tc.ok || (ok && !s.End()) {
			t.Errorf("PlainString(%s) = %q, %v, %v", tc.in, raw, utf8ok, ok)
		}
	}
}

func TestStringLen(t *testing.T) {
	for _, in := range []string{
		`""`, `"abc"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u2028\uFFFF"`,
		`"\ud83c\udf89"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `"\ud800\ud800"`,
		"\"raw é 日本 \xff\xfe \xed\xa0\x80 bad\"",
	} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		s := New([]byte(in))
		if n, ok := s.StringLen(); !ok || n != len(want) || !s.End() {
			t.Errorf("StringLen(%s) = %d, %v; want %d", in, n, ok, len(want))
		}
	}
	for _, in := range []string{`"\x"`, `"\u12"`, `"\u12g4"`, `"abc`, `"\`, "\"\n\"", `abc`} {
		s := New([]byte(in))
		if n, ok := s.StringLen(); ok {
			t.Errorf("StringLen(%s) = %d, true", in, n)
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		in     string
		tok    string
		isInt  bool
		ok     bool
		intOK  bool
		number float64
	}{
		{"0", "0", true, true, true, 0},
		{"-0", "-0", true, true, true, math.Copysign(0, -1)},
		{" 123,", "123", true, true, true, 123},
		{"-12.50", "-12.50", false, true, false, -12.5},
		{"1e5", "1e5", false, true, false, 1e5},
		{"1E+5", "1E+5", false, true, false, 1e5},
		{"2.5e-3]", "2.5e-3", false, true, false, 2.5e-3},
		{"0.0028213999999999887", "0.0028213999999999887", false, true, false, 0.0028213999999999887},
		{"99999999999999999999", "99999999999999999999", true, true, false, 1e20},
		{"01", "0", true, true, true, 0}, // the cursor stops at the second digit
		{"-", "", false, false, false, 0},
		{"+1", "", false, false, false, 0},
		{".5", "", false, false, false, 0},
		{"1.", "", false, false, false, 0},
		{"1e", "", false, false, false, 0},
		{"1e+", "", false, false, false, 0},
	} {
		s := New([]byte(tc.in))
		tok, isInt, ok := s.Number()
		if string(tok) != tc.tok || isInt != tc.isInt || ok != tc.ok {
			t.Errorf("Number(%q) = %q, %v, %v", tc.in, tok, isInt, ok)
		}
		s = New([]byte(tc.in))
		if n, ok := s.Int(); ok != tc.intOK || (ok && float64(n) != tc.number) {
			t.Errorf("Int(%q) = %d, %v", tc.in, n, ok)
		}
		s = New([]byte(tc.in))
		if f, ok := s.Float(); ok != tc.ok || math.Float64bits(f) != math.Float64bits(tc.number) {
			t.Errorf("Float(%q) = %v, %v", tc.in, f, ok)
		}
	}
	if s := New([]byte("1e400")); func() bool { _, ok := s.Float(); return ok }() {
		t.Error("Float took 1e400, which overflows")
	}
}

func TestSkip(t *testing.T) {
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`null`, true}, {`true`, true}, {`false`, true}, {`-1.5e3`, true}, {`"a\u00e9"`, true},
		{`{}`, true}, {`[]`, true}, {` { "a" : [ 1 , { "b" : null } ] , "\u00e9" : "" } `, true},
		{deep, true},
		{"[" + deep + "]", false}, // deeper than maxDepth: left to encoding/json
		{`nul`, false}, {`tru`, false}, {`{"a"}`, false}, {`{"a":1,}`, false}, {`[1,]`, false},
		{`{1:2}`, false}, {`'a'`, false}, {``, false}, {`[1 2]`, false}, {`"\x"`, false},
	} {
		s := New([]byte(tc.in))
		if ok := s.Skip() && s.End(); ok != tc.ok {
			t.Errorf("Skip(%.40s) = %v", tc.in, ok)
		}
	}
}

func TestSince(t *testing.T) {
	s := New([]byte(`{"at": "2026-01-01T00:00:00Z"}`))
	s.Consume('{')
	s.Key()
	s.WS()
	start := s.Pos()
	s.PlainString()
	if got := string(s.Since(start)); got != `"2026-01-01T00:00:00Z"` {
		t.Errorf("Since = %s", got)
	}
}

// FuzzCursor holds each reading method to encoding/json on the same bytes:
// what a method takes, encoding/json takes with the same value; and for
// the whole-value readers, what encoding/json takes the method takes too
// (but Skip past maxDepth, and Key and PlainString, which decline on
// purpose).
func FuzzCursor(f *testing.F) {
	for _, s := range []string{
		`null`, `true`, ` false `, `0`, `-0`, `12`, `-1.5e+3`, `1e400`, `99999999999999999999`,
		`"abc"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83c\udf89 \ud800"`, "\"bad \xff\"",
		`{"a":[1,{"b":null}],"c":"d"}`, `[[[]]]`, `{"choices":1}`, `{"Choices":1}`, `[1,]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSkip(t, data)
		checkStrings(t, data)
		checkNumbers(t, data)
		checkKey(t, data)
	})
}

// isNull tells whether data is the null literal, which encoding/json
// takes for any type without a change.
func isNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

func checkSkip(t *testing.T, data []byte) {
	s := New(data)
	s.WS()
	start := s.Pos()
	ok := s.Skip()
	if ok && !json.Valid(s.Since(start)) {
		t.Fatalf("Skip took %q, which encoding/json rejects", s.Since(start))
	}
	whole := ok && s.End()
	// Nesting past maxDepth needs more than 2*maxDepth bytes.
	if !whole && json.Valid(data) && len(data) <= 2*maxDepth {
		t.Fatalf("Skip declined %q, valid JSON", data)
	}
}

func checkStrings(t *testing.T, data []byte) {
	var want string
	wantErr := json.Unmarshal(data, &want)
	null := isNull(data)

	s := New(data)
	n, ok := s.StringLen()
	whole := ok && s.End()
	if whole && (wantErr != nil || n != len(want)) {
		t.Fatalf("StringLen(%q) = %d; encoding/json %q, %v", data, n, want, wantErr)
	}
	if !whole && wantErr == nil && !null {
		t.Fatalf("StringLen declined %q, which encoding/json reads as %q", data, want)
	}

	s = New(data)
	s.WS()
	start := s.Pos()
	raw, utf8ok, ok := s.PlainString()
	if !ok {
		return
	}
	var got string
	if err := json.Unmarshal(s.Since(start), &got); err != nil {
		t.Fatalf("PlainString took %q, which encoding/json rejects: %v", s.Since(start), err)
	}
	if utf8ok != (string(raw) == got) {
		t.Fatalf("PlainString(%q) = %q, utf8ok %v; encoding/json %q", data, raw, utf8ok, got)
	}
}

func checkNumbers(t *testing.T, data []byte) {
	null := isNull(data)
	s := New(data)
	s.WS()
	start := s.Pos()
	if tok, isInt, ok := s.Number(); ok {
		var num json.Number
		if err := json.Unmarshal(tok, &num); err != nil || string(num) != string(tok) ||
			isInt == bytes.ContainsAny(tok, ".eE") || !bytes.Equal(tok, s.Since(start)) {
			t.Fatalf("Number(%q) = %q, isInt %v; encoding/json %q, %v", data, tok, isInt, num, err)
		}
	}

	var wantInt int
	intErr := json.Unmarshal(data, &wantInt)
	s = New(data)
	n, ok := s.Int()
	whole := ok && s.End()
	if whole != (intErr == nil && !null) || (whole && n != wantInt) {
		t.Fatalf("Int(%q) = %d, %v; encoding/json %d, %v", data, n, whole, wantInt, intErr)
	}

	var wantFloat float64
	floatErr := json.Unmarshal(data, &wantFloat)
	s = New(data)
	f, ok := s.Float()
	whole = ok && s.End()
	if whole != (floatErr == nil && !null) || (whole && math.Float64bits(f) != math.Float64bits(wantFloat)) {
		t.Fatalf("Float(%q) = %v, %v; encoding/json %v, %v", data, f, whole, wantFloat, floatErr)
	}
}

// checkKey: a key Key returns is the one encoding/json reads from the same
// token, and has neither ASCII capitals nor anything outside ASCII, which
// could match a lowercase field name ignoring case.
func checkKey(t *testing.T, data []byte) {
	s := New(data)
	s.WS()
	start := s.Pos()
	k, ok := s.Key()
	if !ok {
		return
	}
	var name string
	tok := bytes.TrimRight(s.Since(start), " \t\r\n:")
	if err := json.Unmarshal(tok, &name); err != nil || name != string(k) {
		t.Fatalf("Key(%q) = %q; encoding/json %q, %v", data, k, name, err)
	}
	if strings.ToLower(name) != name || strings.ContainsFunc(name, func(r rune) bool { return r >= 0x80 }) {
		t.Fatalf("Key(%q) = %q, which could match a field ignoring case", data, k)
	}
}

func FuzzExactFloat(f *testing.F) {
	for _, s := range []string{"0.005201", "-0", "123456789012345", "0.0028213999999999887", "1e5", "9.999999999999999", "0.1", "1.7976931348623157"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := New([]byte(s))
		if tok, _, ok := sc.Number(); !ok || len(tok) != len(s) {
			return // exactFloat sees only JSON number tokens
		}
		got, ok := exactFloat([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: exactFloat %v, ParseFloat %v (%v)", s, got, want, err)
		}
	})
}
