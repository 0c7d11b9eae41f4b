package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestClusterSecondProcessRefused: a second process with the same data
// directory and alias as a running node (so the same node ID) refuses to
// start its cluster node and says that another process holds it; the
// first stays a member. Without --node-alias both processes take the data
// directory's node ID as their alias: the second says the same (it used
// to say "a node cannot join itself", which was not the cause).
func TestClusterSecondProcessRefused(t *testing.T) {
	t.Parallel()
	for _, alias := range []string{"c", ""} {
		name := "alias " + alias
		if alias == "" {
			name = "no alias"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1"})
			c := startNode(t, nodeSpec{alias: alias, host: "127.0.0.3", dataDir: dir})
			pa := startCluster(t, a, "127.0.0.1")
			startCluster(t, c, "127.0.0.3")
			want := joinCluster(t, c, "127.0.0.1", pa)
			waitMembers(t, a, want, waitFor)

			second := startNode(t, nodeSpec{alias: alias, host: "127.0.0.3", dataDir: dir})
			second.send(t, "!start_cluster", fmt.Sprintf("!join_cluster 127.0.0.1 %d", pa), "load $0 #7", "!registers")
			expectStderr(t, second, `(?m)^line 1: !start_cluster: .*another process holds .*node_id`, waitFor)
			expectStderr(t, second, `(?m)^line 2: !join_cluster 127\.0\.0\.1 \d+: .*another process holds`, waitFor)
			expect(t, second, `(?m)^\$0 = 7$`, waitFor)
			if out := second.stderr.buf.String(); strings.Contains(out, "cannot join itself") {
				t.Errorf("the second process blames a self-join:\n%s", out)
			}
			stayMembers(t, []*nodeProc{a, c}, want, 10*testHeartbeat)
		})
	}
}

// TestNodeAliasCheckedAtStart: an alias that breaks the rules is refused
// when the program starts (exit status 2, one line naming the flag and
// the rule), not at the first cluster command.
func TestNodeAliasCheckedAtStart(t *testing.T) {
	t.Parallel()
	for _, alias := range []string{"has space", "esc\x1b[2J", strings.Repeat("x", 65)} {
		cmd := exec.Command(iridiumBin, "--node-alias", alias)
		cmd.Env = testEnv(t)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("--node-alias %q: %v, want exit status 2\n%s", alias, err, out)
			continue
		}
		first, _, _ := strings.Cut(string(out), "\n")
		if !strings.Contains(first, "--node-alias") || !strings.Contains(first, "printable characters without spaces") ||
			strings.ContainsRune(first, '\x1b') {
			t.Errorf("--node-alias %q: first line %q, want the flag and the rule, escaped", alias, first)
		}
	}
}

// TestClusterKilledMemberIsListedFailedThenDropped: after kill -9, the
// others list the member as failed, with since when, while they redial
// it, and drop it with an event when the reconnect window ends.
func TestClusterKilledMemberIsListedFailedThenDropped(t *testing.T) {
	t.Parallel()
	extra := []string{"--reconnect-for", "3s"}
	a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1", extra: extra})
	c := startNode(t, nodeSpec{alias: "c", host: "127.0.0.3", extra: extra})
	pa := startCluster(t, a, "127.0.0.1")
	pc := startCluster(t, c, "127.0.0.3")
	joinCluster(t, c, "127.0.0.1", pa)
	waitMembers(t, a, map[string]string{"a": hostPort("127.0.0.1", pa), "c": hostPort("127.0.0.3", pc)}, waitFor)

	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.done
	expectEvent(t, a, eventRE("c", hostPort("127.0.0.3", pc), "(link closed|failed)"), waitFor)
	failed := false
	for _, r := range listMembers(t, a) {
		if r.alias == "c" && r.state == "failed" {
			failed = true
		}
	}
	if !failed {
		t.Errorf("a does not list c as failed right after the kill:\n%s", a.stdout.buf.String())
	}
	expectEvent(t, a, eventRE("c", hostPort("127.0.0.3", pc), "dropped"), waitFor)
	for _, r := range listMembers(t, a) {
		if r.alias == "c" {
			t.Errorf("a still lists c after dropping it: %+v", r)
		}
	}
}
