package repl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/cluster"
)

// fakeNode is a ClusterNode that records what it was asked.
type fakeNode struct {
	started bool
	joined  string
	left    bool
	failure error
}

func (f *fakeNode) Start(context.Context) (string, bool, error) {
	running := f.started
	f.started = f.failure == nil
	return "127.0.0.1:2254", running, f.failure
}

func (f *fakeNode) Join(_ context.Context, host string, port int) ([]ClusterMember, error) {
	f.joined = host + " " + strconv.Itoa(port)
	if f.failure != nil {
		return nil, f.failure
	}
	return f.Members(), nil
}

func (f *fakeNode) Leave(context.Context) error {
	f.left = f.failure == nil
	return f.failure
}

func (f *fakeNode) Members() []ClusterMember {
	return []ClusterMember{
		{Alias: "a", Addr: "127.0.0.1:2254", State: "local", Local: true, LastSeen: time.Now()},
		{Alias: "b", Addr: "127.0.0.2:2255", State: "alive", LastSeen: time.Now().Add(-1500 * time.Millisecond), Since: time.Now().Add(-time.Minute)},
	}
}

// TestClusterCommands drives the cluster commands against a fake node.
func TestClusterCommands(t *testing.T) {
	node := &fakeNode{}
	ts := newTestShell(t, "", Options{})
	ts.SetCluster(node)
	ts.exec(t, "!start_cluster", "!start_cluster", "!join_cluster 10.0.0.2 2255", "!cluster_members", "!leave_cluster")
	out := ts.out.String()
	for _, want := range []string{
		"cluster node listening on 127.0.0.1:2254",
		"the cluster node already listens on 127.0.0.1:2254",
		"joined the cluster through 10.0.0.2 2255: 2 members: a (127.0.0.1:2254), b (127.0.0.2:2255)",
		"left the cluster",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout\n%s\nwant %q", out, want)
		}
	}
	if !hasFields(out, "ALIAS", "ADDRESS", "STATE", "SINCE", "LAST", "HEARD") ||
		!hasFields(out, "a", "(this", "node)", "127.0.0.1:2254", "local", "-", "-") ||
		!regexp.MustCompile(`(?m)^b +127\.0\.0\.2:2255 +alive +1m0s ago +\d+(\.\d+)?m?s ago$`).MatchString(out) {
		t.Errorf("stdout\n%s\nwant the member table with the local node marked and when b was heard", out)
	}
	if node.joined != "10.0.0.2 2255" || !node.left {
		t.Errorf("node joined %q, left %v", node.joined, node.left)
	}
}

// TestClusterCommandErrors checks that each command reports the node's
// error with the command and its arguments.
func TestClusterCommandErrors(t *testing.T) {
	node := &fakeNode{failure: errors.New("connection refused")}
	ts := newTestShell(t, "", Options{})
	ts.SetCluster(node)
	for line, want := range map[string]string{
		"!start_cluster":              "!start_cluster: connection refused",
		"!join_cluster 10.0.0.3 2256": "!join_cluster 10.0.0.3 2256: connection refused",
		"!leave_cluster":              "!leave_cluster: connection refused",
		"!join_cluster 10.0.0.3 0":    `!join_cluster: port "0": want a number from 1 to 65535 (a node's cluster port is 2254 unless its --cluster-port says otherwise)`,
	} {
		if err := ts.Execute(context.Background(), line); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
	ts.SetCluster(nil)
	for _, line := range []string{"!start_cluster", "!join_cluster h 1", "!cluster_members", "!leave_cluster"} {
		if err := ts.Execute(context.Background(), line); !errors.Is(err, errNoCluster) {
			t.Errorf("%s without a node: %v", line, err)
		}
	}
}

// TestJoinedTextNamesFewAndCountsJoining: the answer of !join_cluster to a
// large cluster names a few members, counts all, and says how many are
// still being linked.
func TestJoinedTextNamesFewAndCountsJoining(t *testing.T) {
	members := []ClusterMember{{Alias: "me", Addr: "127.0.0.1:1", State: "local", Local: true}, {Alias: "seed", Addr: "127.0.0.1:2", State: "alive"}}
	for i := range 254 {
		members = append(members, ClusterMember{Alias: fmt.Sprint("m", i), Addr: "127.0.1.1:3", State: "joining"})
	}
	got := joinedText("127.0.0.1", 2, members)
	want := "joined the cluster through 127.0.0.1 2: 256 members: me (127.0.0.1:1), seed (127.0.0.1:2), m0 (127.0.1.1:3), m1 (127.0.1.1:3), m2 (127.0.1.1:3), m3 (127.0.1.1:3), m4 (127.0.1.1:3), m5 (127.0.1.1:3) and 248 more\n" +
		"linking to 254 of them in the background (!cluster_members shows them as joining)"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := joinedText("h", 2, members[:2]); strings.Contains(got, "\n") {
		t.Errorf("nothing joining, yet %q has a second line", got)
	}
}

// TestJoinClusterNamesTheAddressOnce: a refused dial, as cluster.Join
// reports it, reads as the command, the address once, the system's cause
// and what to check, and still wraps the node's error.
func TestJoinClusterNamesTheAddressOnce(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp",
		Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)},
		Addr:   &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2299},
		Err:    os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	node := &fakeNode{failure: &cluster.JoinError{Addr: "127.0.0.1:2299", Err: dial}}
	ts := newTestShell(t, "", Options{})
	ts.SetCluster(node)
	err := ts.Execute(context.Background(), "!join_cluster 127.0.0.1:2299")
	want := "!join_cluster 127.0.0.1 2299: connection refused: no node listens there; start it first, or check the port (a node's cluster port is 2254 unless its --cluster-port says otherwise)"
	if err == nil || err.Error() != want {
		t.Fatalf("!join_cluster: %v, want %q", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("!join_cluster's error %v does not wrap the node's", err)
	}
}
