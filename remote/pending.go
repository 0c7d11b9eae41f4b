package remote

import (
	"errors"
	"net"
)

// Why a connection in its handshake was closed to make room for a new one.
var (
	errEvictedFull   = errors.New("closed to make room: the handshake table was full")
	errEvictedSource = errors.New("closed to make room: too many handshakes from its address")
)

// pendingConn is an accepted connection still in its handshake.
type pendingConn struct {
	conn   net.Conn
	source string // the client's IP address
	seq    uint64 // the order it was accepted in: lower is older
	// evicted, set under Server.mu, says why the server closed it.
	evicted error
}

// admitPending records conn, just accepted, in the handshake table and in
// the connections Close closes. A new connection is never turned away:
// when its address already has MaxHandshakesPerSource handshakes, that
// address's oldest is closed to make room; when the whole table is full,
// the oldest handshake of the address with the most is. A client that
// holds idle connections so only shortens its own. It returns false when
// the server is closed.
func (s *Server) admitPending(conn net.Conn) (*pendingConn, bool) {
	source := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false
	}
	s.pendingSeq++
	p := &pendingConn{conn: conn, source: source, seq: s.pendingSeq}
	var victim *pendingConn
	switch {
	case s.pendingFrom[source] >= s.cfg.MaxHandshakesPerSource:
		victim = s.oldestPendingLocked(func(q *pendingConn) bool { return q.source == source })
		if victim != nil {
			victim.evicted = errEvictedSource
		}
	case len(s.pending) >= s.cfg.MaxHandshakes:
		most := 0
		for _, n := range s.pendingFrom {
			most = max(most, n)
		}
		victim = s.oldestPendingLocked(func(q *pendingConn) bool { return s.pendingFrom[q.source] == most })
		if victim != nil {
			victim.evicted = errEvictedFull
		}
	}
	if victim != nil {
		s.removePendingLocked(victim)
	}
	s.pending[conn] = p
	s.pendingFrom[source]++
	s.conns[conn] = struct{}{}
	s.mu.Unlock()
	if victim != nil {
		victim.conn.Close() // its handshake fails, and its goroutine logs why
	}
	return p, true
}

// oldestPendingLocked returns the oldest pending connection that match
// accepts, or nil. Caller holds mu. The table holds at most MaxHandshakes
// connections, so a scan costs little.
func (s *Server) oldestPendingLocked(match func(*pendingConn) bool) *pendingConn {
	var oldest *pendingConn
	for _, p := range s.pending {
		if match(p) && (oldest == nil || p.seq < oldest.seq) {
			oldest = p
		}
	}
	return oldest
}

// removePendingLocked takes p out of the handshake table, if it is there.
// Caller holds mu.
func (s *Server) removePendingLocked(p *pendingConn) {
	if s.pending[p.conn] != p {
		return
	}
	delete(s.pending, p.conn)
	if s.pendingFrom[p.source]--; s.pendingFrom[p.source] <= 0 {
		delete(s.pendingFrom, p.source)
	}
}

// donePending takes p out of the handshake table at the end of its
// handshake, and returns why the server closed it, if it did.
func (s *Server) donePending(p *pendingConn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removePendingLocked(p)
	return p.evicted
}
