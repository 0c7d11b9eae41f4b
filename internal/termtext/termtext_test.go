package termtext

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iridium-vm/iridium/internal/termtext/termtexttest"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		in           string
		keepNewlines bool
		want         string
	}{
		{"plain text", false, "plain text"},
		{"a\x1b[31mred", false, `a\x1b[31mred`},
		{"two\nlines", true, "two\nlines"},
		{"two\nlines", false, `two\nlines`},
		{"tab\there", false, `tab\there`},
		{"bad \xff byte", false, `bad \xff byte`},
		{"bidi \u202e", false, `bidi \u202e`},
		{"héllo wörld", false, "héllo wörld"},
		{"del\x7f", false, `del\x7f`},
	}
	for _, tc := range tests {
		if got := Escape(tc.in, tc.keepNewlines); got != tc.want {
			t.Errorf("Escape(%q, %v) = %q, want %q", tc.in, tc.keepNewlines, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := Clip("short", 10); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	got := Clip(strings.Repeat("é", 100), 20)
	if len(got) > 20 || !strings.HasSuffix(got, "...") || !utf8.ValidString(got) {
		t.Errorf("Clip of a long word = %q (%d bytes)", got, len(got))
	}
	if got := Clip("\x1b\x1b\x1b\x1b\x1b", 5); got != `\x1b\x1b\x1b\x1b\x1b` {
		t.Errorf("Clip of escapes = %q, want all five", got)
	}
	if got := Clip("\x1b\x1b\x1b\x1b\x1b\x1b", 5); got != `\x1b\x1b...` {
		t.Errorf("Clip of escapes = %q, want two whole escapes and the mark", got)
	}
}

func TestWrap(t *testing.T) {
	got := Wrap("one two three four five six", 10, "  ")
	want := "one two\n  three\n  four\n  five six"
	if got != want {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
	for _, line := range strings.Split(Wrap(strings.Repeat("word ", 50), 30, "    "), "\n") {
		if len(line) > 30 {
			t.Errorf("line %q is over 30 columns", line)
		}
	}
	if got := Wrap("averyveryverylongword x", 5, ""); got != "averyveryverylongword\nx" {
		t.Errorf("Wrap of a long word = %q", got)
	}
}

func TestFit(t *testing.T) {
	in := "error: col 5: a message long enough to need two lines here\n    lod   $1\n        ^"
	want := "error: col 5: a message long enough to\n  need two lines here\n    lod   $1\n        ^"
	if got := Fit(in, 40, "  "); got != want {
		t.Errorf("Fit = %q, want %q", got, want)
	}
}

func TestIndent(t *testing.T) {
	got := Indent("one two three four", 12, "    ")
	if want := "    one two\n    three\n    four"; got != want {
		t.Errorf("Indent = %q, want %q", got, want)
	}
}

// TestClipHostile checks that Clip leaves nothing a terminal acts on in
// any hostile text, and keeps the name around it recognisable.
func TestClipHostile(t *testing.T) {
	for _, h := range termtexttest.Hostile {
		name := termtexttest.Name(h.Text)
		got := Clip(name, 100)
		if raw := termtexttest.Raw(got); raw != "" || !strings.HasPrefix(got, "evil") || !strings.HasSuffix(got, "name") {
			t.Errorf("%s: Clip(%q) = %q (%s)", h.Name, name, got, raw)
		}
	}
}
