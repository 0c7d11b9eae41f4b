// Package pending is the table of a listener's accepted connections that
// are still in their handshake. The cluster's listener and the SSH server
// both use it.
//
// The rule that lets an honest peer in while a stranger floods the
// listener with connections that send nothing, even from the same
// address:
//
//   - A connection that has shown progress (its owner calls Progress once
//     it has sent something valid: a cluster opener, an SSH version line)
//     is never closed to make room; its handshake deadline bounds it.
//   - A connection that has shown none is "idle". For its first Grace it
//     is protected too: that is the time an honest peer has to be read.
//     After it, it may be closed to make room for a newcomer.
//   - When a newcomer needs room, the one closed is the oldest idle
//     connection past its grace, taken from the source address that
//     holds the most connections, so one address cannot crowd out the
//     others. A source already at its share replaces its own oldest
//     instead, leaving free places to the others.
//   - When the table is full and no connection may be closed yet, Admit
//     waits. The listener then accepts nothing, and new connections wait
//     in the kernel's backlog in the order they came, so an honest peer
//     gets its turn behind the flood, not a lottery against it.
//
// A flood can therefore slow admission to Max connections per Grace, but
// not keep a peer that speaks at once from its handshake.
package pending

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// DefaultGrace is how long a new connection is kept whatever happens,
// for its owner to read its first bytes.
const DefaultGrace = 200 * time.Millisecond

// Why a connection was closed to make room for a new one.
var (
	ErrTableFull  = errors.New("closed to make room: the table of connections in their handshake was full and this one had sent nothing")
	ErrSourceFull = errors.New("closed to make room: its address had its share of connections in their handshake and this one had sent nothing")
)

// Conn is an accepted connection in the table.
type Conn struct {
	Conn   net.Conn
	table  *Table
	source string    // the peer's IP address
	seq    uint64    // the order it was admitted in: lower is older
	since  time.Time // when it was admitted
	// Set under Table.mu: progressed once it showed progress; evicted
	// says why the table closed Conn.
	progressed bool
	evicted    error
}

// Progress records that the peer sent something valid: the connection is
// no longer closed to make room for others.
func (p *Conn) Progress() {
	p.table.mu.Lock()
	p.progressed = true
	p.table.mu.Unlock()
}

// Table holds the connections in their handshake. It is safe for
// concurrent use.
type Table struct {
	max, perSource int
	grace          time.Duration

	mu      sync.Mutex
	seq     uint64
	conns   map[*Conn]struct{}
	from    map[string]int // how many each source address has
	changed chan struct{}  // closed, and replaced, when a connection leaves
}

// New returns a table of at most max connections, of which a source
// address's share is perSource (both at least 1), with DefaultGrace.
func New(max, perSource int) *Table {
	return &Table{
		max: max, perSource: perSource, grace: DefaultGrace,
		conns: make(map[*Conn]struct{}), from: make(map[string]int), changed: make(chan struct{}),
	}
}

// Admit enters conn, just accepted, closing an idle connection first if
// it must make room (see the package comment); that connection's Done
// then says why. While the table is full of connections that may not be
// closed yet, Admit waits; it returns ctx's error, with conn not entered,
// if ctx ends first.
func (t *Table) Admit(ctx context.Context, conn net.Conn) (*Conn, error) {
	source := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	for {
		now := time.Now()
		t.mu.Lock()
		victim, ok := t.makeRoomLocked(source, now)
		if ok {
			t.seq++
			p := &Conn{Conn: conn, table: t, source: source, seq: t.seq, since: now}
			t.conns[p] = struct{}{}
			t.from[source]++
			t.mu.Unlock()
			if victim != nil {
				victim.Conn.Close() // its handshake fails, and its owner asks Done why
			}
			return p, nil
		}
		wait, changed := t.nextEvictableLocked(now), t.changed
		t.mu.Unlock()
		if err := waitFor(ctx, wait, changed); err != nil {
			return nil, err
		}
	}
}

// waitFor waits until ctx ends (its error), changed is closed, or d
// passes (no limit when d <= 0).
func waitFor(ctx context.Context, d time.Duration, changed <-chan struct{}) error {
	var expired <-chan time.Time
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-changed:
	case <-expired:
	}
	return nil
}

// makeRoomLocked decides whether a newcomer from source may enter now,
// and which connection, if any, it replaces (already taken out of the
// table, its reason set).
func (t *Table) makeRoomLocked(source string, now time.Time) (victim *Conn, ok bool) {
	if t.from[source] >= t.perSource {
		if victim = t.victimLocked(now, func(q *Conn) bool { return q.source == source }); victim != nil {
			victim.evicted = ErrSourceFull
		}
	}
	if victim == nil && len(t.conns) >= t.max {
		if victim = t.victimLocked(now, func(*Conn) bool { return true }); victim == nil {
			return nil, false
		}
		victim.evicted = ErrTableFull
	}
	if victim != nil {
		t.removeLocked(victim)
	}
	return victim, true
}

// victimLocked returns the connection to close among those match
// accepts: of the idle ones past their grace, the oldest of the source
// that holds the most connections; nil if there is none.
func (t *Table) victimLocked(now time.Time, match func(*Conn) bool) *Conn {
	var victim *Conn
	for p := range t.conns {
		if !match(p) || !t.evictableLocked(p, now) {
			continue
		}
		if victim == nil || t.from[p.source] > t.from[victim.source] ||
			t.from[p.source] == t.from[victim.source] && p.seq < victim.seq {
			victim = p
		}
	}
	return victim
}

func (t *Table) evictableLocked(p *Conn, now time.Time) bool {
	return !p.progressed && now.Sub(p.since) >= t.grace
}

// nextEvictableLocked is the wait until the next idle connection's grace
// ends, or 0 when no connection is idle (only a leaving one makes room).
func (t *Table) nextEvictableLocked(now time.Time) time.Duration {
	var wait time.Duration
	for p := range t.conns {
		if p.progressed {
			continue
		}
		d := max(p.since.Add(t.grace).Sub(now), time.Millisecond)
		if wait == 0 || d < wait {
			wait = d
		}
	}
	return wait
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

func (t *Table) removeLocked(p *Conn) {
	if _, ok := t.conns[p]; !ok {
		return
	}
	delete(t.conns, p)
	if t.from[p.source]--; t.from[p.source] <= 0 {
		delete(t.from, p.source)
	}
	close(t.changed)
	t.changed = make(chan struct{})
}
