package cluster

import (
	"testing"
	"time"
)

// Both kinds of probe timer fire when set, at the time last set, sooner
// or later, set from another goroutine than the waiting one; close ends
// a wait.
func TestSlotTimerFiresAtTheTimeLastSet(t *testing.T) {
	t.Parallel()
	kinds := map[string]func() slotTimer{
		"this system's": newSlotTimer,
		"go":            func() slotTimer { return newGoTimer() },
	}
	for name, newTimer := range kinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			timer := newTimer()
			defer timer.close()
			waited := func() <-chan bool {
				c := make(chan bool, 1)
				go func() { c <- timer.wait() }()
				return c
			}
			const later = 300 * time.Millisecond
			start := time.Now()
			timer.set(20 * time.Millisecond)
			timer.set(later) // moved later before it fired
			select {
			case ok := <-waited():
				if !ok {
					t.Fatal("wait reported the timer closed")
				}
				if got := time.Since(start); got < later {
					t.Fatalf("fired after %v, before the %v it was set to last", got, later)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the timer never fired")
			}

			timer.set(time.Hour)
			c := waited()
			timer.set(0) // moved sooner while waited on: at once
			select {
			case ok := <-c:
				if !ok {
					t.Fatal("wait reported the timer closed")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the timer set sooner never fired")
			}

			timer.set(time.Hour)
			c = waited()
			timer.close()
			select {
			case ok := <-c:
				if ok {
					t.Fatal("wait reported a fire after close")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("close did not end the wait")
			}
		})
	}
}
