// Package pending is the table of a listener's accepted connections that
// are still in their handshake. A new connection is never turned away:
// when its source address already has as many as it may, that address's
// oldest is closed to make room; when the whole table is full, the oldest
// connection of the address with the most is. A stranger who holds idle
// connections open so only shortens its own, and an honest peer still
// gets in. The cluster's listener and the SSH server both use it.
package pending

import (
	"errors"
	"net"
	"sync"
)

// Why a connection was closed to make room for a new one.
var (
	ErrTableFull  = errors.New("closed to make room: the table of connections in their handshake was full")
	ErrSourceFull = errors.New("closed to make room: too many connections in their handshake from its address")
)

// Conn is an accepted connection in the table.
type Conn struct {
	Conn   net.Conn
	source string // the peer's IP address
	seq    uint64 // the order it was admitted in: lower is older
	// evicted, set under Table.mu, says why the table closed Conn.
	evicted error
}

// Table holds the connections in their handshake. It is safe for
// concurrent use.
type Table struct {
	max, perSource int

	mu    sync.Mutex
	seq   uint64
	conns map[*Conn]struct{}
	from  map[string]int // how many each source address has
}

// New returns a table of at most max connections, at most perSource of
// them from one address (both at least 1).
func New(max, perSource int) *Table {
	return &Table{max: max, perSource: perSource, conns: make(map[*Conn]struct{}), from: make(map[string]int)}
}

// Admit enters conn, just accepted, closing another connection of the
// table first if it must make room (see the package comment); that
// connection's Done then says why.
func (t *Table) Admit(conn net.Conn) *Conn {
	source := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	t.mu.Lock()
	t.seq++
	p := &Conn{Conn: conn, source: source, seq: t.seq}
	var victim *Conn
	switch {
	case t.from[source] >= t.perSource:
		victim = t.oldestLocked(func(q *Conn) bool { return q.source == source })
		if victim != nil {
			victim.evicted = ErrSourceFull
		}
	case len(t.conns) >= t.max:
		most := 0
		for _, n := range t.from {
			most = max(most, n)
		}
		victim = t.oldestLocked(func(q *Conn) bool { return t.from[q.source] == most })
		if victim != nil {
			victim.evicted = ErrTableFull
		}
	}
	if victim != nil {
		t.removeLocked(victim)
	}
	t.conns[p] = struct{}{}
	t.from[source]++
	t.mu.Unlock()
	if victim != nil {
		victim.Conn.Close() // its handshake fails, and its owner asks Done why
	}
	return p
}

// Done takes p out of the table at the end of its handshake and returns
// why the table closed it, if it did (ErrTableFull or ErrSourceFull).
func (t *Table) Done(p *Conn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removeLocked(p)
	return p.evicted
}

// Len is how many connections are in the table.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// oldestLocked returns the oldest connection that match accepts, or nil.
// The table is small, so a scan costs little.
func (t *Table) oldestLocked(match func(*Conn) bool) *Conn {
	var oldest *Conn
	for p := range t.conns {
		if match(p) && (oldest == nil || p.seq < oldest.seq) {
			oldest = p
		}
	}
	return oldest
}

func (t *Table) removeLocked(p *Conn) {
	if _, ok := t.conns[p]; !ok {
		return
	}
	delete(t.conns, p)
	if t.from[p.source]--; t.from[p.source] <= 0 {
		delete(t.from, p.source)
	}
}
