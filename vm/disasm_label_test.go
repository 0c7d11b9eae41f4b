package vm_test

import (
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/vm"
)

// TestDisassembleLongLabelKeepsASpace checks that a label longer than its
// column is still followed by a space, in both sections, and that a long
// operand keeps a space before the comment (issue 12).
func TestDisassembleLongLabelKeepsASpace(t *testing.T) {
	long := "averylonglabelname_over_twelve"
	p := &vm.Program{ReadOnly: []byte("a string longer than its column\x00"), Code: []byte{byte(vm.DJMPE), 0, 0, 0}}
	names := vm.Names{Data: map[int]string{0: long}, Code: map[int]string{0: long + "_code"}}
	out := vm.Disassemble(p, names)
	for _, want := range []string{long + ": .asciiz 'a string", long + "_code: djmpe @" + long + "_code ;"} {
		if !strings.Contains(out, want) {
			t.Errorf("listing has no %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "';") || strings.Contains(line, ":.") {
			t.Errorf("line %q runs two fields together", line)
		}
	}
}
