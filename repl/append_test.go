package repl

import (
	"context"
	"reflect"
	"testing"
)

// Labels typed line by line are offered by Tab at once; a line that fails
// adds none; !clear_program forgets them and later labels are offered
// again. The program grows a line at a time and each line runs once.
func TestAppendedLabelsComplete(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "alpha: inc $1", "beta: inc $1", "alps: inc $1")
	if err := ts.Execute(context.Background(), "alto: bogus $1"); err == nil {
		t.Fatal("a bad line assembled")
	}
	complete := func(line string) []string {
		got, _ := ts.complete(line)
		return got
	}
	if got, want := complete("djmpe @al"), []string{"pha ", "ps "}; !reflect.DeepEqual(got, want) {
		t.Errorf("after three lines and a bad one: @al completes to %q, want %q", got, want)
	}
	if got := ts.vm.Registers()[1]; got != 3 {
		t.Errorf("$1 = %d after three lines of inc, want 3", got)
	}
	ts.exec(t, "!clear_program")
	if got := complete("djmpe @"); got != nil {
		t.Errorf("after !clear_program: @ completes to %q, want nothing", got)
	}
	ts.exec(t, "gamma: inc $1", "djmpe @gamma")
	if got, want := complete("djmpe @"), []string{"gamma "}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a new label: @ completes to %q, want %q", got, want)
	}
}
