package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/ssh"
)

// TestCappedInput: at most the limit passes; a script's input ends at
// the last whole line within it, a terminal's at the limit itself.
func TestCappedInput(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		limit      int64
		wholeLines bool
		want       string
		over       bool
	}{
		{"under", "ab\ncd\n", 10, true, "ab\ncd\n", false},
		{"exactly", "abc\ndefgh\n", 10, true, "abc\ndefgh\n", false},
		{"last line without newline", "ab\ncd", 10, true, "ab\ncd", false},
		{"over, cut mid-line", "ab\ncd\nefghij\n", 10, true, "ab\ncd\n", true},
		{"over, cut at a line's end", "ab\ncd\nefgh\n", 6, true, "ab\ncd\n", true},
		{"over, no whole line", "abcdefghijkl\n", 10, true, "", true},
		{"terminal: over", "abcdef", 4, false, "abcd", true},
		{"terminal: under", "abc", 4, false, "abc", false},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/onebyte=%v", tt.name, oneByte), func(t *testing.T) {
				var r io.Reader = strings.NewReader(tt.in)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				c := newCappedInput(r, tt.limit, tt.wholeLines)
				got, err := io.ReadAll(c)
				if string(got) != tt.want {
					t.Errorf("passed %q, want %q", got, tt.want)
				}
				if errors.Is(err, ErrInputLimit) != tt.over || c.overLimit() != tt.over {
					t.Errorf("error %v (over %v), want over the limit: %v", err, c.overLimit(), tt.over)
				}
			})
		}
	}
}

// TestScriptOverInputLimit: a piped script longer than MaxSessionInput
// runs its whole lines within the limit, not the line cut by it nor any
// after, and the session ends with status 1 and an error that says so.
func TestScriptOverInputLimit(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	_, addr, _ := startServer(t, func(c *Config) { c.MaxSessionInput = 1000 }, key.PublicKey())
	c, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var script strings.Builder
	for i := range 200 {
		fmt.Fprintf(&script, "line%05d\n", i) // 10 bytes: line 99 ends at byte 1000
	}
	script.WriteString("x") // keeps the limit from falling on the input's end
	var stdout, stderr bytes.Buffer
	sess.Stdin, sess.Stdout, sess.Stderr = strings.NewReader(script.String()[5:]), &stdout, &stderr
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	err = sess.Wait()
	var exit *ssh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Errorf("session ended with %v, want exit status 1", err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	// The input starts "0000\n", then 10-byte lines: line00099 ends at
	// byte 995, and the 1000th byte is in the middle of line00100.
	if len(lines) != 100 || !strings.HasSuffix(lines[0], " 0000") || !strings.HasSuffix(lines[99], " line00099") {
		t.Errorf("ran %d lines (first %q, last %q), want 100: 0000 to line00099", len(lines), lines[0], lines[len(lines)-1])
	}
	if want := "over its limit of 1000 bytes: the lines before it ran"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q, want it to say %q", stderr.String(), want)
	}
}
