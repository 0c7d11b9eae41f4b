package cluster

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors that name why a pending inbound connection was closed.
var (
	errEvicted   = errors.New("closed to make room: the pending-connection table was full")
	errSourceCap = errors.New("closed to make room: too many pending connections from one source")
)

// pendingConn is an inbound connection in its handshake.
type pendingConn struct {
	conn   net.Conn
	source string // remote IP
	since  time.Time
	// evicted, set under Node.mu, says why the node closed it.
	evicted error
}

// admitPending records an accepted connection in the pending table. When
// its source already has MaxPendingPerSource pending, the oldest of them
// is closed to make room; when the whole table is full, the oldest of the
// source with the most pending is. A stranger holding idle connections so
// delays itself, not the members. It returns the record, or ErrClosed
// when the node is closed.
func (n *Node) admitPending(conn net.Conn) (*pendingConn, error) {
	source, _ := splitAddr(conn.RemoteAddr())
	p := &pendingConn{conn: conn, source: source, since: time.Now()}
	n.mu.Lock()
	if n.state == stateClosed {
		n.mu.Unlock()
		return nil, ErrClosed
	}
	var victim *pendingConn
	switch {
	case n.pendingFrom[source] >= n.cfg.MaxPendingPerSource:
		if victim = n.oldestPendingLocked(source); victim != nil {
			victim.evicted = errSourceCap
		}
	case len(n.pending) >= n.cfg.MaxPendingConns:
		if victim = n.oldestPendingLocked(n.busiestSourceLocked()); victim != nil {
			victim.evicted = errEvicted
		}
	}
	if victim != nil {
		n.removePendingLocked(victim)
	}
	n.pending[conn] = p
	n.pendingFrom[source]++
	n.mu.Unlock()
	if victim != nil {
		victim.conn.Close() // its handshake fails and reports the eviction
	}
	return p, nil
}

// busiestSourceLocked returns the source with the most pending
// connections. Caller holds mu.
func (n *Node) busiestSourceLocked() string {
	busiest, most := "", 0
	for source, count := range n.pendingFrom {
		if count > most {
			busiest, most = source, count
		}
	}
	return busiest
}

// oldestPendingLocked returns the oldest pending connection from source
// ("" for any source). Caller holds mu. The table is small (at most
// MaxPendingConns), so a scan costs little.
func (n *Node) oldestPendingLocked(source string) *pendingConn {
	var oldest *pendingConn
	for _, p := range n.pending {
		if (source == "" || p.source == source) && (oldest == nil || p.since.Before(oldest.since)) {
			oldest = p
		}
	}
	return oldest
}

func (n *Node) removePendingLocked(p *pendingConn) {
	if n.pending[p.conn] != p {
		return
	}
	delete(n.pending, p.conn)
	if n.pendingFrom[p.source]--; n.pendingFrom[p.source] <= 0 {
		delete(n.pendingFrom, p.source)
	}
}

// donePending removes p from the table and returns why the node evicted
// it, if it did.
func (n *Node) donePending(p *pendingConn) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removePendingLocked(p)
	return p.evicted
}

// maxSummarySources bounds the sources a refusal summary names; the rest
// are counted together.
const maxSummarySources = 8

// refusalLog counts refused inbound connections between summaries, so a
// flood of strangers costs a few counters, not a line each.
type refusalLog struct {
	mu      sync.Mutex
	open    bool // a summary interval runs
	count   int
	since   time.Time
	sources map[string]int // at most maxSummarySources entries
	others  int            // refusals from sources not in the map
	reasons map[string]int // by reasonOf; a fixed, small set of keys
}

// noteRefusal records a refused inbound connection. The first refusal
// after a quiet interval is reported at once, as it is; later ones are
// summarised at the end of the interval.
func (n *Node) noteRefusal(who Member, err error) {
	r := &n.refusals
	r.mu.Lock()
	if !r.open {
		r.open = true
		r.mu.Unlock()
		n.emitRefusal(Event{Kind: EventRefused, Member: who, Err: err, Count: 1, Time: time.Now()})
		if !n.spawn(n.summariseRefusals) {
			r.mu.Lock()
			r.open = false
			r.mu.Unlock()
		}
		return
	}
	if r.count == 0 {
		r.since = time.Now()
		r.sources = make(map[string]int)
		r.reasons = make(map[string]int)
	}
	r.count++
	source := who.Host
	if _, ok := r.sources[source]; ok || len(r.sources) < maxSummarySources {
		r.sources[source]++
	} else {
		r.others++
	}
	r.reasons[reasonOf(err)]++
	r.mu.Unlock()
}

// summariseRefusals reports what was refused each interval, until an
// interval passes without refusals.
func (n *Node) summariseRefusals() {
	r := &n.refusals
	for {
		if !sleepCtx(n.ctx, n.cfg.RefusalSummaryInterval) {
			return
		}
		r.mu.Lock()
		if r.count == 0 {
			r.open = false
			r.mu.Unlock()
			return
		}
		summary := &RefusalSummary{Count: r.count, Since: r.since, Sources: r.sources, Others: r.others, Reasons: r.reasons}
		r.count, r.others, r.sources, r.reasons = 0, 0, nil, nil
		r.mu.Unlock()
		n.emitRefusal(Event{Kind: EventRefused, Err: summary, Count: summary.Count, Time: time.Now()})
	}
}

func (n *Node) emitRefusal(e Event) { n.events.push(e) }

// RefusalSummary is the Err of an EventRefused that stands for several
// refused connections.
type RefusalSummary struct {
	Count   int            // connections refused
	Since   time.Time      // when the first of them was refused
	Sources map[string]int // by source address (at most 8 named)
	Others  int            // refused from sources not named
	Reasons map[string]int // by reason, such as "timed out"
}

// Error describes the summary in one line, such as
// "100 connections refused since 12:00:01 from 10.0.0.9 (100): timed out 100".
func (s *RefusalSummary) Error() string {
	var from []string
	for src, c := range s.Sources {
		from = append(from, fmt.Sprintf("%s (%d)", src, c))
	}
	sort.Strings(from)
	if s.Others > 0 {
		from = append(from, fmt.Sprintf("others (%d)", s.Others))
	}
	var why []string
	for reason, c := range s.Reasons {
		why = append(why, fmt.Sprintf("%s %d", reason, c))
	}
	sort.Strings(why)
	return fmt.Sprintf("%d connections refused since %s from %s: %s",
		s.Count, s.Since.Format("15:04:05"), strings.Join(from, ", "), strings.Join(why, ", "))
}

// reasonOf names the kind of a refusal for summaries: a fixed phrase,
// never text from the peer.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, errEvicted), errors.Is(err, errSourceCap):
		return "evicted"
	case errors.Is(err, ErrHandshakeTimeout):
		return "timed out"
	case errors.Is(err, ErrBadCookie):
		return "bad cookie"
	case errors.Is(err, ErrVersionMismatch):
		return "other protocol version"
	case errors.Is(err, ErrTLSMismatch):
		return "TLS mismatch"
	case errors.Is(err, ErrNotANode):
		return "not a cluster node"
	case errors.Is(err, ErrDuplicateAlias):
		return "alias taken"
	case errors.Is(err, ErrClusterFull):
		return "cluster full"
	}
	return "other"
}
