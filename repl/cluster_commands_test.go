package repl

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// fakeNode is a ClusterNode that records what it was asked.
type fakeNode struct {
	joined  string
	failure error
}

func (f *fakeNode) Start(context.Context) (string, error) { return "127.0.0.1:2254", f.failure }

func (f *fakeNode) Join(_ context.Context, host string, port int) error {
	f.joined = host + " " + strconv.Itoa(port)
	return f.failure
}

func (f *fakeNode) Members() []ClusterMember {
	return []ClusterMember{{Alias: "a", Addr: "127.0.0.1:2254", State: "local"}, {Alias: "b", Addr: "127.0.0.1:2255", State: "alive"}}
}

// TestClusterCommands drives the cluster commands against a fake node.
func TestClusterCommands(t *testing.T) {
	node := &fakeNode{}
	ts := newTestShell(t, "", Options{})
	ts.SetCluster(node)
	ts.exec(t, "!start_cluster", "!join_cluster 10.0.0.2 2255", "!cluster_members")
	out := ts.out.String()
	for _, want := range []string{"cluster node listening on 127.0.0.1:2254", "joined the cluster through 10.0.0.2 2255"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout\n%s\nwant %q", out, want)
		}
	}
	if !hasFields(out, "b", "127.0.0.1:2255", "alive") || !hasFields(out, "ALIAS", "ADDRESS", "STATE") {
		t.Errorf("stdout\n%s\nwant the member table", out)
	}
	if node.joined != "10.0.0.2 2255" {
		t.Errorf("node joined %q", node.joined)
	}
	node.failure = errors.New("connection refused")
	err := ts.Execute(context.Background(), "!join_cluster 10.0.0.3 2256")
	if err == nil || err.Error() != "!join_cluster 10.0.0.3 2256: connection refused" {
		t.Fatalf("failed join: %v", err)
	}
	ts.SetCluster(nil)
	if err := ts.Execute(context.Background(), "!cluster_members"); !errors.Is(err, errNoCluster) {
		t.Fatalf("without a node: %v", err)
	}
}
