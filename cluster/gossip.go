package cluster

import (
	"context"
	"net"
	"time"
)

// Bounds on what gossip (MemberUp, and the members a Join's answer lists)
// can make this node do.
const (
	// dialPoolSize is how many gossip-driven dials run at once.
	dialPoolSize = 4
	// Back-off per address after a failed gossip-driven dial: it starts
	// at minDialBackoff and doubles up to maxDialBackoff.
	minDialBackoff = time.Second
	maxDialBackoff = time.Minute
)

// dialBackoff is the back-off state of one address.
type dialBackoff struct {
	next  time.Time     // no gossip-driven dial before this
	delay time.Duration // the next failure's back-off
}

// announceMember sends MemberUp about a joiner whose view of the cluster
// differed from ours to every other member, through their send queues.
func (n *Node) announceMember(m memberInfo) {
	frame, err := n.frames.marshal(&memberUp{Member: m})
	if err != nil {
		return
	}
	n.mu.Lock()
	for alias, l := range n.links {
		if alias != m.Alias {
			l.queue.push(frame) // the writer waits until the link is ready
		}
	}
	n.mu.Unlock()
}

// considerMember handles a MemberUp. Gossip is bounded: only IP literals
// are dialed (never a name to resolve), never more members than
// MaxMembers, never an address linked under another alias (a made-up
// alias there must not disturb a real member's link), at most
// dialPoolSize dials at once, and an address that failed waits out its
// back-off. If the member is still unknown after a heartbeat interval
// (its own Join usually arrives first), it is dialed.
func (n *Node) considerMember(m memberInfo) {
	n.mu.Lock()
	skip := m.Alias == n.cfg.Alias || n.introducing[m.Alias] || !n.wantsLinkLocked(m) ||
		net.ParseIP(m.Host) == nil ||
		len(n.members)+len(n.introducing)+1 >= n.cfg.MaxMembers ||
		n.linkedElsewhereLocked(m)
	if !skip {
		n.introducing[m.Alias] = true
	}
	n.mu.Unlock()
	if skip {
		return
	}
	started := n.spawn(func() {
		defer func() {
			n.mu.Lock()
			delete(n.introducing, m.Alias)
			n.mu.Unlock()
		}()
		if !sleepCtx(n.ctx, n.cfg.HeartbeatInterval) {
			return
		}
		n.gossipDial(m)
	})
	if !started {
		n.mu.Lock()
		delete(n.introducing, m.Alias)
		n.mu.Unlock()
	}
}

// gossipDial dials a member learnt from gossip through the dial pool,
// unless its address is backing off or it is linked meanwhile.
func (n *Node) gossipDial(m memberInfo) {
	select {
	case n.dialPool <- struct{}{}:
		defer func() { <-n.dialPool }()
	case <-n.ctx.Done():
		return
	}
	addr := m.addr()
	now := time.Now()
	n.mu.Lock()
	wanted := n.state == stateRunning && n.wantsLinkLocked(m) && !n.linkedElsewhereLocked(m)
	if b, ok := n.backoff[addr]; ok && now.Before(b.next) {
		wanted = false
	}
	n.mu.Unlock()
	if !wanted {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout+n.cfg.HandshakeTimeout)
	defer cancel()
	err := n.joinMember(ctx, m, dialSpec{}) // a failure: the member dials us, or is gone
	n.mu.Lock()
	defer n.mu.Unlock()
	if err == nil {
		delete(n.backoff, addr)
		return
	}
	b := n.backoff[addr]
	b.delay = min(max(2*b.delay, minDialBackoff), maxDialBackoff)
	b.next = time.Now().Add(b.delay)
	if len(n.backoff) >= 2*n.cfg.MaxMembers { // bounded: forget expired entries
		for a, old := range n.backoff {
			if time.Now().After(old.next) {
				delete(n.backoff, a)
			}
		}
	}
	if len(n.backoff) < 2*n.cfg.MaxMembers {
		n.backoff[addr] = b
	}
}

// wantsLinkLocked reports whether m is a member we should link to: not
// linked, or linked to an older run of the same node. Caller holds mu.
func (n *Node) wantsLinkLocked(m memberInfo) bool {
	l := n.links[m.Alias]
	return l == nil || l.peer.NodeID == m.NodeID && l.peer.Incarnation < m.Incarnation
}

// linkedElsewhereLocked reports whether m's address belongs to a member
// linked under another alias. Caller holds mu.
func (n *Node) linkedElsewhereLocked(m memberInfo) bool {
	for alias, l := range n.links {
		if alias != m.Alias && l.peer.Host == m.Host && l.peer.Port == m.Port {
			return true
		}
	}
	return false
}
