package setting

import "testing"

func TestNamed(t *testing.T) {
	flags := map[string]string{"InputTokens": "--input-tokens", "InputTokensRange": "--input-tokens-range"}
	name := func(f string) (string, bool) { n, ok := flags[f]; return n, ok }
	tests := []struct {
		err        *Error
		own, named string
	}{
		{Errorf("{InputTokensRange} needs {InputTokens}"), "InputTokensRange needs InputTokens", "--input-tokens-range needs --input-tokens"},
		{Errorf("{InputTokens} %d: want 0 to %d", -1, 9), "InputTokens -1: want 0 to 9", "--input-tokens -1: want 0 to 9"},
		// A value in braces that is no field the command knows stays.
		{Errorf("prompt %q is odd", "{x} {"), `prompt "x {" is odd`, `prompt "{x} {" is odd`},
		{Errorf("no fields"), "no fields", "no fields"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.own {
			t.Errorf("Error() = %q, want %q", got, tt.own)
		}
		if got := tt.err.Named(name); got != tt.named {
			t.Errorf("Named = %q, want %q", got, tt.named)
		}
	}
}

// FuzzNamed: any message is worded without losing text: with no field
// known, Named gives the message back as it was written.
func FuzzNamed(f *testing.F) {
	for _, s := range []string{"{A} needs {B}", "{", "}{", "{{A}}", "a {b c} d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		e := &Error{msg: msg}
		if got := e.Named(func(string) (string, bool) { return "", false }); got != msg {
			t.Fatalf("Named(%q) with no field known = %q", msg, got)
		}
		_ = e.Error()
	})
}
