package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// writeTestFile writes a file in the test's temporary directory.
func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const replHello = `.data
hello: .asciiz 'Hello, world!\n'
.code
start:  prts @hello
        load $5 #42
        hlt
`

// TestREPLScripted pipes command scripts into the binary: no banner or
// prompt, program output on stdout, errors as "line N: ..." on stderr,
// exit status 1 when a line failed, --fail-fast.
func TestREPLScripted(t *testing.T) {
	t.Parallel()
	hello := writeTestFile(t, "hello.iasm", replHello)
	fault := writeTestFile(t, "fault.iasm", ".code\nload $1 #0\ndiv $0 $1 $2\n")
	plain := writeTestFile(t, "plain.iasm", "load $0 #7\n")
	endsInData := writeTestFile(t, "tail.iasm", "load $1 #1\n.data\nt: .asciiz 'x'\n")
	endless := writeTestFile(t, "endless.iasm", ".code\nload $0 #0\neq $0 $0\nspin: djmpe @spin\n")
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout string // exact
		wantStderr string // contained
	}{
		{"assembly and registers", "load $0 #5\nload $1 #7\nadd $0 $1 $2\n!registers\n", nil, 0,
			"$0 = 5\n$1 = 7\n$2 = 12\n", ""},
		{"labels across lines", ".data\nmsg: .asciiz 'hi '\n.code\nloop: prts @msg\ninc $0\nload $1 #3\nneq $0 $1\ndjmpe @loop\n", nil, 0,
			"hi hi hi \n", ""},
		{"errors name their line and processing goes on", "load $0 #1\nlod $1 #1\n!bogus\n!registers\n", nil, 1,
			"$0 = 1\n", "line 2: col 1: unknown mnemonic \"lod\"; did you mean load?\n    lod $1 #1\n    ^\nline 3: unknown command !bogus"},
		{"fail fast stops at the first error", "lod $1 #1\nload $0 #1\n!registers\n", []string{"--fail-fast"}, 1,
			"", "line 1: col 1: unknown mnemonic"},
		{"load_file with argument", "!load_file " + hello + "\nprts @hello\n!registers\n", nil, 0,
			"Hello, world!\nHello, world!\n$5 = 42\n", ""},
		{"load_file asks for the path", "!load_file\n" + hello + "\n", nil, 0, "Hello, world!\n", ""},
		{"missing file", "!load_file /nonexistent/x.iasm\nload $0 #1\n!registers\n", nil, 1,
			"$0 = 1\n", "line 1: !load_file: /nonexistent/x.iasm: no such file or directory"},
		{"fault keeps the registers", "load $3 #3\n!load_file " + fault + "\n!registers\n", nil, 1,
			"$3 = 3\n", "line 2: fault: pc 8: div $0 $1 $2: division by zero"},
		{"spawn and wait", "!spawn " + hello + "\n!wait\n", nil, 0,
			"[job 1] " + hello + " started, process <1>\nHello, world!\n", "[job 1] " + hello + " finished\n"}, // notices on stderr
		{"wait fails for a faulted job", "!spawn " + fault + "\n!wait\n", nil, 1,
			"[job 1] " + fault + " started, process <1>\n", "line 2: !wait: job 1 (" + fault + ") faulted"},
		{"join where nothing listens", "!join_cluster 127.0.0.1 1\nload $0 #1\n!registers\n", []string{"-P", "0", "--node-alias", "a", "--cookie", testCookie + "/join-nowhere"}, 1,
			"$0 = 1\n", "cluster: this node is \"a\"; the cookie comes from --cookie (every node of a cluster needs the same one)\n" +
				"line 1: !join_cluster 127.0.0.1 1: "},
		{"load_file after .data starts in .code and stays in .data", ".data\n!load_file " + plain + "\nx: .asciiz 'y'\ninc $0\n!registers\n", nil, 1,
			"$0 = 7\n", "line 4: col 1: instruction \"inc\" in the .data section"},
		{"load_file ending in .data leaves the REPL in .code", "!load_file " + endsInData + "\ninc $1\n!registers\n", nil, 0, "$1 = 2\n", ""},
		{"load_file twice hints at the earlier load", "!load_file " + plain + "\n!load_file " + endsInData + "\n!load_file " + endsInData + "\n", nil, 1,
			"", "line 3: !load_file: " + endsInData + ":3:1: label \"t\" is already defined at " + endsInData + ":3:1\n    t: .asciiz 'x'\n    ^\n" +
				"(a label of the program already has that name: was the file loaded before? !clear_program forgets the program's labels)\n"},
		{"spawn past --max-jobs", "!spawn " + endless + "\n!spawn " + endless + "\n!kill 1\n!spawn " + endless + "\n", []string{"--max-jobs", "1"}, 1,
			"[job 1] " + endless + " started, process <1>\njob 1 (" + endless + ") killed\n[job 2] " + endless + " started, process <2>\n",
			"line 2: !spawn " + endless + ": 1 program runs already, the most at once: !kill or !wait for it first\n[job 1] " + endless + " killed\n"},
		{"commands in any case, split on any white space", "load $2 #2\n!REGISTERS\n!help\t  clear_registers\n!Kill \t 3\n", nil, 1,
			"$2 = 2\n!clear_registers\n    set every register, the flag, the remainder and the loop counter to 0\n", "line 4: !kill: no job 3"},
		{"quit ends the input", "load $0 #1\n!quit\n!bogus\n", nil, 0, "", ""},
		{"empty input", "", nil, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, tt.stdin, append(tt.args, "--data-root-dir", t.TempDir())...)
			if r.code != tt.wantCode {
				t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, tt.wantCode, r.stderr)
			}
			if r.stdout != tt.wantStdout {
				t.Errorf("stdout\n%q\nwant\n%q", r.stdout, tt.wantStdout)
			}
			if tt.wantStderr == "" && r.stderr != "" || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr\n%s\nwant it to contain\n%s", r.stderr, tt.wantStderr)
			}
			if strings.Contains(r.stdout, ">>>") || strings.Contains(r.stdout, "Iridium") || strings.Contains(r.stdout+r.stderr, "\x1b[") {
				t.Errorf("scripted mode printed a prompt, banner or colour:\n%q", r.stdout)
			}
		})
	}
}

// TestREPLScriptedSIGTERM checks that SIGTERM ends a scripted REPL that is
// waiting for input (a pipe nobody closes) with status 130.
func TestREPLScriptedSIGTERM(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(iridiumBin, "--data-root-dir", t.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Once the line's output arrives, the REPL is reading the next line.
	io.WriteString(stdin, "load $0 #1\n!registers\n")
	got := make([]byte, len("$0 = 1\n"))
	if _, err := io.ReadFull(stdout, got); err != nil || string(got) != "$0 = 1\n" {
		t.Fatalf("output %q, %v", got, err)
	}
	if err := signalExit(cmd, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// TestREPLScriptedLongLine pipes lines of several MiB into the binary: a
// line longer than 1 MiB is an error naming its line, the rest of it is
// skipped and the script goes on (or stops, with --fail-fast); memory
// stays bounded, so `head -c 200M /dev/zero | iridium` cannot exhaust it.
func TestREPLScriptedLongLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3<<20)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout string // exact
		wantStderr string // exact
	}{
		{"no newline at all", strings.Repeat("\x00", 3<<20), nil, 1, "", "line 1: longer than 1 MiB; the line was skipped\n"},
		{"skipped and the script goes on", "load $0 #1\n" + long + "\nload $1 #2\n!registers\n", nil, 1,
			"$0 = 1\n$1 = 2\n", "line 2: longer than 1 MiB; the line was skipped\n"},
		{"CRLF and a long last line", "load $0 #1\r\n" + long + "\r\n", nil, 1, "", "line 2: longer than 1 MiB; the line was skipped\n"},
		{"fail fast stops", "load $0 #1\n" + long + "\n!registers\n", []string{"--fail-fast"}, 1,
			"", "line 2: longer than 1 MiB; the line was skipped\n"},
		{"a line of just 1 MiB is fine", "; " + strings.Repeat("y", 1<<20-2) + "\nload $0 #3\n!registers\n", nil, 0, "$0 = 3\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, tt.stdin, append(tt.args, "--data-root-dir", t.TempDir())...)
			if r.code != tt.wantCode {
				t.Errorf("exit status %d, want %d", r.code, tt.wantCode)
			}
			if r.stdout != tt.wantStdout {
				t.Errorf("stdout %.200q, want %q", r.stdout, tt.wantStdout)
			}
			if r.stderr != tt.wantStderr {
				t.Errorf("stderr %.300q, want %q", r.stderr, tt.wantStderr)
			}
		})
	}
}
