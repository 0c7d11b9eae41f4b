package repl

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestSpawnCap checks that !spawn refuses past Options.MaxJobs running
// programs, and works again once one is killed.
func TestSpawnCap(t *testing.T) {
	endless := writeFile(t, "endless.iasm", endlessSrc)
	ts := newTestShell(t, "", Options{MaxJobs: 2})
	ts.exec(t, "!spawn "+endless, "!spawn "+endless)
	err := ts.Execute(context.Background(), "!spawn "+endless)
	if err == nil || !strings.Contains(err.Error(), "2 programs run already, the most at once: !kill or !wait for one first") {
		t.Fatalf("third !spawn with a cap of 2: %v", err)
	}
	ts.exec(t, "!kill 1", "!spawn "+endless)
	if !strings.Contains(ts.out.String(), "[job 3] "+endless+" started") {
		t.Fatalf("after !kill, !spawn did not start job 3:\n%s", ts.out.String())
	}
}

// TestJobTableForgets checks that the table keeps at most keepJobs jobs,
// forgetting the oldest ended ones but not a fault no !wait has reported.
func TestJobTableForgets(t *testing.T) {
	hello := writeFile(t, "hello.iasm", helloSrc)
	fault := writeFile(t, "fault.iasm", faultSrc)
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "!spawn "+fault)
	for i := 0; i < keepJobs+20; i++ {
		ts.exec(t, "!spawn "+hello, fmt.Sprintf("!wait %d", i+2))
	}
	jobs := ts.jobs.list()
	if len(jobs) > keepJobs {
		t.Errorf("the table holds %d jobs, want at most %d", len(jobs), keepJobs)
	}
	if jobs[0].id != 1 || jobs[len(jobs)-1].id != keepJobs+21 {
		t.Errorf("the table holds jobs %d to %d; want the unreported fault (1) and the newest (%d)", jobs[0].id, jobs[len(jobs)-1].id, keepJobs+21)
	}
}

// TestCommandParsing checks that commands split on any white space and
// match in any case.
func TestCommandParsing(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "load $3 #9", "!REGISTERS", "!help\t load")
	out := ts.out.String()
	if !strings.Contains(out, "$3 = 9") || !strings.Contains(out, "load $a #n") {
		t.Fatalf("stdout:\n%s\nwant the registers and the help of load", out)
	}
}
