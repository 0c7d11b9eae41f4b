package asm

import (
	"strings"

	"github.com/iridium-vm/iridium/internal/suggest"
	"github.com/iridium-vm/iridium/vm"
)

// didYouMean names a mnemonic close to name that takes the operands
// given, if there is one: "djmp @x" suggests djmpe (a label), not jmp (a
// register). A name much longer than any mnemonic has none, and is not
// compared.
func didYouMean(name string, args []token) string {
	if len(name) > 16 {
		return ""
	}
	var names []string
	for _, in := range vm.Instructions() {
		if takes(&in, args) {
			names = append(names, in.Name)
		}
	}
	if best := suggest.Closest(strings.ToLower(name), names, 3); best != "" {
		return "; did you mean " + best + "?"
	}
	return ""
}

// takes reports whether the instruction can take the operands as
// written: as many, each of a fitting kind.
func takes(in *vm.Instruction, args []token) bool {
	if len(args) != len(in.Operands) {
		return false
	}
	for i, a := range args {
		if !fits(in.Operands[i], a) {
			return false
		}
	}
	return true
}

// fits reports whether an operand as written can be of the kind.
func fits(kind vm.OperandKind, a token) bool {
	switch a.kind {
	case tokRegister:
		if strings.HasPrefix(a.val, "f") {
			return kind == vm.FloatReg
		}
		return kind == vm.IntReg || kind == vm.FloatReg
	case tokNumber:
		return kind == vm.Int16 || kind == vm.Uint16 || kind == vm.Bits
	case tokLabelRef:
		return kind == vm.CodeAddr || kind == vm.DataAddr || kind == vm.DataAddr16
	}
	return false
}
