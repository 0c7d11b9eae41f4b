package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNewUserRound runs the binary as the new user of issue 12 did, one
// case per item; pty cases are in repl_newuser_pty_test.go.
func TestNewUserRound(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.iasm")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	hello := writeTestFile(t, "hello.iasm", replHello)
	forward := writeTestFile(t, "fib.iasm", ".code\ncall @f\nhlt\nf: load $0 #9\nret\n")
	tests := []struct {
		name      string
		stdin     string
		args      []string
		code      int
		stdout    string   // exact, unless "-": not checked
		stderrHas []string // each contained in stderr
		stderrNot []string // none contained in stderr
	}{
		{"1: an unknown flag is one line", "", []string{"--bogus"}, 2, "",
			[]string{"iridium: flag provided but not defined: -bogus\nRun 'iridium --help' for usage.\n"}, []string{"Usage:", "Flags:"}},
		{"1: a bad flag value is one line", "", []string{"-P", "abc"}, 2, "",
			[]string{"iridium: invalid value \"abc\" for flag -P: parse error\nRun 'iridium --help' for usage.\n"}, []string{"Usage:"}},
		{"1: an unknown flag of asm is one line", "", []string{"asm", "--bogus", "x.iasm"}, 2, "",
			[]string{"iridium asm: flag provided but not defined: -bogus\nRun 'iridium asm --help' for usage.\n"}, []string{"Usage:", "want one file"}},
		{"1: an unknown flag of disasm is one line", "", []string{"disasm", "--bogus"}, 2, "",
			[]string{"iridium disasm: no flag --bogus\nRun 'iridium disasm --help' for usage.\n"}, []string{"Usage:"}},
		{"--daemon refuses -e", "", []string{"--daemon", "-e", "!registers"}, 2, "",
			[]string{"iridium: --daemon has no shell to run -e or -i in"}, nil},
		{"--help lists -e and -i", "", []string{"--help"}, 0, "",
			[]string{"\n  -e LINE\n", "\n  -i FILE\n", "iridium -e LINE"}, nil},
		{"2: a job's end goes to stderr in a script", "!spawn " + hello + "\n!wait\nload $0 #1\n!registers\n", nil, 0,
			"[job 1] " + hello + " started, process <1>\nHello, world!\n$0 = 1\n", []string{"[job 1] " + hello + " finished"}, nil},
		{"8: !load_file and !spawn of a FIFO", "!load_file " + fifo + "\n!spawn " + fifo + "\n", nil, 1, "",
			[]string{"line 1: !load_file: " + fifo + " is a FIFO (named pipe), not a regular file", "line 2: !spawn: " + fifo + " is a FIFO"}, nil},
		{"8: iridium FIFO", "", []string{fifo}, 1, "", []string{fifo + " is a FIFO (named pipe), not a regular file"}, nil},
		{"8: -i FIFO", "", []string{"-i", fifo}, 1, "", []string{"-i: !load_file: " + fifo + " is a FIFO"}, nil},
		{"9: control bytes are escaped", "!no\x1b[2Jpe\n!load_file /nonexistent/\x1b]0;x\x07.iasm\n", nil, 1, "",
			[]string{`unknown command !no\x1b[2Jpe`, `/nonexistent/\x1b]0;x\a.iasm: no such file`}, []string{"\x1b"}},
		{"10: djmp @x suggests djmpe", "x: nop\ndjmp @x\njmpp $0\n!regs\n", nil, 1, "",
			[]string{"did you mean djmpe?", "did you mean jmp?", "did you mean !registers?"}, []string{"djmp @x\"; did you mean jmp"}},
		{"12: a long label keeps a space", ".data\naverylonglabelname_over_twelve: .asciiz 'x'\n.code\n!program\n", nil, 0,
			"-", nil, nil},
		{"-e runs lines and exits with their status", "ignored\n", []string{"-e", "load $0 #5", "-e", "!registers"}, 0, "$0 = 5\n", nil, nil},
		{"-e fails as a script does", "", []string{"-e", "lod $0 #1"}, 1, "", []string{"line 1: col 1: unknown mnemonic"}, nil},
		{"-i runs the file, then the shell goes on with its labels", "prts @hello\n!registers\n", []string{"-i", hello}, 0,
			"Hello, world!\nHello, world!\n$5 = 42\n", nil, nil},
		{"a forward label, piped, says what to do", "", []string{"-e", "call @f", "-e", "f: ret", "-e", "call @g"}, 1, "-",
			[]string{"undefined label \"f\"", "a file that uses labels before their definition\nruns with iridium FILE or !load_file FILE"}, nil},
		{"the same file runs with !load_file", "!load_file " + forward + "\n!registers\n", nil, 0, "$0 = 9\n", nil, nil},
		{"!help instructions", "!help instructions\n", nil, 0, "-", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			if tc.stdout != "-" && r.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", r.stdout, tc.stdout)
			}
			for _, want := range tc.stderrHas {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q, want it to contain %q", r.stderr, want)
				}
			}
			for _, bad := range tc.stderrNot {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr %q contains %q", r.stderr, bad)
				}
			}
			switch tc.name {
			case "12: a long label keeps a space":
				if !strings.Contains(r.stdout, "averylonglabelname_over_twelve: .asciiz 'x'") {
					t.Errorf("!program:\n%s", r.stdout)
				}
			case "!help instructions":
				for _, want := range []string{"Comparison (sets the flag):\n", "  djmpe @label", "Floating point:\n", "  prts @label"} {
					if !strings.Contains(r.stdout, want) {
						t.Errorf("!help instructions has no %q:\n%s", want, r.stdout)
					}
				}
			}
		})
	}
}

// TestSaveRunsTheSame types a program into the shell, saves it with !save,
// and runs the file: the registers and output are the same. !save refuses
// to overwrite, !save! does it.
func TestSaveRunsTheSame(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "typed.iasm")
	script := ".data\nmsg: .asciiz 'hi\\n'\n.code\nload $0 #3\nload $1 #4\nadd $0 $1 $2\nprts @msg\n!save " + path + "\n!save " + path + "\n"
	r := runBinary(t, script)
	if r.code != 1 || !strings.Contains(r.stderr, "line 9: !save: "+path+" exists; !save! "+path+" overwrites it") {
		t.Fatalf("second !save: exit %d, stderr %q; want a refusal", r.code, r.stderr)
	}
	if r.stdout != "hi\nsaved the program to "+path+" (16 bytes of code)\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	run := runBinary(t, "", "--registers", path)
	if run.code != 0 || run.stdout != "hi\n$0 = 3\n$1 = 4\n$2 = 7\n" {
		t.Fatalf("iridium --registers %s: exit %d, stdout %q, stderr %q", path, run.code, run.stdout, run.stderr)
	}
	r = runBinary(t, "load $3 #1\n!save! "+path+"\n")
	if r.code != 0 {
		t.Fatalf("!save!: exit %d, stderr %q", r.code, r.stderr)
	}
	src, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(src), "load $3 #1") || strings.Contains(string(src), "msg") {
		t.Fatalf("after !save!: %q, %v", src, err)
	}
}
