package testkit

import (
	"testing"
	"time"
)

// The pause between two polls grows from minPoll to maxPoll: a condition
// that holds soon is seen within a millisecond, and a long wait on a busy
// machine costs few wake-ups.
const (
	minPoll = time.Millisecond
	maxPoll = 20 * time.Millisecond
)

// Eventually polls cond until it returns true, and fails the test if it
// has not within timeout. It is for states that signal nothing when they
// are reached; what names the state in the failure.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	EventuallyNil(t, timeout, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// errNotYet is what a false condition of Eventually stands for.
var errNotYet = notYet{}

type notYet struct{}

func (notYet) Error() string { return "the condition does not hold" }

// EventuallyNil polls cond until it returns nil, and fails the test if it
// has not within timeout; the failure names what was awaited and cond's
// last error.
func EventuallyNil(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := minPoll
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %v: %v", what, timeout, err)
		}
		time.Sleep(pause) // polling, bounded by the deadline above
		pause = min(2*pause, maxPoll)
	}
}
