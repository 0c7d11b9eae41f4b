package asm

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileRefuses checks the loader's refusals: each names the path
// and none reads without bound.
func TestReadFileRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.iasm")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing.iasm"), "missing.iasm: no such file or directory"},
		{dir, dir + " is a directory, not a regular file"},
		{"/dev/zero", "/dev/zero is a character device, not a regular file"},
		{fifo, fifo + " is a FIFO (named pipe), not a regular file"}, // returns at once: no writer is needed
	}
	for _, tt := range tests {
		if _, err := ReadFile(tt.path); err == nil || err.Error() != tt.want && !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("ReadFile(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
}

// TestLoadFile loads the same program as assembly and as bytecode.
func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "p.iasm")
	if err := os.WriteFile(src, []byte("load $0 #7\nhlt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := p.MarshalBinary()
	bin := filepath.Join(dir, "p.irb")
	os.WriteFile(bin, data, 0o644)
	q, err := LoadFile(bin)
	if err != nil || string(q.Code) != string(p.Code) {
		t.Fatalf("bytecode loads as % x, %v; want % x", q.Code, err, p.Code)
	}
	os.WriteFile(bin, data[:len(data)-1], 0o644)
	if _, err := LoadFile(bin); err == nil || !strings.Contains(err.Error(), "p.irb: bytecode") {
		t.Fatalf("a damaged bytecode file: %v", err)
	}
}

// TestAssembleFileStartsInCode checks that a file assembled into a REPL's
// program starts in .code whatever section the REPL is in, and leaves the
// REPL's section as it was.
func TestAssembleFileStartsInCode(t *testing.T) {
	a := New()
	if _, err := a.Assemble("line 1", ".data"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AssembleFile("f.iasm", "load $0 #1\nhlt\n.data\n"); err != nil {
		t.Fatalf("a file without sections after .data: %v", err)
	}
	if _, err := a.Assemble("line 2", "s: .asciiz 'still data'"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Assemble("line 3", "hlt"); err == nil || !strings.Contains(err.Error(), "in the .data section") {
		t.Fatalf("the REPL's section did not stay .data: %v", err)
	}
}

// TestSnippetIsSafe checks that error snippets show what a terminal would
// not print as '?', cut long lines around the caret, and that a list of
// many errors shows only the first ten.
func TestSnippetIsSafe(t *testing.T) {
	_, err := Assemble("t.iasm", "load $0 #1 \x1b[31m\x00")
	list := err.(ErrorList)
	if got := list[0].Snippet(); strings.ContainsAny(got, "\x1b\x00") || !strings.Contains(got, "load $0 #1 ?[31m?") {
		t.Errorf("snippet %q shows control bytes", got)
	}
	long := "s: .asciiz '" + strings.Repeat("x", 5000) + "' %"
	_, err = Assemble("t.iasm", long)
	snip := err.(ErrorList)[0].Snippet()
	lines := strings.Split(snip, "\n")
	if len(lines) != 3 || len([]rune(lines[1])) > snippetWidth+10 || !strings.HasPrefix(lines[1], "    ...") {
		t.Fatalf("snippet of a long line:\n%s", snip)
	}
	if caret := strings.Index(lines[2], "^"); lines[1][caret] != '%' {
		t.Errorf("caret under %q, want under %%:\n%s", lines[1][caret], snip)
	}
	_, err = Assemble("t.iasm", strings.Repeat("bogus\n", 25))
	msg := err.Error()
	if n := strings.Count(msg, "unknown mnemonic"); n != maxErrorsShown || !strings.HasSuffix(msg, "25 errors (the first 10 shown)") {
		t.Errorf("%d errors shown, message ends %q", n, msg[len(msg)-40:])
	}
}
