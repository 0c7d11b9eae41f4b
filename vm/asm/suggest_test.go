package asm

import (
	"strings"
	"testing"
)

// TestSuggestionTakesTheOperands checks that an unknown mnemonic is
// answered only with mnemonics that can take the operands written.
func TestSuggestionTakesTheOperands(t *testing.T) {
	tests := []struct {
		src, want string // want "" for no suggestion
	}{
		{"djmp @x", "djmpe"},     // jmp is nearer by spelling but takes a register
		{"jmpp $1", "jmp"},       // a register: jmp, not djmpe
		{"lod $0 #1", "load"},    // two operands
		{"pushh", ""},            // push takes a register; no mnemonic near "pushh" takes none
		{"halt", "hlt"},          // no operands, as hlt
		{"prtf64 $f0", ""},       // exists: no error
		{"prtff $f1", "prtf64"},  // a float register
		{"pussh 'x'", ""},        // a string is no instruction's operand
		{"adds $0 $1 $2", "add"}, // three registers
	}
	for _, tt := range tests {
		_, err := Assemble("t.iasm", tt.src+"\nx: hlt\n")
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		switch {
		case tt.want == "" && strings.Contains(msg, "did you mean"):
			t.Errorf("%q: want no suggestion, got %s", tt.src, msg)
		case tt.want != "" && !strings.Contains(msg, "did you mean "+tt.want+"?"):
			t.Errorf("%q: want a suggestion of %s, got %q", tt.src, tt.want, msg)
		}
	}
}
