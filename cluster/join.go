package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// maxParallelJoins bounds the Join messages a joining node sends at once.
const maxParallelJoins = 8

// Join makes this node a member of the cluster that the node at host:port
// belongs to. It starts the listener first if needed, greets that member
// with Hello, then connects to every member it lists with Join. It returns
// the members this node knows afterwards. If some listed members could not
// be reached it returns the members it did reach and an error naming the
// others. Joining the node's own address fails with ErrJoinSelf; joining a
// member already linked returns the members and no error.
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
	if err := n.fanOut(ctx, seed.peer, members); err != nil {
		return n.Members(), fmt.Errorf("join %s: %w", addr, err)
	}
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

// fanOut sends Join to every member the seed listed and we have no link
// to, a few at a time, and returns an error naming those it could not
// reach. Each Join carries the digest of the seed's view of the cluster.
func (n *Node) fanOut(ctx context.Context, seed memberInfo, members []memberInfo) error {
	n.mu.Lock()
	self := n.self
	n.mu.Unlock()
	digest := membersDigest(append([]memberInfo{seed, self}, members...))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		slots = make(chan struct{}, maxParallelJoins)
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for _, m := range members {
		if m.Alias == n.cfg.Alias || n.links.isLinked(m) {
			continue
		}
		if net.ParseIP(m.Host) == nil { // gossiped names are not resolved
			fail(fmt.Errorf("member %q at %s: its host is not an IP address; it is not dialed", m.Alias, m.addr()))
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		started := n.spawn(func() {
			defer func() { <-slots; wg.Done() }()
			if err := n.joinMember(ctx, m, dialSpec{digest: digest}); err != nil {
				fail(fmt.Errorf("member %q at %s: %w", m.Alias, m.addr(), err))
			}
		})
		if !started {
			<-slots
			wg.Done()
			fail(fmt.Errorf("member %q at %s: %w", m.Alias, m.addr(), ErrClosed))
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("could not reach %d of %d members: %w", len(errs), len(members), errors.Join(errs...))
	}
	return nil
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
