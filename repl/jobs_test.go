package repl

import (
	"context"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/jobs"
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

// TestSharedJobTable checks two shells on one table: each sees the
// other's jobs, and closing one stops only the jobs it started.
func TestSharedJobTable(t *testing.T) {
	endless := writeFile(t, "endless.iasm", endlessSrc)
	table := jobs.NewTable(4)
	defer table.Close()
	a := newTestShell(t, "", Options{Jobs: table, JobOwner: "ssh a"})
	b := newTestShell(t, "", Options{Jobs: table, JobOwner: "ssh b"})
	a.exec(t, "!spawn "+endless)
	b.exec(t, "!spawn "+endless, "!jobs")
	if !hasFields(b.out.String(), "1", "running", "ssh", "a", endless) || !hasFields(b.out.String(), "2", "running", "ssh", "b", "(you)", endless) {
		t.Fatalf("b's !jobs:\n%s\nwant a's job and b's own", b.out.String())
	}
	a.Close()
	waitJob(t, b, 1)
	if state, _ := mustLookup(t, table, "1").Status(); state != jobs.Killed {
		t.Errorf("a's job is %s after a closed, want killed", state)
	}
	if state, _ := mustLookup(t, table, "2").Status(); state != jobs.Running {
		t.Errorf("b's job is %s after a closed, want running", state)
	}
}

func mustLookup(t *testing.T, table *jobs.Table, name string) *jobs.Job {
	t.Helper()
	j, err := table.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return j
}
