package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// output and exit status; a run that lasts 30 seconds is killed (status -1).
func runAlone(t *testing.T, bin, path string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(testEnv(t), "PATH="+path)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %q: %v", bin, args, err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
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
