package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
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
		return nil, &JoinError{Addr: addr, Err: fmt.Errorf("port %d is outside 1-65535", port)}
	}
	if err := n.ensureStarted(ctx); err != nil {
		return nil, &JoinError{Addr: addr, Err: err}
	}
	if n.isOwnAddress(host, port) {
		return nil, &JoinError{Addr: addr, Err: fmt.Errorf("%w: that is this node's own address", ErrJoinSelf)}
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
		return nil, &JoinError{Addr: addr, Err: err}
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

// JoinError is the error of a Join that failed: the address it tried and
// why. Its Error is "join ADDR: CAUSE"; Cause gives the reason alone, for
// a caller that has named the address already.
type JoinError struct {
	Addr string // host:port that Join tried
	Err  error  // why it failed
}

// Error names the address and the cause.
func (e *JoinError) Error() string { return "join " + e.Addr + ": " + e.Cause() }

// Unwrap returns the cause.
func (e *JoinError) Unwrap() error { return e.Err }

// Cause is why the join failed without the address again: a dial error
// ("dial tcp 127.0.0.1:0->ADDR: connect: connection refused") is cut to
// its system error ("connection refused"), and a refused connection says
// what to check.
func (e *JoinError) Cause() string {
	text := e.Err.Error()
	var op *net.OpError
	if errors.As(e.Err, &op) && op.Op == "dial" && text == op.Error() {
		text = op.Err.Error()
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			text = sys.Err.Error()
		}
	}
	if errors.Is(e.Err, syscall.ECONNREFUSED) {
		text += fmt.Sprintf(": no node listens there; start it first, or check the port (a node's cluster port is %d unless its --cluster-port says otherwise)", DefaultBindPort)
	}
	return text
}
