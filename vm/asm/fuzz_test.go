package asm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/vm"
)

// FuzzAssemble feeds arbitrary text to the assembler. It must return a
// program or an ErrorList whose every error has a position inside the
// source, never panic; and a program it makes must disassemble to a listing
// that assembles to the same bytes.
func FuzzAssemble(f *testing.F) {
	examples, _ := filepath.Glob("../../docs/examples/*.iasm")
	for _, file := range examples {
		if src, err := os.ReadFile(file); err == nil {
			f.Add(string(src))
		}
	}
	f.Add("load $0 #70000\nx: load $1 @x\n")
	f.Add(".data\ns: .asciiz 'a\\x00b'\n.code\nprts @s\nloadf64 $f0 #-2.5\n")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Assemble("fuzz.iasm", src)
		if err != nil {
			checkErrors(t, src, err)
			return
		}
		listing := vm.Disassemble(p, vm.Names{})
		again, err := Assemble("listing.iasm", listing)
		if err != nil {
			t.Fatalf("the listing does not assemble: %v\nlisting:\n%s", err, listing)
		}
		if !bytes.Equal(again.Code, p.Code) || !bytes.Equal(again.ReadOnly, p.ReadOnly) {
			t.Fatalf("the listing assembles to other bytes\nlisting:\n%s", listing)
		}
	})
}

func checkErrors(t *testing.T, src string, err error) {
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error %T %v is not an ErrorList", err, err)
	}
	lines := strings.Count(src, "\n") + 1
	for _, e := range list {
		if e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 || e.Msg == "" {
			t.Fatalf("error %q at %d:%d is outside the source (%d lines)", e.Msg, e.Pos.Line, e.Pos.Col, lines)
		}
	}
}
