package repl

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestComplete checks Tab completion of commands, mnemonics, labels, file
// paths, job ids and help topics.
func TestComplete(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"prog.iasm", "prime.iasm", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "progs"), 0o755); err != nil {
		t.Fatal(err)
	}
	endless := writeFile(t, "endless.iasm", endlessSrc)
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "loop: nop", "lonely: nop", "!spawn "+endless)

	tests := []struct {
		line      string
		want      []string
		wantTyped string
	}{
		{"!reg", []string{"isters ", "ister ", "istered "}, "!reg"},
		{"!registe", []string{"rs ", "r ", "red "}, "!registe"},
		{"!clear_", []string{"registers ", "program "}, "!clear_"},
		{"!zz", nil, "!zz"},
		{"hl", []string{"t "}, "hl"},
		{"LOADF", []string{"64 "}, "loadf"},
		{"prt", []string{"s ", "i ", "f64 "}, "prt"},
		{"top: inc", []string{" "}, "inc"},
		{"djmpe @lo", []string{"nely ", "op "}, "lo"},
		{"load $0 @lon", []string{"ely "}, "lon"},
		{"load $", nil, "$"},
		{"load $0 #1 l", nil, "l"},
		{"!load_file " + dir + "/pr", []string{"ime.iasm", "og.iasm", "ogs/"}, "pr"},
		{"!spawn " + dir + "/.h", []string{"idden"}, ".h"},
		{"!load_file\t" + dir + "/pr", []string{"ime.iasm", "og.iasm", "ogs/"}, "pr"},
		{"!SPAWN " + dir + "/.h", []string{"idden"}, ".h"},
		{"!Help\tsp", []string{"awn ", "awn_on ", "awn_all "}, "sp"},
		{"!KILL  ", []string{"1 "}, ""},
		{"!spawn " + dir + "/nothing", nil, "nothing"},
		{"!help sp", []string{"awn ", "awn_on ", "awn_all "}, "sp"},
		{"!help dj", []string{"mpe "}, "dj"},
		{"!kill ", []string{"1 "}, ""},
		{"!registers a", []string{"ll "}, "a"},
		{"!quit x", nil, "x"},
	}
	for _, tt := range tests {
		got, typed := ts.complete(tt.line)
		if !reflect.DeepEqual(got, tt.want) || typed != tt.wantTyped {
			t.Errorf("complete(%q) = %q, %q; want %q, %q", tt.line, got, typed, tt.want, tt.wantTyped)
		}
	}
}

// TestCompleteAskingPath checks that the line that answers "path:"
// completes as a path.
func TestCompleteAskingPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.iasm"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ts := newTestShell(t, "", Options{})
	ts.setAskingPath(true)
	got, _ := ts.complete(dir + "/he")
	if !reflect.DeepEqual(got, []string{"llo.iasm"}) {
		t.Fatalf("complete = %q", got)
	}
}

// TestCompleterRunes checks readline's adapter: endings as runes and the
// typed length in runes.
func TestCompleterRunes(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	line := []rune("!hist")
	got, n := completer{ts.Shell}.Do(line, len(line))
	if len(got) != 1 || string(got[0]) != "ory " || n != 5 {
		t.Fatalf("Do = %q, %d", got, n)
	}
}
