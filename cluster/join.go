package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Join makes this node a member of the cluster that the node at host:port
// belongs to. It starts the listener first if needed and greets that
// member with Hello; once it answers, this node is a member. Join then
// returns the members this node knows, those it still links to listed
// as StateJoining: it connects to every member the answer lists with
// Join in the background (see linkInBackground), and reports how that
// goes with EventJoinProgress and EventJoinDone. Joining the node's own
// address fails with ErrJoinSelf; joining a member already linked
// returns the members and no error.
func (n *Node) Join(ctx context.Context, host string, port int) ([]Member, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("join %s: port %d is outside 1-65535", addr, port)
	}
	if err := n.ensureStarted(ctx); err != nil {
		return nil, fmt.Errorf("join %s: %w", addr, err)
	}
	if n.isOwnAddress(host, port) {
		return nil, fmt.Errorf("join %s: %w: that is this node's own address", addr, ErrJoinSelf)
	}
	if n.links.hasMemberAt(host, port) {
		return n.Members(), nil
	}
	ctx, cancel := n.withNodeContext(ctx)
	defer cancel()
	seed, members, err := n.dialHandshake(ctx, addr, dialSpec{wantList: true})
	if errors.Is(err, errAlreadyConnected) {
		return n.Members(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", addr, err)
	}
	n.linkInBackground(seed.peer, members)
	return n.Members(), nil
}

// ensureStarted starts the listener unless it runs.
func (n *Node) ensureStarted(ctx context.Context) error {
	if n.Running() {
		return nil
	}
	_, err := n.Start(ctx)
	if errors.Is(err, ErrAlreadyRunning) {
		return nil
	}
	return err
}

// isOwnAddress reports whether host:port is where this node listens.
func (n *Node) isOwnAddress(host string, port int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if port != n.self.Port {
		return false
	}
	if host == n.self.Host || host == n.cfg.BindHost || host == n.learnedHost {
		return true
	}
	ip := net.ParseIP(host)
	return isWildcard(n.cfg.BindHost) && ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// joinMember connects to one member learnt from a list (or lost, when
// spec.redial is set) with Join, and checks it is the node the list named.
// Members the peer lists back (our digest differed from its view) that we
// do not know are dialed in turn.
func (n *Node) joinMember(ctx context.Context, m memberInfo, spec dialSpec) error {
	spec.expect = m.Alias
	l, members, err := n.dialHandshake(ctx, m.addr(), spec)
	if errors.Is(err, errAlreadyConnected) {
		return nil
	}
	if err != nil {
		return err
	}
	if l.peer.Alias != m.Alias {
		n.dropLink(l, EventLinkClosed, fmt.Errorf("listed as %q but answered as %q", m.Alias, l.peer.Alias))
		return fmt.Errorf("the node there answered as %q", l.peer.Alias)
	}
	for _, other := range members {
		n.considerMember(other)
	}
	return nil
}
