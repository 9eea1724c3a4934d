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
