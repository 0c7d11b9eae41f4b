package cluster

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseJoinAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		words []string
		host  string
		port  int
		err   string
	}{
		{[]string{"127.0.0.1:2254"}, "127.0.0.1", 2254, ""},
		{[]string{"127.0.0.1", "2255"}, "127.0.0.1", 2255, ""},
		{[]string{"[::1]:2254"}, "::1", 2254, ""},
		{[]string{"::1", "2254"}, "::1", 2254, ""},
		{[]string{"node-a.example:1"}, "node-a.example", 1, ""},
		{[]string{"127.0.0.1"}, "", 0, `"127.0.0.1" is not HOST:PORT; want HOST:PORT or HOST PORT, such as 127.0.0.1:2254`},
		{[]string{"::1"}, "", 0, "such as [::1]:2254"},
		{[]string{"2255"}, "", 0, "such as 127.0.0.1:2255"},
		{[]string{"a b/c"}, "", 0, "such as 127.0.0.1:2254"},
		{[]string{":2254"}, "", 0, "no host before the port"},
		{[]string{"h:0"}, "", 0, `port "0": want a number from 1 to 65535 (a node's cluster port is 2254`},
		{[]string{"h", "65536"}, "", 0, `port "65536"`},
		{[]string{"h", "x"}, "", 0, `port "x"`},
		{nil, "", 0, "such as 127.0.0.1:2254"},
		{[]string{"a", "b", "c"}, "", 0, "such as 127.0.0.1:2254"},
	} {
		host, port, err := ParseJoinAddr(tc.words...)
		if tc.err == "" {
			if err != nil || host != tc.host || port != tc.port {
				t.Errorf("ParseJoinAddr(%q) = %q, %d, %v; want %q, %d", tc.words, host, port, err, tc.host, tc.port)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseJoinAddr(%q): error %v, want one containing %q", tc.words, err, tc.err)
		}
	}
}

// FuzzParseJoinAddr: any text parses to a host and a valid port or to an
// error that is valid UTF-8 and bounded, never a panic.
func FuzzParseJoinAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:2254", "[::1]:1", "h", ":", "[", "h:99999", "\x1b[2J:1"} {
		f.Add(s, "")
		f.Add(s, "2254")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		words := []string{a}
		if b != "" {
			words = append(words, b)
		}
		host, port, err := ParseJoinAddr(words...)
		if err != nil {
			if msg := err.Error(); len(msg) > 512 || !utf8.ValidString(msg) {
				t.Fatalf("error of %d bytes, valid UTF-8 %v: %q", len(msg), utf8.ValidString(msg), msg)
			}
			return
		}
		if host == "" || port < 1 || port > 65535 {
			t.Fatalf("ParseJoinAddr(%q) = %q, %d", words, host, port)
		}
	})
}
