package repl

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestExecute runs lines against a fresh scripted shell: every line but
// the last must succeed; the last must give wantErr (or no error), and
// stdout must then hold each of wantOut.
func TestExecute(t *testing.T) {
	hello := writeFile(t, "hello.iasm", helloSrc)
	badAsm := writeFile(t, "bad.iasm", ".code\n  load $0 #1\n  lod $1 #2\n")
	dupLabel := writeFile(t, "dup.iasm", ".code\nloop: inc $0\n")
	bytecode := writeBytecode(t, "hello.irb", helloSrc)
	missing := hello + ".missing"
	dir := t.TempDir()
	noSections := writeFile(t, "plain.iasm", "load $0 #7\n")
	endsInData := writeFile(t, "tail.iasm", "load $0 #1\n.data\nt: .asciiz 'tail'\n")
	endsInCode := writeFile(t, "code.iasm", ".data\nd: .integer #3\n.code\nload $2 #2\n")

	tests := []struct {
		name    string
		lines   []string
		wantErr string
		wantOut []string
	}{
		{"assembly runs at once", []string{"load $0 #5", "load $1 #7", "add $0 $1 $2", "!registers"}, "",
			[]string{"$0 = 5\n$1 = 7\n$2 = 12\n"}},
		{"data and prts", []string{".data", "msg: .asciiz 'hi\\n'", ".code", "prts @msg"}, "", []string{"hi\n"}},
		{"labels stay known", []string{"nop", "here: load $0 #1", "load $1 @here", "!registers"}, "", []string{"$1 = 4"}},
		{"label alone names the next line", []string{"top:", "inc $3", "!symbols"}, "", []string{"top", "code label", "0"}},
		{"bad assembly", []string{"lod $0 #1"}, "col 1: unknown mnemonic \"lod\"; did you mean load?\n    lod $0 #1\n    ^", nil},
		{"bad operand caret", []string{"load $0 $1"}, "\n    load $0 $1\n            ^", nil},
		{"undefined label", []string{"djmpe @nowhere"}, `undefined label "nowhere"`, nil},
		{"fault", []string{"load $1 #0", "div $0 $1 $2"}, "fault: pc 4: div $0 $1 $2: division by zero", nil},
		{"unknown command", []string{"!nope"}, "unknown command !nope (!help lists the commands)", nil},
		{"unknown command suggests", []string{"!registr"}, "did you mean !register?", nil},
		{"unknown command suggests by prefix", []string{"!sym"}, "unknown command !sym; did you mean !symbols?", nil},
		{"load_file a device", []string{"!load_file /dev/zero"}, "!load_file: /dev/zero is a character device, not a regular file", nil},
		{"load_file a directory", []string{"!load_file " + dir}, "!load_file: " + dir + " is a directory", nil},
		{"spawn a directory", []string{"!spawn " + dir}, "!spawn: " + dir + " is a directory", nil},
		{"unknown command suggests by a shared start", []string{"!regs"}, "unknown command !regs; did you mean !registers?", nil},
		{"unknown command suggests by a shared start alone", []string{"!symbolic_names"}, "unknown command !symbolic_names; did you mean !symbols?", nil},
		{"unknown command escapes what was typed", []string{"!no\x1b[2Jpe"}, `unknown command !no\x1b[2Jpe`, nil},
		{"load_file after .data starts in .code", []string{".data", "!load_file " + noSections, "!registers"}, "", []string{"$0 = 7"}},
		{"load_file after .data leaves the REPL in .data", []string{".data", "!load_file " + noSections, "s: .asciiz 'still data'", "!symbols"}, "",
			[]string{"s  string  0"}},
		{"load_file ending in .data leaves the REPL in .code", []string{"!load_file " + endsInData, "inc $0", "!registers"}, "", []string{"$0 = 2"}},
		{"load_file ending in .code leaves the REPL in .data", []string{".data", "!load_file " + endsInCode, "inc $0"}, `instruction "inc" in the .data section`, nil},
		{"load_file without sections leaves the REPL in .data", []string{".data", "!load_file " + noSections, "inc $0"}, `instruction "inc" in the .data section`, nil},
		{"load_file twice hints at the earlier load", []string{"!load_file " + dupLabel, "!load_file " + dupLabel},
			`label "loop" is already defined at ` + dupLabel + ":2:1\n" +
				"    loop: inc $0\n    ^\n(a label of the program already has that name: was the file loaded before? !clear_program forgets the program's labels)", nil},
		{"load_file after clear_program loads again", []string{"!load_file " + dupLabel, "!clear_program", "!load_file " + dupLabel, "!registers"}, "", []string{"$0 = 2"}},
		{"command too many args", []string{"!quit now"}, "usage: !quit", nil},
		{"command too few args", []string{"!kill"}, "usage: !kill ID", nil},
		{"help lists commands", []string{"!help"}, "", []string{"!help [COMMAND|MNEMONIC]", "!load_file [PATH]", "!spawn [PATH]", "!join_cluster HOST PORT", "!wait [ID]"}},
		{"help command", []string{"!help spawn"}, "", []string{"!spawn [PATH]\n    run an assembly or bytecode file"}},
		{"help command with bang", []string{"!help !kill"}, "", []string{"!kill ID\n    stop a spawned program"}},
		{"help mnemonic", []string{"!help LOAD"}, "", []string{"load $a #n\n", "example: load $0 #100"}},
		{"help unknown", []string{"!help frobnicate"}, `"frobnicate" is neither a command nor an instruction`, nil},
		{"help unknown escapes what was typed once", []string{"!help no\x1b[2Jpe"}, `"no\x1b[2Jpe" is neither`, nil},
		{"history", []string{"load $0 #1", "", "!history"}, "", []string{"   1  load $0 #1\n   2  !history\n"}},
		{"program", []string{"load $0 #1", "loop: inc $0", "!program"}, "", []string{".code", "load $0 #1", "loop:", "inc $0"}},
		{"symbols empty", []string{"!symbols"}, "", []string{"(no symbols)"}},
		{"registers none", []string{"!registers"}, "", []string{"(every register is 0)"}},
		{"registers all", []string{"!registers all"}, "", []string{"$0 = 0\n", "$31 = 0\n", "$f0 = 0.0\n", "$f31 = 0.0\n"}},
		{"registers bad arg", []string{"!registers some"}, "usage: !registers [all]", nil},
		{"float registers", []string{"loadf64 $1 #1.5", "!registers"}, "", []string{"$f1 = 1.5\n"}},
		{"clear registers", []string{"load $0 #9", "!clear_registers", "!registers"}, "", []string{"(every register is 0)"}},
		{"clear program keeps registers", []string{"here: load $0 #9", "!clear_program", "!program", "!symbols", "!registers"}, "",
			[]string{"0 bytes of code", "(no symbols)", "$0 = 9"}},
		{"reset clears all", []string{"here: load $0 #9", "!reset", "!symbols", "!registers"}, "", []string{"(no symbols)", "(every register is 0)"}},
		{"load_file runs and appends", []string{"!load_file " + hello, "!symbols", "prts @hello", "!registers"}, "",
			[]string{"Hello, world!\nhello", "start", "Hello, world!\n", "$5 = 42"}},
		{"load_file missing", []string{"!load_file " + missing}, "!load_file: " + missing + ": no such file or directory", nil},
		{"load_file bad assembly", []string{"!load_file " + badAsm}, "!load_file: " + badAsm + ":3:3: unknown mnemonic \"lod\"", nil},
		{"load_file label clash", []string{"loop: nop", "!load_file " + dupLabel}, `label "loop" is already defined`, nil},
		{"load_file bytecode", []string{"!load_file " + bytecode}, "is bytecode; !load_file takes assembly", nil},
		{"load_file no path at end of input", []string{"!load_file"}, "!load_file: no path given before the end of the input", nil},
		{"spawn missing", []string{"!spawn " + missing}, "!spawn: " + missing, nil},
		{"spawn bad assembly", []string{"!spawn " + badAsm}, "!spawn: " + badAsm + ":3:3", nil},
		{"kill not a number", []string{"!kill x"}, `!kill: "x" is not a job id`, nil},
		{"kill unknown job", []string{"!kill 9"}, "!kill: no job 9", nil},
		{"wait unknown job", []string{"!wait 3"}, "!wait: no job 3", nil},
		{"wait with no jobs", []string{"!wait"}, "", nil},
		{"jobs empty", []string{"!jobs"}, "", []string{"(no jobs)"}},
		{"quit", []string{"!quit"}, ErrQuit.Error(), nil},
		{"start_cluster unavailable", []string{"!start_cluster"}, "!start_cluster: clustering is not available", nil},
		{"join_cluster unavailable", []string{"!join_cluster 127.0.0.1 2254"}, "!join_cluster: clustering is not available", nil},
		{"join_cluster bad port", []string{"!join_cluster 127.0.0.1 http"}, `port "http": want a number from 1 to 65535`, nil},
		{"join_cluster usage", []string{"!join_cluster 127.0.0.1"}, `"127.0.0.1" is not HOST:PORT; want HOST:PORT or HOST PORT, such as 127.0.0.1:2254`, nil},
		{"cluster_members unavailable", []string{"!cluster_members"}, "!cluster_members: clustering is not available", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestShell(t, "", Options{})
			last := len(tt.lines) - 1
			ts.exec(t, tt.lines[:last]...)
			err := ts.Execute(context.Background(), tt.lines[last])
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("%q: unexpected error: %v", tt.lines[last], err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("%q: no error, want one containing %q", tt.lines[last], tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("%q: error\n%v\nwant it to contain\n%s", tt.lines[last], err, tt.wantErr)
			}
			out := ts.out.String()
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("stdout\n%s\nwant it to contain %q", out, want)
				}
			}
		})
	}
}

// TestFailedLineChangesNothing checks that a line that does not assemble
// leaves the program, the symbols and the registers as they were.
func TestFailedLineChangesNothing(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "top: load $0 #3")
	before := ts.asm.Program()
	for _, bad := range []string{"load $0 #1 #2", "top: nop", "inc $40", "prts 'x'", "load $1 #99999999999"} {
		if err := ts.Execute(context.Background(), bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	after := ts.asm.Program()
	if len(after.Code) != len(before.Code) || len(ts.asm.Symbols()) != 1 {
		t.Fatalf("program grew from %d to %d bytes, %d symbols", len(before.Code), len(after.Code), len(ts.asm.Symbols()))
	}
	if got := ts.vm.Registers()[0]; got != 3 {
		t.Fatalf("$0 = %d, want 3", got)
	}
}

// TestFaultMovesPastFailedCode checks that after a fault the next line
// runs only its own code, and the registers are those of the fault.
func TestFaultMovesPastFailedCode(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "load $1 #0", "load $4 #4")
	if err := ts.Execute(context.Background(), "div $0 $1 $2"); err == nil {
		t.Fatal("div by zero: no error")
	}
	ts.exec(t, "inc $3", "inc $3")
	r := ts.vm.Registers()
	if r[3] != 2 || r[4] != 4 {
		t.Fatalf("$3 = %d (want 2), $4 = %d (want 4)", r[3], r[4])
	}
}

// TestInterrupt stops an endless loop, as Ctrl-C does, and checks that
// the shell goes on with its state.
func TestInterrupt(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "load $7 #7", "eq $0 $0")
	done := make(chan error, 1)
	go func() { done <- ts.Execute(context.Background(), "spin: djmpe @spin") }()
	err := interruptUntil(t, ts, "the endless loop", done)
	if !errors.Is(err, errInterrupted) || !strings.Contains(err.Error(), "interrupted at pc 8") {
		t.Fatalf("error %v, want an interruption at pc 8", err)
	}
	ts.exec(t, "inc $7")
	if got := ts.vm.Registers()[7]; got != 8 {
		t.Fatalf("$7 = %d after the interruption, want 8", got)
	}
}

// TestInterruptAtPromptDoesNothing checks that Interrupt with nothing
// running leaves the next line alone.
func TestInterruptAtPromptDoesNothing(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.Interrupt()
	ts.exec(t, "load $0 #1")
	if got := ts.vm.Registers()[0]; got != 1 {
		t.Fatalf("$0 = %d, want 1", got)
	}
}

// TestFIFORefused checks that !load_file and !spawn of a FIFO return at
// once with an error saying what the path is, rather than block on it.
func TestFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.iasm")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"!load_file", "!spawn"} {
		ts := newTestShell(t, "", Options{})
		err := ts.Execute(context.Background(), cmd+" "+fifo)
		if want := cmd + ": " + fifo + " is a FIFO (named pipe), not a regular file"; err == nil || err.Error() != want {
			t.Errorf("%s of a FIFO: %v, want %q", cmd, err, want)
		}
	}
}
