package filecmd

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	cases := []struct {
		args  []string
		files []string
		n     int
		err   string
	}{
		{nil, nil, 0, ""},
		{[]string{"a", "-n", "3", "b"}, []string{"a", "b"}, 3, ""},
		{[]string{"-n=2", "a", "--", "-n", "5"}, []string{"a", "-n", "5"}, 2, ""},
		{[]string{"a", "-x"}, nil, 0, "flag provided but not defined: -x"},
		{[]string{"a", "-n"}, nil, 0, "flag needs an argument: -n"},
	}
	for _, c := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		n := fs.Int("n", 0, "")
		files, err := ParseInterspersed(fs, c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseInterspersed(%q): error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(files, c.files) || *n != c.n {
			t.Errorf("ParseInterspersed(%q) = %q, -n %d, %v; want %q, -n %d", c.args, files, *n, err, c.files, c.n)
		}
	}
}

// TestRunAsmDisasm: a program assembled by Asm runs, from its bytecode,
// as its source does, and Disasm lists it.
func TestRunAsmDisasm(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "p.iasm")
	if err := os.WriteFile(src, []byte("load $2 #40\ninc $2\n.data\nm: .asciiz 'hi'\n.code\nprts @m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := Asm([]string{src}, &out, &errOut); code != ExitOK || !strings.HasPrefix(out.String(), "wrote "+filepath.Join(dir, "p.irb")) {
		t.Fatalf("Asm: status %d, %q, %q", code, out.String(), errOut.String())
	}
	opts := RunOptions{Registers: true, StackLimit: 16, HeapLimit: 16}
	for _, file := range []string{"p.iasm", "p.irb"} {
		out.Reset()
		if code := Run(t.Context(), opts, filepath.Join(dir, file), &out, &errOut); code != ExitOK || out.String() != "hi$2 = 41\n" {
			t.Errorf("Run %s: status %d, output %q, errors %q; want hi and $2 = 41", file, code, out.String(), errOut.String())
		}
	}
	out.Reset()
	if code := Disasm([]string{filepath.Join(dir, "p.irb")}, &out, &errOut); code != ExitOK || !strings.Contains(out.String(), "inc $2") {
		t.Errorf("Disasm: status %d, %q", code, out.String())
	}
}

// TestRunFailures: a fault and a missing file are status 1 and a message
// naming the file, with the control characters of its path escaped.
func TestRunFailures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "\x1b[2J\r")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.iasm")
	if err := os.WriteFile(bad, []byte("pop $0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(dir, "missing.iasm")} {
		var out, errOut strings.Builder
		code := Run(t.Context(), RunOptions{StackLimit: 16, HeapLimit: 16}, path, &out, &errOut)
		escaped := strings.ReplaceAll(path, "\x1b[2J\r", `\x1b[2J\r`)
		if code != ExitFailure || !strings.Contains(errOut.String(), escaped) || strings.ContainsAny(errOut.String(), "\x1b\r") {
			t.Errorf("Run %q: status %d, errors %q; want 1 and the file named, escaped", path, code, errOut.String())
		}
	}
}
