package vm

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateManual = flag.Bool("update", false, "rewrite the instruction reference in docs/manual.md from the table")

const (
	manualPath  = "../docs/manual.md"
	manualBegin = "<!-- BEGIN INSTRUCTIONS: generated from vm/isa.go by `go test ./vm -run TestManual -update` -->\n"
	manualEnd   = "<!-- END INSTRUCTIONS -->"
)

// instructionReference renders the instruction table as the manual shows it.
func instructionReference() string {
	var b strings.Builder
	b.WriteString("| opcode | instruction | bytes (hex) | meaning | example |\n|---|---|---|---|---|\n")
	for _, in := range Instructions() {
		name := "`" + in.Syntax() + "`"
		if in.Extension {
			name += " ⁺"
		}
		summary := strings.ReplaceAll(in.Summary, "|", `\|`)
		fmt.Fprintf(&b, "| %d | %s | `%s` | %s | `%s` |\n", in.Op, name, in.Encoding(), summary, in.Example)
	}
	b.WriteString("\n⁺ not in the original Iridium.\n")
	return b.String()
}

// TestManualInstructionTable keeps docs/manual.md's instruction reference
// the same as the table the VM, the assembler and the disassembler use.
func TestManualInstructionTable(t *testing.T) {
	data, err := os.ReadFile(manualPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start, end := strings.Index(doc, manualBegin), strings.Index(doc, manualEnd)
	if start < 0 || end < start {
		t.Fatalf("%s has no instruction reference markers", manualPath)
	}
	want := instructionReference()
	got := doc[start+len(manualBegin) : end]
	if got == want {
		return
	}
	if !*updateManual {
		t.Fatalf("the instruction reference in %s differs from vm/isa.go; run: go test ./vm -run TestManual -update", manualPath)
	}
	doc = doc[:start+len(manualBegin)] + want + doc[end:]
	if err := os.WriteFile(manualPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInternalOpcodes checks that the dispatch loop's internal opcodes,
// opTrap and every fused opcode of fuse.go, collide with no instruction of
// the table and stay below IGL, as its dense jump table needs.
func TestInternalOpcodes(t *testing.T) {
	for op := opTrap; op <= opLast; op++ {
		if in := Lookup(op); in != nil {
			t.Errorf("internal opcode %d is also %s", op, in.Name)
		}
		if op >= IGL {
			t.Errorf("internal opcode %d is not below igl (%d)", op, IGL)
		}
	}
}
