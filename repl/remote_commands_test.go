package repl

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRemoteCommandsWithoutService checks the remote spawn commands of a
// shell with no service: listed by !help, refused with a clear message,
// and a program with an error is reported before anything else.
func TestRemoteCommandsWithoutService(t *testing.T) {
	hello := writeFile(t, "hello.iasm", helloSrc)
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "!help")
	for _, name := range []string{"!spawn_on ALIAS PATH", "!spawn_all PATH [TIMEOUT]", "!cluster_jobs"} {
		if !strings.Contains(ts.out.String(), name) {
			t.Errorf("!help lacks %q", name)
		}
	}
	tests := []struct{ line, errHas string }{
		{"!spawn_on n2 " + hello, "!spawn_on: remote spawn is not available in this shell"},
		{"!spawn_on n2", "usage: !spawn_on ALIAS PATH"},
		{"!spawn_all " + hello, "!spawn_all: remote spawn is not available"},
		{"!spawn_all " + hello + " soon", `!spawn_all: timeout "soon": want seconds or a duration such as 45s`},
		{"!cluster_jobs", "!cluster_jobs: remote spawn is not available"},
		{"!kill n2:3", "!kill: no job n2:3 (!jobs lists them)"},
		{"!wait n2:x", `!wait: "n2:x" is not a job name`},
	}
	for _, tt := range tests {
		err := ts.Execute(context.Background(), tt.line)
		if err == nil || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("%q: %v; want %q", tt.line, err, tt.errHas)
		}
	}
}

// TestParseTimeout checks the timeout argument of !spawn_all.
func TestParseTimeout(t *testing.T) {
	tests := []struct {
		arg  string
		want time.Duration
		ok   bool
	}{
		{"45", 45 * time.Second, true},
		{"1m30s", 90 * time.Second, true},
		{"0", 0, false},
		{"-5s", 0, false},
		{"2h", 0, false},
		{"x", 0, false},
	}
	for _, tt := range tests {
		got, err := parseTimeout(tt.arg)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v, ok %v", tt.arg, got, err, tt.want, tt.ok)
		}
	}
}
