package cluster

import (
	"context"
	"net"
	"sync"
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

// gossip is the state of the dials this node makes on its own: members
// learnt from MemberUp being introduced, back-off per address, the pool
// that bounds the dials at once, and members whose link failed being
// redialed (reconnect.go). It has a lock of its own; a caller that holds
// linkSet.mu as well took that first.
type gossip struct {
	dialPool chan struct{} // one token per gossip-driven dial

	mu           sync.Mutex
	introducing  map[string]bool        // aliases learnt from MemberUp, being checked
	backoff      map[string]dialBackoff // gossip-driven dials, by address
	reconnecting map[string]bool        // aliases being redialed
}

func newGossip() *gossip {
	return &gossip{
		dialPool:     make(chan struct{}, dialPoolSize),
		introducing:  make(map[string]bool),
		backoff:      make(map[string]dialBackoff),
		reconnecting: make(map[string]bool),
	}
}

// introduce marks alias as being introduced unless it is already, or
// members (those known, counted by the caller) and the introductions
// together would reach limit; it reports whether it did.
func (g *gossip) introduce(alias string, members, limit int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.introducing[alias] || members+len(g.introducing)+1 >= limit {
		return false
	}
	g.introducing[alias] = true
	return true
}

// introduced ends the introduction of alias.
func (g *gossip) introduced(alias string) {
	g.mu.Lock()
	delete(g.introducing, alias)
	g.mu.Unlock()
}

// backingOff reports whether dials to addr wait out a back-off at now.
func (g *gossip) backingOff(addr string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.backoff[addr]
	return ok && now.Before(b.next)
}

// dialed notes how a gossip-driven dial of addr went: a success forgets
// its back-off, a failure doubles it. At most 2×limit addresses are kept.
func (g *gossip) dialed(addr string, err error, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil {
		delete(g.backoff, addr)
		return
	}
	b := g.backoff[addr]
	b.delay = min(max(2*b.delay, minDialBackoff), maxDialBackoff)
	b.next = time.Now().Add(b.delay)
	if len(g.backoff) >= 2*limit { // bounded: forget expired entries
		for a, old := range g.backoff {
			if time.Now().After(old.next) {
				delete(g.backoff, a)
			}
		}
	}
	if len(g.backoff) < 2*limit {
		g.backoff[addr] = b
	}
}

// startRedial marks alias as being redialed unless it is already; it
// reports whether it did.
func (g *gossip) startRedial(alias string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reconnecting[alias] {
		return false
	}
	g.reconnecting[alias] = true
	return true
}

// endRedial ends the redialing of alias.
func (g *gossip) endRedial(alias string) {
	g.mu.Lock()
	delete(g.reconnecting, alias)
	g.mu.Unlock()
}

// redialing reports whether alias is being redialed.
func (g *gossip) redialing(alias string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reconnecting[alias]
}

// announceMember sends MemberUp about a joiner whose view of the cluster
// differed from ours to every other member, through their send queues.
func (n *Node) announceMember(m memberInfo) {
	frame, err := n.frames.marshal(&memberUp{Member: m})
	if err != nil {
		return
	}
	n.links.mu.Lock()
	for alias, l := range n.links.byAlias {
		if alias != m.Alias {
			l.queue.push(frame) // the writer waits until the link is ready
		}
	}
	n.links.mu.Unlock()
}

// considerMember handles a MemberUp. Gossip is bounded: only IP literals
// are dialed (never a name to resolve), never more members than
// MaxMembers, never an address proven to be another member's (a made-up
// alias there must not disturb a real member's link), at most
// dialPoolSize dials at once, and an address that failed waits out its
// back-off. If the member is still unknown after a probe interval
// (its own Join usually arrives first), it is dialed.
func (n *Node) considerMember(m memberInfo) {
	n.links.mu.Lock()
	take := m.Alias != n.cfg.Alias && n.links.wantsLinkLocked(m) &&
		net.ParseIP(m.Host) != nil && !n.links.linkedElsewhereLocked(m) &&
		n.gossip.introduce(m.Alias, n.members.count(), n.cfg.MaxMembers)
	n.links.mu.Unlock()
	if !take {
		return
	}
	started := n.spawn(func() {
		defer n.gossip.introduced(m.Alias)
		if !sleepCtx(n.ctx, n.cfg.ProbeInterval) {
			return
		}
		n.gossipDial(m)
	})
	if !started {
		n.gossip.introduced(m.Alias)
	}
}

// gossipDial dials a member learnt from gossip through the dial pool,
// unless its address is backing off or it is linked meanwhile.
func (n *Node) gossipDial(m memberInfo) {
	select {
	case n.gossip.dialPool <- struct{}{}:
		defer func() { <-n.gossip.dialPool }()
	case <-n.ctx.Done():
		return
	}
	addr := m.addr()
	if n.gossip.backingOff(addr, time.Now()) {
		return
	}
	ls := n.links
	ls.mu.Lock()
	wanted := ls.state == stateRunning && ls.wantsLinkLocked(m) && !ls.linkedElsewhereLocked(m)
	ls.mu.Unlock()
	if !wanted {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout+n.cfg.HandshakeTimeout)
	defer cancel()
	err := n.joinMember(ctx, m, dialSpec{}) // a failure: the member dials us, or is gone
	n.gossip.dialed(addr, err, n.cfg.MaxMembers)
}
