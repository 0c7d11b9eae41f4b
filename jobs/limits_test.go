package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestMemberStopsOnlyItsOwnJobs: a member may stop the jobs it started on
// another member, and no others: not another member's, not the jobs of
// that member's own shells. A refused kill leaves the job running.
func TestMemberStopsOnlyItsOwnJobs(t *testing.T) {
	n := cluster3(t)
	r := mustSpawnOn(t, n.get("n1"), "n2", endlessSrc) // n2:1, run for n1
	local, err := n.get("n2").table.Start(context.Background(), Spec{
		File: "local.iasm", Owner: NewOwner("shell"), Program: program(t, endlessSrc), Output: &testkit.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Kill()
	ctx := context.Background()
	for _, victim := range []*Job{r.job, local} {
		err := n.get("n3").svc.KillOn(ctx, "n2", victim.ID)
		want := "was not started by n3: a member may stop only the jobs it started"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("n3 kills job %d of n2: %v; want %q", victim.ID, err, want)
		}
	}
	theirs, err := n.get("n2").table.Lookup("1")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []*Job{theirs, local} {
		if state, _ := j.Status(); state != Running {
			t.Errorf("job %s of n2 is %s after refused kills, want running", j.Name(), state)
		}
	}
	// The owner of the shell's job is no member: n1 may not stop it either.
	if err := n.get("n1").svc.KillOn(ctx, "n2", local.ID); err == nil {
		t.Error("n1 stopped a job of n2's shell")
	}
	if err := n.get("n1").svc.KillOn(ctx, "n2", 1); err != nil {
		t.Fatalf("n1 kills its own job on n2: %v", err)
	}
	if line := r.endLine(t); !strings.Contains(line, "killed") {
		t.Errorf("end line %q, want killed", line)
	}
}

// TestOneMemberCannotTakeEveryPlace: --max-remote-jobs-per-member keeps
// places of --max-remote-jobs for the other members.
func TestOneMemberCannotTakeEveryPlace(t *testing.T) {
	n := newFakeNet(t, 1<<20, 64)
	for _, alias := range []string{"n1", "n3"} {
		n.add(alias, &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	}
	n.add("n2", &ServiceConfig{RemoteSpawn: true, MaxRemoteJobs: 3, ReplyTimeout: waitTimeout}) // 2 per member by default
	mustSpawnOn(t, n.get("n1"), "n2", endlessSrc)
	first := mustSpawnOn(t, n.get("n1"), "n2", endlessSrc)
	_, err := spawnOn(t, n.get("n1"), "n2", endlessSrc)
	want := "n2 refused: n2 runs 2 programs for n1 already, the most it takes from one member (--max-remote-jobs-per-member)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("n1's third job: %v; want %q", err, want)
	}
	mustSpawnOn(t, n.get("n3"), "n2", endlessSrc) // n3 still has a place
	_, err = spawnOn(t, n.get("n3"), "n2", endlessSrc)
	want = "n2 runs 3 programs for other members already, the most it takes (--max-remote-jobs)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("the fourth job: %v; want %q", err, want)
	}
	// A place given back is n1's again.
	first.job.Kill()
	first.endLine(t)
	testkit.EventuallyNil(t, waitTimeout, "n1 to get its place back", func() error {
		r, err := spawnOn(t, n.get("n1"), "n2", helloSrc)
		if err == nil {
			r.endLine(t)
		}
		return err
	})
}

// TestRemoteJobTimeLimit: a job run for another member is killed once it
// has run --remote-job-time-limit, and its end says why; a job that ends
// in time is not touched.
func TestRemoteJobTimeLimit(t *testing.T) {
	const limit = 300 * time.Millisecond
	n := newFakeNet(t, 1<<20, 64)
	n.add("n1", &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	n.add("n2", &ServiceConfig{RemoteSpawn: true, RemoteJobTimeLimit: limit, ReplyTimeout: waitTimeout})
	quick := mustSpawnOn(t, n.get("n1"), "n2", helloSrc)
	if line := quick.endLine(t); !strings.Contains(line, " done after ") {
		t.Errorf("a quick job's end: %q, want done", line)
	}
	r := mustSpawnOn(t, n.get("n1"), "n2", endlessSrc)
	line := r.endLine(t)
	want := "killed after "
	reason := ": stopped: n2 lets a program of another member run 300ms at most (--remote-job-time-limit)"
	if !strings.Contains(line, want) || !strings.Contains(line, reason) {
		t.Fatalf("end line %q; want %q and %q", line, want, reason)
	}
	if rt := r.job.RunTime(); rt < limit {
		t.Errorf("the job ran %v, less than its limit %v", rt, limit)
	}
	// On n2 itself the job ended killed, for the same reason.
	theirs, err := n.get("n2").table.Lookup("2")
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, theirs)
	if state, err := theirs.Status(); state != Killed || err == nil || !strings.Contains(err.Error(), "--remote-job-time-limit") {
		t.Errorf("on n2 the job is %s (%v), want killed for its time limit", state, err)
	}
}
