package testkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// LeakGrace is how long a leak check waits for goroutines to end after
// the code that owns them was told to stop: they may be on their way out
// on a busy machine.
const LeakGrace = 10 * time.Second

// The goroutine label the checks put on a test's goroutine, or on the
// goroutine running a package's tests. Every goroutine started from
// there, directly or through others, inherits it, so the checks can tell
// a test's goroutines from those of tests running in parallel.
const (
	testLabel = "testkit.test"
	mainLabel = "testkit.main"
	mainValue = "run"
)

// CheckGoroutines fails t if goroutines that t started, directly or
// through goroutines it started, are still running LeakGrace after t and
// its cleanups end. Call it first in a test, so its check runs after the
// cleanups registered later (which close what the test opened). It works
// in parallel tests: goroutines of other tests are not counted.
func CheckGoroutines(t *testing.T) {
	t.Helper()
	id := fmt.Sprintf("%p", t)
	// Setting labels replaces them all: keep Main's, which every test
	// goroutine has under Main.
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(mainLabel, mainValue, testLabel, id)))
	t.Cleanup(func() {
		if left := awaitGoroutines(testLabel, id, LeakGrace); left != "" {
			t.Errorf("goroutines this test started are still running %v after it ended:\n%s", LeakGrace, left)
		}
	})
}

// Main runs the tests of m, then exits with their status, or with 1 if
// they passed but goroutines they started are still running LeakGrace
// later. Use it as TestMain:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
//
// knownLeaks names functions (as a stack shows them, package path and
// all) whose goroutines are known to outlive their owner: a bug reported
// and not yet fixed, each with a comment at the call saying where.
func Main(m *testing.M, knownLeaks ...string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(mainLabel, mainValue)))
	code := m.Run()
	pprof.SetGoroutineLabels(context.Background())
	if code == 0 {
		if left := awaitGoroutines(mainLabel, mainValue, LeakGrace, knownLeaks...); left != "" {
			fmt.Fprintf(os.Stderr, "testkit: goroutines the tests started are still running %v after they ended:\n%s", LeakGrace, left)
			code = 1
		}
	}
	os.Exit(code)
}

// awaitGoroutines polls until no goroutine labelled key=value is running
// (test goroutines themselves, and those in a function of known, aside),
// for at most grace, and returns the stacks of those left, or "".
func awaitGoroutines(key, value string, grace time.Duration, known ...string) string {
	skip := append([]string(nil), ignored...)
	for _, fn := range known {
		skip = append(skip, "\t"+fn+"+")
	}
	deadline := time.Now().Add(grace)
	pause := minPoll
	for {
		left := labelled(key, value, skip)
		if left == "" || time.Now().After(deadline) {
			return left
		}
		time.Sleep(pause) // polling, bounded by the deadline above
		pause = min(2*pause, maxPoll)
	}
}

// ignored are functions whose goroutines live as long as the process by
// design, whoever happened to start them first.
var ignored = []string{
	"\ttesting.tRunner+", // a test's own goroutine, running this check
	"\tos/signal.loop+",  // signal.Notify's delivery, started once
}

// labelled returns the groups of the goroutine profile whose goroutines
// carry the label key=value and whose stacks hold none of skip, as the
// profile prints them, or "".
func labelled(key, value string, skip []string) string {
	var profile bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&profile, 1); err != nil {
		return "reading the goroutine profile: " + err.Error()
	}
	// Groups are separated by blank lines; a labelled one has the line
	// `# labels: {"key":"value", ...}` after its count.
	want := fmt.Sprintf("%q:%q", key, value)
	var left strings.Builder
	_, groups, _ := strings.Cut(profile.String(), "\n") // "goroutine profile: total n"
	for _, group := range strings.Split(groups, "\n\n") {
		if !hasLabel(group, want) || containsAny(group, skip) {
			continue
		}
		left.WriteString(group)
		left.WriteString("\n\n")
	}
	return left.String()
}

// hasLabel reports whether a profile group's labels line holds label, a
// quoted "key":"value" pair.
func hasLabel(group, label string) bool {
	for _, line := range strings.Split(group, "\n") {
		if rest, ok := strings.CutPrefix(line, "# labels: "); ok {
			return strings.Contains(rest, label)
		}
	}
	return false
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
