package repl

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestPipedProgramRunsWhole: input whose first real line is a section
// directive and which has no command is one program, assembled whole (its
// labels may be used before their definition); any other input is a
// script, run line by line.
func TestPipedProgramRunsWhole(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		wantErr    error
		wantOut    string
		wantStderr string // contained; "" wants nothing
	}{
		{"forward labels", "; comment\n\n.DATA\nm: .asciiz 'ok'\n.code ; code\ncall @f\nhlt\nf: prts @m\nret\n", nil, "ok", ""},
		{"errors are the program's", ".code\nload $0 #1\n\ncall @missing\n", ErrFailed, "",
			"stdin:4:6: undefined label \"missing\"\n    call @missing\n         ^\n"},
		{"fault", ".code\nload $1 #0\ndiv $0 $1 $2\n", ErrFailed, "", "stdin: fault: pc 4: div $0 $1 $2: division by zero"},
		{"a command makes it a script", ".code\ncall @f\n!registers\n", ErrFailed, "(every register is 0)",
			"line 2: col 6: undefined label \"f\""},
		{"no section first: a script", "load $0 #4\n.code\n!registers\n", nil, "$0 = 4", ""},
		{"only comments", "; nothing\n\n   ; at all\n", nil, "", ""},
		{"a line too long: a script", ".code\n" + strings.Repeat("x", MaxLineSize+1) + "\nload $0 #1\n!registers\n", ErrFailed, "$0 = 1",
			"line 2: longer than 1 MiB"},
		{"too large", ".data\n" + strings.Repeat("s: .asciiz '"+strings.Repeat("x", 1<<16)+"'\n", MaxProgramInput>>16+1), ErrFailed, "",
			"the input starts as a program file (.data or .code) and is over 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestShell(t, tt.input, Options{})
			err := ts.Run(context.Background())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Run: %v, want %v; stderr:\n%s", err, tt.wantErr, ts.err.String())
			}
			if !strings.Contains(ts.out.String(), tt.wantOut) || tt.wantOut == "" && ts.out.String() != "" {
				t.Errorf("stdout\n%q\nwant %q", ts.out.String(), tt.wantOut)
			}
			if !strings.Contains(ts.err.String(), tt.wantStderr) || tt.wantStderr == "" && ts.err.String() != "" {
				t.Errorf("stderr\n%s\nwant %q", ts.err.String(), tt.wantStderr)
			}
		})
	}
}

// FuzzReadPipedProgram: whatever the input, readPipedProgram either
// returns it whole as a program or leaves the shell to read the very lines
// a script source reads from it.
func FuzzReadPipedProgram(f *testing.F) {
	for _, seed := range []string{"", ".code\ninc $0\n", "; c\n.data\nx: .asciiz ';!'\n", ".data\n!registers\n", "load $0 #1\r\n.code", "\n\n.code\r\n!\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		s, err := New(Options{Stdin: strings.NewReader(input)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		want := readAllLines(t, newScriptSource(strings.NewReader(input)))
		src, ok, err := s.readPipedProgram(context.Background())
		switch {
		case err != nil:
			t.Fatalf("readPipedProgram: %v", err)
		case ok:
			if got := strings.Join(want, "\n") + "\n"; src != got {
				t.Fatalf("program %q, want the input's lines %q", src, got)
			}
		default:
			if got := readAllLines(t, s.in); strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
				t.Fatalf("script lines %q, want %q", got, want)
			}
		}
	})
}

// readAllLines reads src to its end.
func readAllLines(t *testing.T, src lineSource) []string {
	var lines []string
	for {
		l, err := src.readLine(context.Background(), "")
		if errors.Is(err, io.EOF) {
			return lines
		}
		if err != nil {
			t.Fatalf("readLine: %v", err)
		}
		lines = append(lines, l)
	}
}
