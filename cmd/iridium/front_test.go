package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/vm"
)

// TestFileRunIsDoneHere: which argument lists this binary runs itself and
// which it leaves to iridium-node.
func TestFileRunIsDoneHere(t *testing.T) {
	def := filecmd.RunOptions{StackLimit: vm.DefaultStackLimit, HeapLimit: vm.DefaultHeapLimit}
	cases := []struct {
		args []string
		here bool
		file string
		opts filecmd.RunOptions
	}{
		{[]string{"a.iasm"}, true, "a.iasm", def},
		{[]string{"--registers", "a.iasm"}, true, "a.iasm", filecmd.RunOptions{Registers: true, StackLimit: def.StackLimit, HeapLimit: def.HeapLimit}},
		{[]string{"a.iasm", "-registers", "--stack-limit", "7", "--heap-limit=9"}, true, "a.iasm", filecmd.RunOptions{Registers: true, StackLimit: 7, HeapLimit: 9}},
		{[]string{"--", "-odd.iasm"}, true, "-odd.iasm", def},
		{nil, false, "", def},                                      // the shell
		{[]string{"a.iasm", "b.iasm"}, false, "", def},             // a usage error, the node's to word
		{[]string{"--version"}, false, "", def},                    // the node's
		{[]string{"-h"}, false, "", def},                           // help lists every flag: the node's
		{[]string{"--help", "a.iasm"}, false, "", def},             //
		{[]string{"--no-color", "a.iasm"}, false, "", def},         // any other flag
		{[]string{"-r", "a.iasm"}, false, "", def},                 // a usage error with a file
		{[]string{"-e", "nop"}, false, "", def},                    // a script
		{[]string{"--stack-limit", "0", "a.iasm"}, false, "", def}, // a bad value
		{[]string{"--heap-limit", "x", "a.iasm"}, false, "", def},  //
		{[]string{"--stack-limit"}, false, "", def},                // a missing value
	}
	for _, c := range cases {
		opts, file, here := fileRun(c.args)
		if here != c.here || (here && (file != c.file || opts != c.opts)) {
			t.Errorf("fileRun(%q) = %+v, %q, %v; want %+v, %q, %v", c.args, opts, file, here, c.opts, c.file, c.here)
		}
	}
}

// TestRunHereWritesNothingWhenItLeavesTheWork: arguments for the node get
// no output from this binary before the exec.
func TestRunHereWritesNothingWhenItLeavesTheWork(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"--bogus", "x.iasm"}, {"-e", "nop"}} {
		var out, errOut strings.Builder
		if _, here := runHere(t.Context(), args, &out, &errOut); here || out.Len()+errOut.Len() > 0 {
			t.Errorf("runHere(%q): here %v, wrote %q and %q; want the node's, nothing written", args, here, out.String(), errOut.String())
		}
	}
}

// copyBinary copies the built iridium, alone, into a new directory and
// returns its path there.
func copyBinary(t *testing.T) string {
	t.Helper()
	src, err := os.Open(iridiumBin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "iridium")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// runAlone runs bin with args and the given $PATH, and returns its
// output and exit status.
func runAlone(t *testing.T, bin, path string, args ...string) result {
	t.Helper()
	return runIn(t, bin, "", append(testEnv(t), "PATH="+path), args...)
}

// runIn runs bin with args in dir (this one if "") and env, and returns
// its output and exit status.
func runIn(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	return runCommand(t, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	})
}

// TestFrontAndNodeAgree: for the argument lists iridium runs itself, and
// their neighbours it leaves to the node, iridium and iridium-node print
// the same and exit with the same status.
func TestFrontAndNodeAgree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hello, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "hello.iasm"))
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"hello.iasm": string(hello), "asm": string(hello), "-": string(hello),
		"fault.iasm": "load $0 #7\nload $1 #0\ndiv $0 $1 $2\n", "bad.iasm": "lod $0 #1\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	node, env := filepath.Join(filepath.Dir(iridiumBin), "iridium-node"), testEnv(t)
	for _, args := range [][]string{
		{"hello.iasm"}, {"-registers=false", "fault.iasm"}, {"--registers=1", "fault.iasm"}, {"--registers=yes", "hello.iasm"},
		{"-stack-limit=+3", "--heap-limit=0x10", "hello.iasm"}, {"--stack-limit=1_000", "hello.iasm"}, {"--stack-limit=-1", "hello.iasm"},
		{"--stack-limit=99999999999999999999", "hello.iasm"}, {"--stack-limit=0", "--stack-limit=5", "hello.iasm"},
		{"--heap-limit=5", "--heap-limit=0", "hello.iasm"}, {"--registers", "--registers", "fault.iasm"}, {"fault.iasm", "--registers"},
		{"--", "asm"}, {"--registers", "asm"}, {"-"}, {"--", "-"}, {""}, {"", "hello.iasm"}, {"hello.iasm", "extra"},
		{"hello.iasm", "--"}, {"hello.iasm", "--", "--registers"}, {"---registers", "hello.iasm"}, {"--heap-limit=", "hello.iasm"},
		{"bad.iasm"}, {"missing.iasm"}, {"."}, {"hello.iasm", "-h"}, {"--Registers", "hello.iasm"},
		{"asm"}, {"asm", "-help"}, {"asm", "hello.iasm", "-o", "out.irb"}, {"asm", "-o"}, {"disasm", "-h"}, {"disasm", "-x"}, {"disasm", "out.irb"},
	} {
		front := runIn(t, iridiumBin, dir, env, args...)
		whole := runIn(t, node, dir, env, args...)
		if front != whole {
			t.Errorf("%q:\niridium      %+v\niridium-node %+v", args, front, whole)
		}
	}
}

// TestWithoutNode: iridium alone runs, assembles and disassembles files,
// and for the rest says that iridium-node is missing and how to get it.
func TestWithoutNode(t *testing.T) {
	t.Parallel()
	bin := copyBinary(t)
	hello := filepath.Join("..", "..", "docs", "examples", "hello.iasm")
	if r := runAlone(t, bin, "/nonexistent", "--registers", hello); r.code != 0 || r.stdout != "Hello, world!\n" || r.stderr != "" {
		t.Errorf("file run: %+v; want Hello, world! and status 0", r)
	}
	if r := runAlone(t, bin, "/nonexistent", "disasm", hello); r.code != 0 || !strings.Contains(r.stdout, "prts") {
		t.Errorf("disasm: %+v; want a listing", r)
	}
	for _, args := range [][]string{nil, {"--version"}, {"-e", "nop"}, {"--bogus", hello}} {
		r := runAlone(t, bin, "/nonexistent:relative/dir:"+filepath.Dir(bin), args...)
		if r.code != filecmd.ExitFailure || r.stdout != "" || !strings.Contains(r.stderr, "iridium-node, which is neither next to this binary nor on $PATH") || !strings.Contains(r.stderr, "make build") {
			t.Errorf("iridium %q without iridium-node: %+v; want status 1 and what is missing", args, r)
		}
	}
}

// TestNodeFoundOnPathOrThroughALink: iridium finds iridium-node next to
// the file a symbolic link names, and otherwise on $PATH.
func TestNodeFoundOnPathOrThroughALink(t *testing.T) {
	t.Parallel()
	link := filepath.Join(t.TempDir(), "iridium")
	if err := os.Symlink(iridiumBin, link); err != nil {
		t.Fatal(err)
	}
	if r := runAlone(t, link, "/nonexistent", "--version"); r.code != 0 || r.stdout != "iridium "+version+"\n" {
		t.Errorf("through a link: %+v; want the version from the node next to the linked file", r)
	}
	if r := runAlone(t, copyBinary(t), "/nonexistent:"+filepath.Dir(iridiumBin), "--version"); r.code != 0 || r.stdout != "iridium "+version+"\n" {
		t.Errorf("on $PATH: %+v; want the version from the node on $PATH", r)
	}
}

// TestNodeThatIsThisBinary: an iridium-node that is iridium itself (a
// symbolic or hard link to it, next to it or on $PATH) is not the node:
// iridium skips it and says the node is missing, rather than exec itself
// for ever.
func TestNodeThatIsThisBinary(t *testing.T) {
	t.Parallel()
	bin := copyBinary(t)
	dir := filepath.Dir(bin)
	if err := os.Symlink("iridium", filepath.Join(dir, "iridium-node")); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := os.Link(bin, filepath.Join(other, "iridium-node")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/nonexistent", dir, other} {
		r := runAlone(t, bin, path, "--version")
		if r.code != filecmd.ExitFailure || r.stdout != "" || !strings.Contains(r.stderr, "is this binary, not the node") {
			t.Errorf("PATH=%s: %+v; want status 1 and that iridium-node is iridium itself", path, r)
		}
	}
	if r := runAlone(t, bin, other+":"+filepath.Dir(iridiumBin), "--version"); r.code != 0 || r.stdout != "iridium "+version+"\n" {
		t.Errorf("with the real node later on $PATH: %+v; want its version", r)
	}
}

// TestUnusableNodeIsSkipped: an iridium-node next to iridium that cannot
// be run (not executable, a directory, a symbolic link in a loop or to
// nothing) is passed over for the one on $PATH, and without one there
// iridium says the node is missing.
func TestUnusableNodeIsSkipped(t *testing.T) {
	t.Parallel()
	for name, place := range map[string]func(path string) error{
		"not executable": func(path string) error { return os.WriteFile(path, []byte("#!/bin/sh\n"), 0o644) },
		"a directory":    func(path string) error { return os.Mkdir(path, 0o755) },
		"a link loop":    func(path string) error { return os.Symlink(filepath.Base(path), path) },
		"a broken link":  func(path string) error { return os.Symlink("nowhere", path) },
	} {
		bin := copyBinary(t)
		if err := place(filepath.Join(filepath.Dir(bin), "iridium-node")); err != nil {
			t.Fatal(err)
		}
		if r := runAlone(t, bin, "/nonexistent", "--version"); r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, "neither next to this binary nor on $PATH") {
			t.Errorf("%s, no node on $PATH: %+v; want status 1 and that the node is missing", name, r)
		}
		if r := runAlone(t, bin, filepath.Dir(iridiumBin), "--version"); r.code != 0 || r.stdout != "iridium "+version+"\n" {
			t.Errorf("%s, the node on $PATH: %+v; want its version", name, r)
		}
	}
}
