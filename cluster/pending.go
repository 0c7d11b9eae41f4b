package cluster

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/internal/pending"
)

// admitPending enters an accepted connection in the table of inbound
// connections in their handshake (internal/pending). A connection that
// has sent nothing for pending.DefaultGrace may be closed to make room,
// the busiest source's oldest first; one that sent a valid opener never
// is. While the table is full of connections that may not be closed yet,
// it waits, and the listener accepts nothing meanwhile: new connections
// queue in the kernel's backlog in arrival order, so a joiner behind a
// flood of silent connections, even from its own address, gets its turn.
// It returns ErrClosed when the node is closed.
func (n *Node) admitPending(conn net.Conn) (*pending.Conn, error) {
	if n.links.currentState() == stateClosed {
		return nil, ErrClosed
	}
	p, err := n.handshakes.Admit(n.ctx, conn)
	if err != nil {
		return nil, ErrClosed
	}
	return p, nil
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
		n.events.push(Event{Kind: EventRefused, Member: who, Err: err, Count: 1, Time: time.Now()})
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
		n.events.push(Event{Kind: EventRefused, Err: summary, Count: summary.Count, Time: time.Now()})
	}
}

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
	from := countsText(s.Sources, "%s (%d)")
	if s.Others > 0 {
		from = append(from, fmt.Sprintf("others (%d)", s.Others))
	}
	return fmt.Sprintf("%d connections refused since %s from %s: %s",
		s.Count, s.Since.Format("15:04:05"), strings.Join(from, ", "), strings.Join(countsText(s.Reasons, "%s %d"), ", "))
}

// countsText formats each key of counts and its count with format (a %s
// then a %d), sorted.
func countsText(counts map[string]int, format string) []string {
	texts := make([]string, 0, len(counts))
	for key, c := range counts {
		texts = append(texts, fmt.Sprintf(format, key, c))
	}
	sort.Strings(texts)
	return texts
}

// reasonOf names the kind of a refusal for summaries: a fixed phrase,
// never text from the peer.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, pending.ErrTableFull), errors.Is(err, pending.ErrSourceFull):
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
