// Package pending is the table of a listener's accepted connections that
// are still in their handshake. The cluster's listener and the SSH server
// both use it.
//
// The rule that lets an honest peer in while a stranger floods the
// listener with connections that send nothing, even from the same
// address:
//
//   - A connection that has shown no progress is "idle". For its first
//     grace (DefaultGrace) it is kept whatever happens: that is the time
//     an honest peer, whose first bytes are already on their way, has to
//     be read. After it, it may be closed to make room for a newcomer.
//   - A connection that has shown progress (its owner calls Progress once
//     it has sent something valid: a cluster opener, an SSH version line)
//     is kept for a longer grace from then (DefaultStallGrace), the time
//     an honest peer needs for the rest of its handshake; after it, it
//     has stalled, and may be closed too, but only when no idle one may.
//   - When a newcomer needs room, the one closed is, among those that may
//     be, idle before stalled, the oldest of the source address that
//     holds the most connections, so one address cannot crowd out the
//     others. A source already at its share replaces its own instead,
//     leaving free places to the others.
//   - When the table is full and no connection may be closed yet, Admit
//     waits. The listener then accepts nothing, and new connections wait
//     in the kernel's backlog in the order they came, so an honest peer
//     gets its turn behind the flood, not a lottery against it.
//
// A flood of silent connections can therefore slow admission to max
// connections per grace, and one of stalled handshakes to max per stall
// grace, but neither can keep a peer that speaks at once from its
// handshake.
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

// DefaultStallGrace is how long a connection that showed progress is
// kept whatever happens, from its progress on.
const DefaultStallGrace = 500 * time.Millisecond

// Why a connection was closed to make room for a new one.
var (
	ErrTableFull  = errors.New("closed to make room: the table of connections in their handshake was full and this one was idle or stalled")
	ErrSourceFull = errors.New("closed to make room: its address had its share of connections in their handshake and this one was idle or stalled")
)

// Conn is an accepted connection in the table.
type Conn struct {
	Conn   net.Conn
	table  *Table
	source string    // the peer's IP address
	seq    uint64    // the order it was admitted in: lower is older
	since  time.Time // when it was admitted
	// Set under Table.mu: progressed is when it showed progress, zero
	// before; evicted says why the table closed Conn.
	progressed time.Time
	evicted    error
}

// Progress records that the peer sent something valid: the connection is
// kept for the stall grace from now, and then closed to make room only
// when no idle connection may be.
func (p *Conn) Progress() {
	now := time.Now()
	p.table.mu.Lock()
	if p.progressed.IsZero() {
		p.progressed = now
	}
	p.table.mu.Unlock()
}

// evictableAt is when p may first be closed to make room.
func (p *Conn) evictableAt(grace, stallGrace time.Duration) time.Time {
	if p.progressed.IsZero() {
		return p.since.Add(grace)
	}
	return p.progressed.Add(stallGrace)
}

// Table holds the connections in their handshake. It is safe for
// concurrent use.
type Table struct {
	max, perSource    int
	grace, stallGrace time.Duration

	mu      sync.Mutex
	seq     uint64
	conns   map[*Conn]struct{}
	from    map[string]int // how many each source address has
	changed chan struct{}  // closed, and replaced, when a connection leaves
}

// New returns a table of at most max connections, of which a source
// address's share is perSource (both at least 1), with DefaultGrace and
// DefaultStallGrace.
func New(max, perSource int) *Table {
	return &Table{
		max: max, perSource: perSource, grace: DefaultGrace, stallGrace: DefaultStallGrace,
		conns: make(map[*Conn]struct{}), from: make(map[string]int), changed: make(chan struct{}),
	}
}

// WithStallGrace sets how long a connection that showed progress is kept
// (for a handshake longer than the cluster's, such as SSH's), and returns
// the table. Call it before the table is used.
func (t *Table) WithStallGrace(d time.Duration) *Table {
	t.stallGrace = d
	return t
}

// Admit enters conn, just accepted, closing an idle or stalled one first if
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
// accepts and that may be closed: idle before stalled, then the one of
// the source that holds the most connections, then the oldest; nil if
// there is none.
func (t *Table) victimLocked(now time.Time, match func(*Conn) bool) *Conn {
	var victim *Conn
	for p := range t.conns {
		if !match(p) || now.Before(p.evictableAt(t.grace, t.stallGrace)) {
			continue
		}
		if victim == nil || t.closesBefore(p, victim) {
			victim = p
		}
	}
	return victim
}

// closesBefore reports whether p is closed before q when both may be.
func (t *Table) closesBefore(p, q *Conn) bool {
	if pIdle, qIdle := p.progressed.IsZero(), q.progressed.IsZero(); pIdle != qIdle {
		return pIdle
	}
	if t.from[p.source] != t.from[q.source] {
		return t.from[p.source] > t.from[q.source]
	}
	return p.seq < q.seq
}

// nextEvictableLocked is the wait until the next connection may be
// closed, at least a millisecond.
func (t *Table) nextEvictableLocked(now time.Time) time.Duration {
	var wait time.Duration
	for p := range t.conns {
		d := max(p.evictableAt(t.grace, t.stallGrace).Sub(now), time.Millisecond)
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
