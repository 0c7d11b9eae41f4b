package repl

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestScriptSourceLineLimit reads scripts with a limit of 4 bytes a line:
// a longer line is errLineTooLong, the line after it reads as it should,
// and a line ending is not counted.
func TestScriptSourceLineLimit(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // "ERR" for errLineTooLong
	}{
		{"short lines", "ab\ncd", []string{"ab", "cd"}},
		{"exactly the limit", "abcd\nabcd\r\nabcd", []string{"abcd", "abcd", "abcd"}},
		{"one over", "abcde\nx\n", []string{"ERR", "x"}},
		{"one over with CRLF", "abcde\r\nx\r\n", []string{"ERR", "x"}},
		{"long last line", "x\n" + strings.Repeat("y", 10000), []string{"x", "ERR"}},
		{"long lines in a row", strings.Repeat("z", 9000) + "\n" + strings.Repeat("z", 5) + "\n\nok\n", []string{"ERR", "ERR", "", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScriptSource(strings.NewReader(tt.input))
			s.max = 4
			defer s.close()
			var got []string
			for {
				line, err := s.readLine(context.Background(), "")
				if errors.Is(err, io.EOF) {
					break
				}
				switch {
				case errors.Is(err, errLineTooLong):
					line = "ERR"
				case err != nil:
					t.Fatalf("readLine: %v", err)
				}
				got = append(got, line)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
		})
	}
}
