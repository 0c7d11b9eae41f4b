package asm

import (
	"testing"

	"github.com/iridium-vm/iridium/vm"
)

// NamesIn names every instruction as Names does, across calls, with two
// labels at one address (the last by name wins, as in Names) and symbols
// defined after an earlier call to NamesIn.
func TestNamesInAgreesWithNames(t *testing.T) {
	a := New()
	steps := []string{
		".data\ns: .asciiz 'hi'\nf: .float #2.5\nn: .integer #3\n.code\nb: a: nop\nprts @s\nldf64 $f0 @f",
		"top: djmpe @a\ncall @top\nloop @end\nend: cloop @n",
		"z: prts @s\ncall @z\nload $0 @top",
	}
	for _, src := range steps {
		if _, err := a.Assemble("t", src); err != nil {
			t.Fatal(err)
		}
		p := a.Program()
		all := a.Names()
		for pc := 0; pc+vm.InstructionSize <= len(p.Code); pc += vm.InstructionSize {
			raw := p.Code[pc : pc+vm.InstructionSize]
			if got, want := a.NamesIn(raw).Instruction(raw), all.Instruction(raw); got != want {
				t.Errorf("at %d: NamesIn gives %q, Names %q", pc, got, want)
			}
		}
	}
	if got := a.NamesIn([]byte{0xff, 0, 0, 0}); len(got.Code)+len(got.Data) != 0 {
		t.Errorf("an unknown opcode has names %v", got)
	}
}
