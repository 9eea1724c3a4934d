package dataset

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fixtures in testdata from their generators")

// shareGPTFixture is the file testdata/sharegpt.json, made by
// shareGPTFixtureBytes. Regenerate it with
//
//	go test ./internal/dataset -update
//
// TestShareGPTFixtureUpToDate fails when the committed file differs from
// what the generator makes now.
const shareGPTFixture = "testdata/sharegpt.json"

// TestMain rewrites the fixture under -update before any test runs, so
// that the tests of the same run read the new one.
func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := os.WriteFile(shareGPTFixture, shareGPTFixtureBytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// TestShareGPTFixtureUpToDate keeps the committed fixture and its
// generator from drifting apart.
func TestShareGPTFixtureUpToDate(t *testing.T) {
	want, err := os.ReadFile(shareGPTFixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shareGPTFixtureBytes(), want) {
		t.Errorf("%s is not what its generator makes (go test ./internal/dataset -update rewrites it)", shareGPTFixture)
	}
}

// shareGPTFixtureBytes encodes shareGPTFixtureEntries as an indented JSON
// array, as ShareGPT files come.
func shareGPTFixtureBytes() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(shareGPTFixtureEntries()); err != nil {
		panic(err) // every value is plain data: a bug in the generator
	}
	return buf.Bytes()
}

// shareGPTFixtureEntries are conversations on the edges of vLLM's filter
// (see validSequence), then entries a reader must skip. Each prompt starts
// with its case name, so that a test can tell which were kept; the rest of
// a text is filler words, and its length in words is the number given to
// fillWords (or to human or gpt).
func shareGPTFixtureEntries() []any {
	return []any{
		conv(human("case-basic", 5), gpt("reply", 6)),
		conv(human("case-one-turn", 10)),
		conv(human("case-short-prompt", 3), gpt("reply", 10)),
		conv(human("case-short-reply", 10), gpt("reply", 3)),
		conv(human("case-min", 4), gpt("reply", 4)),
		conv(human("case-long-prompt", 1025), gpt("reply", 10)),
		conv(human("case-max", 1024), gpt("reply", 1024)),
		conv(human("case-long-total", 1000), gpt("reply", 1049)),
		object{{"conversation", turns(human("case-singular-key", 5), gpt("reply", 5))}},
		conv(gpt("hello", 5), human("case-model-first", 6), gpt("reply", 7)),
		conv(turn("system", fillWords("be", 5)), human("case-system-first", 5), gpt("reply", 8)),
		conv(human("case-two-humans", 5), human("again", 9), gpt("reply", 10)),
		conv(human("case-no-reply", 5), human("again", 9)),
		conv(gpt("case-no-human", 5), gpt("reply", 9)),
		conv(turn("human", "case-cjk 请解释这个"), turn("gpt", "好的 我来解释")), // 6 and 6
		nil,
		object{},
		conv(),
		object{{"id", "x1"}, {"conversations", []any{
			object{{"from", "human"}, {"value", nil}}, turn("gpt", fillWords("reply", 9)),
		}}},
		withExtraFields(human("case-extra-fields", 5), gpt("reply", 5)),
		conv(turn("user", fillWords("case-user-assistant", 5)), turn("assistant", fillWords("reply", 12))),
	}
}

// withExtraFields is an entry whose conversation comes after keys a reader
// must skip unread, one of them nested.
func withExtraFields(ts ...shareGPTTurn) object {
	return object{
		{"id", "abc"},
		{"markdown", object{{"answer", []any{1, 2, object{{"x", nil}}}}}},
		{"lang", "en"},
		{"conversations", turns(ts...)},
	}
}

// conv is an entry under the usual key, "conversations".
func conv(ts ...shareGPTTurn) object {
	return object{{"conversations", turns(ts...)}}
}

// turns is never nil, so that no turns encodes as [] rather than null.
func turns(ts ...shareGPTTurn) []shareGPTTurn {
	return append([]shareGPTTurn{}, ts...)
}

// human and gpt are turns of n words, tag first.
func human(tag string, n int) shareGPTTurn { return turn("human", fillWords(tag, n)) }
func gpt(tag string, n int) shareGPTTurn   { return turn("gpt", fillWords(tag, n)) }

// turn is one turn, in the reader's own type.
func turn(from, value string) shareGPTTurn { return shareGPTTurn{From: from, Value: value} }

// fillWords is tag followed by filler: n words in all.
func fillWords(tag string, n int) string {
	return strings.Join(append([]string{tag}, strings.Fields(strings.Repeat("word ", n-1))...), " ")
}

// object is a JSON object whose keys keep the order given: a map's would be
// sorted, and the fixture wants some keys before the conversation.
type object []struct {
	key   string
	value any
}

// MarshalJSON writes the keys in order.
func (o object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}
