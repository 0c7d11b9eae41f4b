package repl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
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
		{"!reg", []string{"isters "}, "!reg"},
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
		{"!spawn " + dir + "/nothing", nil, "nothing"},
		{"!help sp", []string{"awn "}, "sp"},
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

// fakeNode is a ClusterNode that records what it was asked.
type fakeNode struct {
	joined  string
	failure error
}

func (f *fakeNode) Start(context.Context) (string, error) { return "127.0.0.1:2254", f.failure }

func (f *fakeNode) Join(_ context.Context, host string, port int) error {
	f.joined = host + " " + strconv.Itoa(port)
	return f.failure
}

func (f *fakeNode) Members() []ClusterMember {
	return []ClusterMember{{Alias: "a", Addr: "127.0.0.1:2254", State: "local"}, {Alias: "b", Addr: "127.0.0.1:2255", State: "alive"}}
}

// TestClusterCommands drives the cluster commands against a fake node.
func TestClusterCommands(t *testing.T) {
	node := &fakeNode{}
	ts := newTestShell(t, "", Options{Cluster: node})
	ts.exec(t, "!start_cluster", "!join_cluster 10.0.0.2 2255", "!cluster_members")
	out := ts.out.String()
	for _, want := range []string{"cluster node listening on 127.0.0.1:2254", "joined the cluster through 10.0.0.2 2255"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout\n%s\nwant %q", out, want)
		}
	}
	if !hasFields(out, "b", "127.0.0.1:2255", "alive") || !hasFields(out, "ALIAS", "ADDRESS", "STATE") {
		t.Errorf("stdout\n%s\nwant the member table", out)
	}
	if node.joined != "10.0.0.2 2255" {
		t.Errorf("node joined %q", node.joined)
	}
	node.failure = errors.New("connection refused")
	err := ts.Execute(context.Background(), "!join_cluster 10.0.0.3 2256")
	if err == nil || err.Error() != "!join_cluster 10.0.0.3 2256: connection refused" {
		t.Fatalf("failed join: %v", err)
	}
}
