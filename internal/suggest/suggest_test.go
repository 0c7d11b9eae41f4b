package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"load", "load", 0}, {"lod", "load", 1}, {"laod", "load", 2},
		{"", "abc", 3}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"hlt", "halt", 1},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (it is symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	words := []string{"load", "add", "hlt", "loop"}
	tests := []struct {
		word string
		max  int
		want string
	}{
		{"lod", 3, "load"}, // load and loop are both 1 away: the first wins
		{"hatl", 3, "hlt"},
		{"zzzzzz", 3, ""},
		{"lod", 1, ""}, // nothing nearer than 1
	}
	for _, tt := range tests {
		if got := Closest(tt.word, words, tt.max); got != tt.want {
			t.Errorf("Closest(%q, max %d) = %q, want %q", tt.word, tt.max, got, tt.want)
		}
	}
}

func TestPrefixed(t *testing.T) {
	cmds := []string{"!registers", "!reset", "!reg_other_x", "!clear_registers", "!clear_program", "!jobs"}
	tests := []struct{ word, want string }{
		{"!rega", ""},           // "!reg" is shared by two, and neither ends in "a": no guess
		{"!regs", "!registers"}, // "!reg" is shared by two, and "s" ends only one
		{"!jo", "!jobs"},        // the only one starting so
		{"!clear", ""},          // two start so
		{"!clear_r", "!clear_registers"},
		{"!clear_rx", "!clear_registers"}, // the longest shared start
		{"!x", ""},                        // nothing shared past "!"
	}
	for _, tt := range tests {
		if got := Prefixed(tt.word, cmds, 4); got != tt.want {
			t.Errorf("Prefixed(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := Prefixed("!regs", []string{"!registers", "!reset"}, 4); got != "!registers" {
		t.Errorf("Prefixed(!regs) = %q, want !registers", got)
	}
	if got := Prefixed("!regs", []string{"!register", "!registers", "!registered"}, 4); got != "!registers" {
		t.Errorf("Prefixed(!regs) beside !register and !registered = %q, want !registers", got)
	}
	if got := Prefixed("!regd", []string{"!registed", "!registered"}, 4); got != "" {
		t.Errorf("Prefixed(!regd) = %q; two end in \"d\": want no guess", got)
	}
}
