package vm

import (
	"context"
	"slices"
	"testing"
)

// AppendProgram decodes what grew in place and gives the VM the same
// decoded program as decoding it whole: across a comparison and the DJMPE
// appended after it (fused), for Step's unfused copy too, and it falls
// back to a whole decode when the code did not grow in place.
func TestAppendProgramDecodesOnlyTheNewCode(t *testing.T) {
	lines := []string{
		"top: load $0 #3",
		"inc $1; lt $1 $0", // ends in a comparison...
		"djmpe @0",         // ...that the next line's DJMPE fuses with
		"raw 64 00 00 00",  // an illegal instruction: a trap
		"add $0 $1 $2; djmpe @24",
	}
	buf := make([]byte, 0, 1024) // room to grow in place
	m := New(Config{})
	for i, line := range lines {
		buf = append(buf, enc(t, line)...)
		p := &Program{Code: buf[:len(buf):len(buf)]}
		if i == 1 {
			m.Step() // makes the unfused copy, which must grow too
		}
		m.AppendProgram(p)
		if m.Program() != p {
			t.Fatalf("line %d: the VM does not have the new program", i+1)
		}
		if want := decodeProgram(p.Code, true); !slices.Equal(m.code, want) {
			t.Fatalf("line %d: decoded %v, want %v", i+1, m.code, want)
		}
		if m.cold != nil && m.cold.single != nil && !slices.Equal(m.cold.single, decodeProgram(p.Code, false)) {
			t.Fatalf("line %d: Step's copy %v is not the unfused decode", i+1, m.cold.single)
		}
	}
	if m.code[2].op() != opLTJ {
		t.Errorf("the LT before the appended DJMPE is %v, want the fused opLTJ", m.code[2].op())
	}
	// Code that did not grow in place (a copy) is decoded whole.
	other := slices.Clone(buf)
	other = append(other, enc(t, "hlt")...)
	m.AppendProgram(&Program{Code: other})
	if want := decodeProgram(other, true); !slices.Equal(m.code, want) {
		t.Fatalf("after a copy: decoded %v, want %v", m.code, want)
	}
	if err := m.SetPC(0); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err == nil {
		t.Error("the program ran past the illegal instruction")
	}
}

// Every fused form, appended one instruction a line, decodes as the whole
// program does: the three-step forms (INC, a comparison, DJMPE) and the
// pairs, including a chain of pairs where which pairs fuse depends on the
// pair before the boundary.
func TestAppendProgramFusesAcrossLines(t *testing.T) {
	programs := [][]string{
		{"inc $1", "lt $1 $0", "djmpe @0", "hlt"},
		{"load $2 #5", "eq $1 $2", "djmpe @0", "hlt"},
		{"add $1 $2 $1", "gte $1 $0", "djmpe @0", "hlt"},
		{"ltf64 $1 $2", "djmpe @0", "hlt"},
		{"load $1 #2", "add $1 $2 $3", "ret"},
		{"pop $1", "push $2", "pop $3", "add $1 $2 $3", "ret"},
		{"pop $1", "pop $2", "push $3", "pop $4", "push $5", "inc $1", "ret"},
		{"load $1 #1", "load $2 #2", "add $1 $2 $3", "sub $1 $2 $3"},
		// LOAD+ADD fuses, so the ADD stays plain rather than fusing with
		// the RET, also when fusing restarts at the ADD.
		{"nop", "nop", "load $1 #1", "add $1 $2 $3", "ret", "nop", "nop"},
		// The LOAD pairs with the ADD until the DJMPE, three lines on,
		// makes the ADD the first of a three-step fused form: the longest
		// reach of fusing (fuseReach).
		{"inc $0", "inc $0", "load $1 #1", "add $1 $2 $1", "lt $1 $0", "djmpe @0"},
	}
	for _, lines := range programs {
		buf := make([]byte, 0, 1024)
		m := New(Config{})
		for i, line := range lines {
			buf = append(buf, enc(t, line)...)
			p := &Program{Code: buf[:len(buf):len(buf)]}
			m.AppendProgram(p)
			if want := decodeProgram(p.Code, true); !slices.Equal(m.code, want) {
				t.Fatalf("%q, after line %d: decoded %v, want %v", lines, i+1, m.code, want)
			}
		}
	}
}
