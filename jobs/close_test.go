package jobs

import (
	"context"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestCloseLeavesNoGoroutine floods output from a job run on another
// member (a printer, an output ticker and sends waiting for room), kills
// it through the other side, then closes both services and tables: no
// goroutine of theirs is left.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	n := newFakeNet(t, 1<<20, 4)
	a := n.add("n1", &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	n.add("n2", &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	j, err := a.svc.SpawnOn(context.Background(), "n2", RemoteSpec{File: "flood.iasm", Owner: NewOwner("me"),
		Program: program(t, floodSrc), Output: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if state, _ := j.Status(); state != Running {
		t.Fatalf("the flood is %s, want running", state)
	}
	if during := runtime.NumGoroutine(); during <= before {
		t.Fatalf("%d goroutines while a job runs elsewhere, %d before: the test sees none of the service's", during, before)
	}
	for _, alias := range []string{"n1", "n2"} {
		n.get(alias).stop()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left after Close (had %d):\n%s", runtime.NumGoroutine()-before, before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
