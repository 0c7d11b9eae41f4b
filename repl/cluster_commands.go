package repl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// ClusterNode is what the cluster commands need from this process's
// cluster node. Its events (a member joining, leaving, going down) reach
// the user through Shell.Notify.
type ClusterNode interface {
	// Start makes the node listen for other nodes and returns the address
	// it listens on. Starting a started node is not an error.
	Start(ctx context.Context) (addr string, err error)
	// Join joins the cluster of the node listening at host:port.
	Join(ctx context.Context, host string, port int) error
	// Members returns the members the node knows, itself included.
	Members() []ClusterMember
}

// ClusterMember is one node of the cluster, as !cluster_members shows it.
type ClusterMember struct {
	Alias string // the node's name in the cluster
	Addr  string // host:port where it accepts cluster connections
	State string // such as "local", "alive" or "suspect"
}

// SetCluster sets the node behind the cluster commands, replacing
// Options.Cluster; nil takes it away. Call it before Run, not while the
// shell runs. It lets the node be made after the shell, so that the
// node's event handler can call the shell's Notify.
func (s *Shell) SetCluster(node ClusterNode) { s.opts.Cluster = node }

// errNoCluster is the answer of the cluster commands while the shell has
// no cluster node.
var errNoCluster = errors.New("clustering is not available yet: this build of Iridium has no cluster node")

// clusterCommands returns the cluster's entries of the command table.
func clusterCommands() []command {
	return []command{
		{name: "!start_cluster", help: "listen for other nodes (the address comes from -H/-P)", run: (*Shell).cmdStartCluster},
		{name: "!join_cluster", args: "HOST PORT", help: "join the cluster of the node listening at HOST PORT", min: 2, max: 2, run: (*Shell).cmdJoinCluster},
		{name: "!cluster_members", help: "list the nodes of the cluster: alias, address, state", run: (*Shell).cmdClusterMembers},
	}
}

func (s *Shell) cmdStartCluster(ctx context.Context, _ []string) error {
	if s.opts.Cluster == nil {
		return fmt.Errorf("!start_cluster: %w", errNoCluster)
	}
	addr, err := s.opts.Cluster.Start(ctx)
	if err != nil {
		return fmt.Errorf("!start_cluster: %w", err)
	}
	s.con.print(s.con.result, "cluster node listening on "+addr)
	return nil
}

func (s *Shell) cmdJoinCluster(ctx context.Context, args []string) error {
	port, err := strconv.Atoi(args[1])
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("!join_cluster: port %q: want a number from 1 to 65535", args[1])
	}
	if s.opts.Cluster == nil {
		return fmt.Errorf("!join_cluster: %w", errNoCluster)
	}
	if err := s.opts.Cluster.Join(ctx, args[0], port); err != nil {
		return fmt.Errorf("!join_cluster %s %d: %w", args[0], port, err)
	}
	s.con.print(s.con.result, fmt.Sprintf("joined the cluster through %s %d", args[0], port))
	return nil
}

func (s *Shell) cmdClusterMembers(context.Context, []string) error {
	if s.opts.Cluster == nil {
		return fmt.Errorf("!cluster_members: %w", errNoCluster)
	}
	rows := [][]string{{"ALIAS", "ADDRESS", "STATE"}}
	for _, m := range s.opts.Cluster.Members() {
		rows = append(rows, []string{m.Alias, m.Addr, m.State})
	}
	s.con.print(nil, table(rows))
	return nil
}
