package repl

import (
	"context"
	"strings"
	"testing"
)

// emptyNode is a cluster node that is in no cluster: it lists no member.
type emptyNode struct{ fakeNode }

func (emptyNode) Members() []ClusterMember { return nil }

// TestJoinClusterForms: !join_cluster joins with HOST:PORT as with HOST
// PORT, an IPv6 host in brackets included.
func TestJoinClusterForms(t *testing.T) {
	for line, want := range map[string]string{
		"!join_cluster 10.0.0.2:2255": "10.0.0.2 2255",
		"!join_cluster 10.0.0.2 2255": "10.0.0.2 2255",
		"!join_cluster [::1]:2254":    "::1 2254",
	} {
		node := &fakeNode{}
		ts := newTestShell(t, "", Options{})
		ts.SetCluster(node)
		ts.exec(t, line)
		if node.joined != want {
			t.Errorf("%s joined %q, want %q", line, node.joined, want)
		}
	}
}

// TestOtherSystemsCommands: what Serf and Erlang users type gets the
// command that does its job, only if this shell has that command.
func TestOtherSystemsCommands(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	for typed, want := range map[string]string{
		"!members": "!cluster_members", "!nodes": "!cluster_members", "!rpc": "!spawn_on", "!connect": "!join_cluster",
	} {
		err := ts.Execute(context.Background(), typed)
		if err == nil || !strings.Contains(err.Error(), "did you mean "+want+"?") {
			t.Errorf("%s: %v, want a suggestion of %s", typed, err, want)
		}
	}
	ts.commands = coreCommands() // a shell without the cluster's commands
	if err := ts.Execute(context.Background(), "!members"); err == nil || strings.Contains(err.Error(), "!cluster_members") {
		t.Errorf("!members without cluster commands: %v", err)
	}
}

// TestClusterMembersOutOfCluster: no empty table, but what to do.
func TestClusterMembersOutOfCluster(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.SetCluster(&emptyNode{})
	ts.exec(t, "!cluster_members")
	if got := ts.out.String(); got != "not in a cluster (!start_cluster listens for other nodes; !join_cluster HOST:PORT joins one)\n" {
		t.Errorf("!cluster_members out of a cluster: %q", got)
	}
}

// TestScriptedChangesSaySo: a script, too, is told what a command changed.
func TestScriptedChangesSaySo(t *testing.T) {
	ts := newTestShell(t, "", Options{Interactive: false})
	ts.exec(t, "load $0 #1", "!clear_registers", "!clear_program", "!reset")
	if got, want := ts.out.String(), "registers cleared\nprogram cleared\nprogram, labels, registers, heap and stack cleared\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}
