package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/filecmd"
)

// expectedOutput collects the ";>" lines of an example: what
// `iridium --registers` prints for it.
func expectedOutput(t *testing.T, src string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		if rest, ok := strings.CutPrefix(line, ";>"); ok {
			b.WriteString(strings.TrimPrefix(rest, " ") + "\n")
		}
	}
	if b.Len() == 0 {
		t.Fatal("the example states no expected output (lines starting with ';>')")
	}
	return b.String()
}

func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../docs/examples/*.iasm")
	if err != nil || len(files) < 8 {
		t.Fatalf("want the examples in docs/examples, found %d (%v)", len(files), err)
	}
	return files
}

// TestExamples runs every example in docs/examples as assembly and as
// bytecode, and checks the output it states.
func TestExamples(t *testing.T) {
	t.Parallel()
	for _, file := range examples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedOutput(t, string(src))
			got := runBinary(t, "", "--registers", file)
			if got.code != 0 || got.stdout != want {
				t.Fatalf("iridium --registers %s: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", file, got.code, got.stdout, want, got.stderr)
			}
			bytecode := filepath.Join(t.TempDir(), "prog.irb")
			if r := runBinary(t, "", "asm", file, "-o", bytecode); r.code != 0 {
				t.Fatalf("iridium asm: exit %d: %s", r.code, r.stderr)
			}
			if r := runBinary(t, "", bytecode, "--registers"); r.code != 0 || r.stdout != want {
				t.Fatalf("running the bytecode: exit %d\nstdout:\n%s\nwant:\n%s", r.code, r.stdout, want)
			}
		})
	}
}

// TestDisassemblyRoundTrip assembles each example, disassembles the
// bytecode, assembles the listing, and wants the same bytes.
func TestDisassemblyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, file := range examples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			first, second, listing := filepath.Join(dir, "a.irb"), filepath.Join(dir, "b.irb"), filepath.Join(dir, "listing.iasm")
			if r := runBinary(t, "", "asm", file, "-o", first); r.code != 0 {
				t.Fatalf("asm: %s", r.stderr)
			}
			dis := runBinary(t, "", "disasm", first)
			if dis.code != 0 {
				t.Fatalf("disasm: %s", dis.stderr)
			}
			if err := os.WriteFile(listing, []byte(dis.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if r := runBinary(t, "", "asm", listing, "-o", second); r.code != 0 {
				t.Fatalf("assembling the listing:\n%s\n%s", dis.stdout, r.stderr)
			}
			a, _ := os.ReadFile(first)
			b, _ := os.ReadFile(second)
			if string(a) != string(b) {
				t.Fatalf("the listing assembles to other bytes:\n%s", dis.stdout)
			}
		})
	}
}

// TestAsmKeepsItsSource checks that "iridium asm" never writes its
// bytecode over the file it reads, whether by -o or by the default name.
func TestAsmKeepsItsSource(t *testing.T) {
	t.Parallel()
	const src = "load $0 #7\nhlt\n"
	for _, tc := range []struct{ name, file string }{
		{"-o names the input", "prog.iasm"},
		{"the default name is the input", "prog.irb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTestFile(t, tc.file, src)
			r := runBinary(t, "", "asm", path, "-o", path)
			if tc.file == "prog.irb" {
				r = runBinary(t, "", "asm", path)
			}
			got, _ := os.ReadFile(path)
			if r.code != 1 || string(got) != src || !strings.Contains(r.stderr, "is the input file") {
				t.Fatalf("exit %d, stderr %q; the source is now %q", r.code, r.stderr, got)
			}
		})
	}
}

// TestCommandFailures checks exit codes and messages of the ways a run
// can fail.
func TestCommandFailures(t *testing.T) {
	t.Parallel()
	badBytecode := "EPIE" + strings.Repeat("\x00", 70)
	tests := []struct {
		name     string
		file     string // contents; "" for no file argument
		args     []string
		wantCode int
		stdout   string // regexp the output must match
		stderr   string // regexp stderr must match
	}{
		{"division by zero", "load $0 #7\nload $1 #0\ndiv $0 $1 $2\n", nil, 1, `^$`,
			`prog\.iasm: pc 8: div \$0 \$1 \$2: division by zero`},
		{"the same with a flag of the shell", "load $0 #7\nload $1 #0\ndiv $0 $1 $2\n", []string{"--no-color", "--registers"}, 1, `^\$0 = 7\n$`,
			`prog\.iasm: pc 8: div \$0 \$1 \$2: division by zero`}, // one flag parser for both
		{"output before a fault is kept", ".data\nm: .asciiz 'kept\\n'\n.code\nprts @m\npop $0\n", nil, 1, `^kept\n$`,
			`pc 4: pop \$0: pop on an empty stack`},
		{"registers after a fault", "load $3 #9\nret\n", []string{"--registers"}, 1, `^\$3 = 9\n$`,
			`ret without call`},
		{"assembly errors, all of them", "lod $0 #1\nload $99 #1\n", nil, 1, `^$`,
			`(?s)prog\.iasm:1:1: unknown mnemonic "lod".*\n    lod \$0 #1\n    \^\n.*prog\.iasm:2:6: register \$99 out of range.*2 errors`},
		{"bad bytecode", badBytecode, nil, 1, `^$`, `format version 0`},
		{"missing file", "", []string{"/nonexistent/prog.iasm"}, 1, `^$`, `no such file`},
		{"two files", "", []string{"a.iasm", "b.iasm"}, 2, `^$`, `one file at a time`},
		{"unknown flag", "", []string{"--bogus"}, 2, `^$`, `flag provided but not defined: -bogus`},
		{"bad port", "", []string{"-P", "70000", "x.iasm"}, 2, `^$`, `a port is 0 to 65535`},
		{"help", "", []string{"--help"}, 0, `^$`, `(?s)iridium asm FILE.*iridium disasm FILE.*-H, --cluster-host.*--registers`},
		{"version", "", []string{"--version"}, 0, `^iridium \d+\.\d+\.\d+\n$`, `^$`},
		{"asm needs a file", "", []string{"asm"}, 2, `^$`, `want one file`},
		{"disasm needs a file", "", []string{"disasm"}, 2, `^$`, `want one file: iridium disasm FILE`},
		{"disasm of bad bytecode", badBytecode, []string{"disasm"}, 1, `^$`, `format version 0`},
		{"a device is refused", "", []string{"/dev/zero"}, 1, `^$`, `/dev/zero is a character device, not a regular file`},
		{"a directory", "", []string{"/"}, 1, `^$`, `/ is a directory`},
		{"heap limit 0", "", []string{"--heap-limit", "0", "x.iasm"}, 2, `^$`, `--heap-limit must be positive`},
		{"max heap total 0", "", []string{"--max-heap-total", "0", "x.iasm"}, 2, `^$`, `--max-heap-total must be positive`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if tc.file != "" {
				path := writeTestFile(t, "prog.iasm", tc.file)
				if len(args) > 0 && args[0] == "disasm" {
					args = append(args, path)
				} else {
					args = append(append([]string{}, args...), path)
				}
			}
			r := runBinary(t, "", args...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.wantCode, r.stderr)
			}
			if !regexp.MustCompile(tc.stdout).MatchString(r.stdout) {
				t.Errorf("stdout %q does not match %q", r.stdout, tc.stdout)
			}
			if !regexp.MustCompile(tc.stderr).MatchString(r.stderr) {
				t.Errorf("stderr %q does not match %q", r.stderr, tc.stderr)
			}
		})
	}
}

// TestFileRunSignals checks that SIGINT (Ctrl-C) and SIGTERM stop a file
// run with status 130 and a message naming the signal. The program spins
// silently for 10^8 steps (tens of milliseconds at the least, far more in
// a race-detector build) before it prints without end, so its first
// output shows it has run past signalDelay, when the run starts watching
// for signals.
func TestFileRunSignals(t *testing.T) {
	t.Parallel()
	const src = `.data
line: .asciiz 'tick\n'
.code
        load $1 #20000
        load $2 #2000
outer:  load $0 #0
inner:  inc $0
        neq $0 $1
        djmpe @inner
        inc $3
        neq $3 $2
        djmpe @outer
print:  prts @line
        eq $0 $0
        djmpe @print
`
	path := writeTestFile(t, "spin.iasm", src)
	for _, tc := range []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGINT, "interrupt signal received"},
		{syscall.SIGTERM, "terminated signal received"},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(iridiumBin, path)
			cmd.Env = testEnv(t)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			if _, err := io.ReadFull(stdout, make([]byte, 5)); err != nil {
				t.Fatalf("no output from the program: %v", err)
			}
			go io.Copy(io.Discard, stdout)
			if err := signalExit(cmd, tc.sig); err != nil {
				t.Fatalf("%v; stderr %q", err, stderr.String())
			}
			want := regexp.MustCompile(`^iridium: .*spin\.iasm: pc \d+: \w+ .*: interrupted: ` + tc.want + "\n$")
			if !want.MatchString(stderr.String()) {
				t.Fatalf("stderr %q, want it to match %q", stderr.String(), want)
			}
		})
	}
}

// signalExit sends sig to cmd's process and waits for it to exit with
// status filecmd.ExitSignal, for at most 30 seconds.
func signalExit(cmd *exec.Cmd, sig os.Signal) error {
	if err := cmd.Process.Signal(sig); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != filecmd.ExitSignal {
			return fmt.Errorf("after %v: %v, want exit status %d", sig, err, filecmd.ExitSignal)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no exit within 30s of %v", sig)
	}
}
