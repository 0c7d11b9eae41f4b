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
	// the listener first if needed, and returns the members it then knows:
	// those it still links to in the background have State "joining".
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
	State    string    // "local", "alive", "suspect", "failed" (being redialed) or "joining" (being linked after a join)
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
		return joinFailure(host, port, err)
	}
	s.con.print(s.con.result, joinedText(shownText(host), port, members))
	return nil
}

// maxJoinedNamed bounds the members !join_cluster names; !cluster_members
// lists them all.
const maxJoinedNamed = 8

// joinedText is !join_cluster's answer: the members, the first few by
// name, and on a line of its own how many of them are being linked in the
// background (their progress comes as notices).
func joinedText(host string, port int, members []ClusterMember) string {
	var names []string
	joining := 0
	for _, m := range members {
		if m.State == cluster.StateJoining.String() {
			joining++
		}
		if len(names) < maxJoinedNamed {
			names = append(names, shownText(m.Alias)+" ("+shownText(m.Addr)+")")
		}
	}
	list := strings.Join(names, ", ")
	if more := len(members) - len(names); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	text := fmt.Sprintf("joined the cluster through %s %d: %d members: %s", host, port, len(members), list)
	if joining > 0 {
		text += fmt.Sprintf("\nlinking to %d of them in the background (!cluster_members shows them as joining)", joining)
	}
	return text
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

// joinError is !join_cluster's error: the command and address once, then
// why, wrapping the node's error.
type joinError struct {
	text string
	err  error
}

func (e *joinError) Error() string { return e.text }
func (e *joinError) Unwrap() error { return e.err }

// joinFailure says why joining host:port failed, naming the address once
// (a cluster.JoinError's cause does not name it again).
func joinFailure(host string, port int, err error) error {
	cause := err.Error()
	var je *cluster.JoinError
	if errors.As(err, &je) {
		cause = je.Cause()
	}
	return &joinError{text: fmt.Sprintf("!join_cluster %s %d: %s", termtext.Cut(host, maxShownText), port, cause), err: err}
}
