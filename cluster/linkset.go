package cluster

import (
	"net"
	"sync"
)

// linkSet is the node's links and its life: the node's state (new,
// running, leaving, closed), the established links by member alias, the
// losing duplicates kept on standby, and the connections still in their
// handshake. A link is admitted or dropped, and decisions by the state
// are made, under its lock; the member table's and gossip's locks are
// taken after it, never before, and Node.mu never while it is held. A
// link's own send queue, reader, writer and deliverer are in link.go.
type linkSet struct {
	mu          sync.Mutex
	state       nodeState
	byAlias     map[string]*link      // established links (setLocked, deleteLocked)
	changes     uint64                // how often byAlias changed (aliasesSince)
	standby     map[*link]struct{}    // losing duplicate links (see admit)
	handshaking map[net.Conn]struct{} // connections not yet links
}

func newLinkSet() *linkSet {
	return &linkSet{
		byAlias:     make(map[string]*link),
		changes:     1, // a caller's zero count is never current
		standby:     make(map[*link]struct{}),
		handshaking: make(map[net.Conn]struct{}),
	}
}

// currentState returns the node's state.
func (s *linkSet) currentState() nodeState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// get returns the link of member alias, or nil.
func (s *linkSet) get(alias string) *link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byAlias[alias]
}

// aliases returns the aliases of the linked members.
func (s *linkSet) aliases() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	aliases := make([]string, 0, len(s.byAlias))
	for alias := range s.byAlias {
		aliases = append(aliases, alias)
	}
	return aliases
}

// aliasesSince returns the aliases of the linked members, and the count
// of changes to them that they are as of; if that count is still
// changes, it returns no aliases (the caller's are current) and does not
// allocate.
func (s *linkSet) aliasesSince(changes uint64) ([]string, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changes == changes {
		return nil, changes
	}
	aliases := make([]string, 0, len(s.byAlias)+1)
	for alias := range s.byAlias {
		aliases = append(aliases, alias)
	}
	return aliases, s.changes
}

// setLocked makes l the link of member alias; s.mu is held.
func (s *linkSet) setLocked(alias string, l *link) {
	s.byAlias[alias] = l
	s.changes++
}

// deleteLocked removes the link of member alias; s.mu is held.
func (s *linkSet) deleteLocked(alias string) {
	delete(s.byAlias, alias)
	s.changes++
}

// appendAllLocked appends every link, members' and standby, to links;
// s.mu is held.
func (s *linkSet) appendAllLocked(links []*link) []*link {
	for _, l := range s.byAlias {
		links = append(links, l)
	}
	for l := range s.standby {
		links = append(links, l)
	}
	return links
}

// track records a connection in its handshake so that Close can cut it.
// It reports false, and the caller must close c, when the node is closed.
func (s *linkSet) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed {
		return false
	}
	s.handshaking[c] = struct{}{}
	return true
}

func (s *linkSet) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.handshaking, c)
	s.mu.Unlock()
}

// wantsLinkLocked reports whether m is a member we should link to: not
// linked, or linked to an older run of the same node. s.mu is held.
func (s *linkSet) wantsLinkLocked(m memberInfo) bool {
	l := s.byAlias[m.Alias]
	return l == nil || l.peer.NodeID == m.NodeID && l.peer.Incarnation < m.Incarnation
}

// linkedElsewhereLocked reports whether m's address is proven to belong
// to a member linked under another alias: this node dialed that address
// and that member answered (see link.provenAddr). What members publish
// proves nothing: a member may publish any address, another's included.
// s.mu is held.
func (s *linkSet) linkedElsewhereLocked(m memberInfo) bool {
	addr := m.addr()
	for alias, l := range s.byAlias {
		if alias != m.Alias && l.provenAddr == addr {
			return true
		}
	}
	return false
}

// hasMemberAt reports whether a linked member publishes host:port.
func (s *linkSet) hasMemberAt(host string, port int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.byAlias {
		if l.peer.Host == host && l.peer.Port == port {
			return true
		}
	}
	return false
}

// isLinked reports whether the member m, that run of it or a later one,
// is linked already.
func (s *linkSet) isLinked(m memberInfo) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.byAlias[m.Alias]
	return l != nil && l.peer.NodeID == m.NodeID && l.peer.Incarnation >= m.Incarnation
}

// peersLocked lists the members linked, except alias. s.mu is held.
func (s *linkSet) peersLocked(except string) []memberInfo {
	members := make([]memberInfo, 0, len(s.byAlias))
	for alias, l := range s.byAlias {
		if alias != except {
			members = append(members, l.peer)
		}
	}
	return members
}
