package dataset

import (
	"strings"
	"testing"

	"servebench/internal/openai"
)

func TestSalt(t *testing.T) {
	a, b := NewSalt(), NewSalt()
	if len(strings.Fields(a)) != SaltWords || a == b {
		t.Errorf("salts %q and %q", a, b)
	}
	it := Salted(Item{Prompt: "hello", PromptWords: 1}, "x y z w")
	if it.Prompt != "x y z w hello" || it.PromptWords != 5 {
		t.Errorf("%+v", it)
	}
	msgs := []openai.Message{{Role: "system", Content: "sys"}, {Role: "user", Content: "hi"}}
	chat := Salted(Item{Messages: msgs}, "s")
	if chat.Messages[0].Content != "s sys" || msgs[0].Content != "sys" {
		t.Errorf("%+v, the original %+v", chat.Messages, msgs)
	}
	if Salted(Item{Prompt: "p"}, "").Prompt != "p" {
		t.Error("no salt changed the prompt")
	}
}
