package remote

import (
	"slices"
	"testing"
)

// TestParseRunRequest: only an exec whose first word is "run" runs a
// program; other commands stay REPL lines.
func TestParseRunRequest(t *testing.T) {
	tests := []struct {
		command string
		want    []string // nil: not a run request
	}{
		{"run", []string{}},
		{"  run\t--registers ", []string{"--registers"}},
		{"run fib.iasm", []string{"fib.iasm"}},
		{"running", nil},
		{"run: hlt", nil},
		{"!run", nil},
		{"load $0 #1\nrun", nil},
		{"", nil},
	}
	for _, tt := range tests {
		r := parseRunRequest(tt.command)
		if (r == nil) != (tt.want == nil) || r != nil && !slices.Equal(r.Args, tt.want) {
			t.Errorf("parseRunRequest(%q) = %+v, want args %q", tt.command, r, tt.want)
		}
	}
}
