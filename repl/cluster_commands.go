package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/termtext"
)

// ClusterNode is what the cluster commands need from this process's
// cluster node. Its events (a member joining, leaving, failing) reach the
// user through Shell.Notify.
type ClusterNode interface {
	// Start makes the node listen for other nodes and returns the address
	// it listens on; running is true when it was listening already.
	Start(ctx context.Context) (addr string, running bool, err error)
	// Join joins the cluster of the node listening at host:port, starting
	// the listener first if needed, and returns the members it then knows.
	Join(ctx context.Context, host string, port int) ([]ClusterMember, error)
	// Leave tells every member that this node leaves, and stops listening.
	Leave(ctx context.Context) error
	// Members returns the members the node knows, itself included.
	Members() []ClusterMember
}

// ClusterMember is one node of the cluster, as !cluster_members shows it.
type ClusterMember struct {
	Alias    string    // the node's name in the cluster
	Addr     string    // host:port where it accepts cluster connections
	State    string    // "local", "alive", "suspect" or "failed" (being redialed)
	Local    bool      // this process's own node
	LastSeen time.Time // when it was last heard from
	Since    time.Time // when it entered State
}

// SetCluster sets the node behind the cluster commands, replacing
// Options.Cluster; nil takes it away. Call it before Run, not while the
// shell runs. It lets the node be made after the shell, so that the
// node's event handler can call the shell's Notify.
func (s *Shell) SetCluster(node ClusterNode) { s.opts.Cluster = node }

// errNoCluster is the answer of the cluster commands while the shell has
// no cluster node.
var errNoCluster = errors.New("clustering is not available: this shell has no cluster node")

// clusterCommands returns the cluster's entries of the command table.
func clusterCommands() []command {
	return []command{
		{name: "!start_cluster", help: "listen for other nodes on the cluster port (--cluster-host and --cluster-port, -H and -P)", run: (*Shell).cmdStartCluster},
		{name: "!join_cluster", args: "HOST PORT", help: "join the cluster of the node whose cluster port is HOST PORT (or HOST:PORT)", min: 1, max: 2, run: (*Shell).cmdJoinCluster},
		{name: "!cluster_members", help: "list the nodes of the cluster: alias, address, state (failed ones while redialed), since when, last heard from", run: (*Shell).cmdClusterMembers},
		{name: "!leave_cluster", help: "tell every member this node leaves, and stop listening", run: (*Shell).cmdLeaveCluster},
	}
}

// cluster returns the node, or errNoCluster named after the command.
func (s *Shell) cluster(cmd string) (ClusterNode, error) {
	if s.opts.Cluster == nil {
		return nil, fmt.Errorf("%s: %w", cmd, errNoCluster)
	}
	return s.opts.Cluster, nil
}

func (s *Shell) cmdStartCluster(ctx context.Context, _ []string) error {
	node, err := s.cluster("!start_cluster")
	if err != nil {
		return err
	}
	addr, running, err := node.Start(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("!start_cluster: %w", err)
	case running:
		s.con.print(s.con.warning, "the cluster node already listens on "+addr)
	default:
		s.con.print(s.con.result, "cluster node listening on "+addr)
	}
	return nil
}

func (s *Shell) cmdJoinCluster(ctx context.Context, args []string) error {
	host, port, err := cluster.ParseJoinAddr(args...)
	if err != nil {
		return fmt.Errorf("!join_cluster: %w", err)
	}
	node, err := s.cluster("!join_cluster")
	if err != nil {
		return err
	}
	members, err := node.Join(ctx, host, port)
	if err != nil {
		return fmt.Errorf("!join_cluster %s %d: %w", termtext.Cut(host, maxShownText), port, err)
	}
	names := make([]string, 0, len(members))
	for _, m := range members {
		names = append(names, shownText(m.Alias)+" ("+shownText(m.Addr)+")")
	}
	s.con.print(s.con.result, fmt.Sprintf("joined the cluster through %s %d: %d members: %s",
		shownText(host), port, len(members), strings.Join(names, ", ")))
	return nil
}

func (s *Shell) cmdClusterMembers(context.Context, []string) error {
	node, err := s.cluster("!cluster_members")
	if err != nil {
		return err
	}
	members := node.Members()
	if len(members) == 0 {
		s.con.print(nil, "not in a cluster (!start_cluster listens for other nodes; !join_cluster HOST:PORT joins one)")
		return nil
	}
	rows := [][]string{{"ALIAS", "ADDRESS", "STATE", "SINCE", "LAST HEARD"}}
	now := time.Now()
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return now.Sub(t).Round(10*time.Millisecond).String() + " ago"
	}
	for _, m := range members {
		heard := "-"
		if !m.Local {
			heard = ago(m.LastSeen)
		}
		alias := shownText(m.Alias)
		if m.Local {
			alias += " (this node)"
		}
		rows = append(rows, []string{alias, shownText(m.Addr), shownText(m.State), ago(m.Since), heard})
	}
	s.con.print(nil, table(rows))
	return nil
}

func (s *Shell) cmdLeaveCluster(ctx context.Context, _ []string) error {
	node, err := s.cluster("!leave_cluster")
	if err != nil {
		return err
	}
	if err := node.Leave(ctx); err != nil {
		return fmt.Errorf("!leave_cluster: %w", err)
	}
	s.con.print(s.con.result, "left the cluster")
	return nil
}
