package cluster

import (
	"net"
	"sort"
	"strconv"
	"sync"
	"time"
)

// MemberState is how a member looks from this node.
type MemberState int

// Member states. See docs/cluster.md for the transitions;
// memberTable.transition (in this file) applies every one of them.
const (
	// StateAlive: linked, and not suspected (see docs/cluster.md,
	// "Probing, suspicion and failure").
	StateAlive MemberState = iota + 1
	// StateSuspect: linked, but a member (this node or another) found it
	// answered no probe, direct or indirect, and it has not refuted that
	// yet; it fails when the suspicion timeout ends.
	StateSuspect
	// StateLocal: the node itself.
	StateLocal
	// StateFailed: its link failed or closed; this node redials it until
	// Config.ReconnectFor ends, then drops it.
	StateFailed
	// StateLeft: it left on purpose. A member that left is dropped at
	// once, so lists never show this state; events do.
	StateLeft
	// StateJoining: listed by the member this node joined through, and
	// being linked in the background (see Node.Join); it becomes alive
	// once linked, and is no longer listed if it cannot be reached.
	StateJoining
)

// String returns "alive", "suspect", "local", "failed", "left" or "joining".
func (s MemberState) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateLocal:
		return "local"
	case StateFailed:
		return "failed"
	case StateLeft:
		return "left"
	case StateJoining:
		return "joining"
	}
	return "unknown"
}

// Member is a node of the cluster as this node sees it.
type Member struct {
	Alias       string      // unique name in the cluster
	Host        string      // host where it accepts cluster connections
	Port        int         // port where it accepts cluster connections
	Local       bool        // true for the node that made the list
	NodeID      string      // stable identity (see Config.NodeID)
	Incarnation uint64      // which run of the node (its start, Unix ns)
	State       MemberState // alive, suspect, failed or local
	LastSeen    time.Time   // last frame received from it; now for the local node
	Since       time.Time   // when it entered State (alive: when linked)
}

// Addr returns the member's cluster address as "host:port", or the host
// alone when the port is not known (0): that of a refused stranger, whose
// connection came from an ephemeral port that names nothing.
func (m Member) Addr() string {
	if m.Port == 0 {
		return m.Host
	}
	return net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
}

// addr returns the wire member's address as "host:port".
func (m memberInfo) addr() string {
	return net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Alias < ms[j].Alias })
}

// memberRecord is one member in the member table: every member this node
// knows, linked or failed. Links are kept apart (Node.links); a record's
// state says what became of its link.
type memberRecord struct {
	info     memberInfo
	state    MemberState // StateAlive, StateSuspect or StateFailed
	since    time.Time   // when it entered state
	lastSeen time.Time   // failed: the last frame heard before the failure
	// epoch is the member's liveness epoch as last heard: it starts at 0
	// with each run, and the member raises it to refute a suspicion
	// (swim.go). A suspicion or an alive claim is about one epoch.
	epoch uint64
	// suspecters, while suspect, are the members that suspected this
	// epoch (this node's alias included when it did): Lifeguard's
	// independent confirmations, which shorten the suspicion timeout.
	suspecters map[string]bool
}

// memberTable is the member table: the records of the members this node
// knows, and transition, the one place where a member changes state. It
// has a lock of its own; a caller that holds linkSet.mu as well took that
// first (linkSet.mu, then memberTable.mu), which keeps a link's admission or
// drop and its member's transition one step.
type memberTable struct {
	emit func(kind EventKind, m Member, reason error) // queues an event; never blocks

	mu      sync.Mutex
	records map[string]*memberRecord
}

func newMemberTable(emit func(EventKind, Member, error)) *memberTable {
	return &memberTable{emit: emit, records: make(map[string]*memberRecord)}
}

// known reports whether alias has a record.
func (t *memberTable) known(alias string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.records[alias] != nil
}

// stateOf returns the state of member alias, 0 if it has no record.
func (t *memberTable) stateOf(alias string) MemberState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rec := t.records[alias]; rec != nil {
		return rec.state
	}
	return 0
}

// count is the number of records.
func (t *memberTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.records)
}

// transition is the one place where a member changes state: it updates
// the record of alias and queues the event that reports the change (none
// for alive ↔ suspect, which show in lists only). to is one of:
//
//   - StateAlive (from nothing, failed or an older run): kind is
//     EventJoined, EventReconnected or EventRejoined;
//   - StateSuspect (from alive) and StateAlive (from suspect): no event;
//     suspect and refute (swim.go) decide these from probes and gossip;
//   - StateFailed (from alive or suspect): kind is EventFailed or
//     EventLinkClosed; the record stays, listed as failed, while this
//     node redials it; when keep is false (no reconnection), it is dropped
//     at once;
//   - StateLeft: EventLeft, and the record is dropped;
//   - 0 (drop a failed member whose reconnect window ended): EventDropped.
//
// lastSeen, for StateFailed, is when the member was last heard from.
func (t *memberTable) transition(alias string, to MemberState, info memberInfo, kind EventKind, reason error, keep bool, lastSeen time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.transitionLocked(alias, to, info, kind, reason, keep, lastSeen, time.Now())
}

// transitionLocked is transition at now, for a caller that holds t.mu.
func (t *memberTable) transitionLocked(alias string, to MemberState, info memberInfo, kind EventKind, reason error, keep bool, lastSeen, now time.Time) {
	rec := t.records[alias]
	var from MemberState // 0: no record
	if rec != nil {
		from = rec.state
	}
	switch {
	case kind == 0 && to == StateAlive && (from == StateAlive || from == StateSuspect):
		// The same run, heard again or over a link that won a tie, whose
		// info (the host it came from) is now the one to list.
		rec.info = info
		if from == StateSuspect {
			rec.state, rec.since, rec.suspecters = to, now, nil
		}
		return
	case kind == 0 && to == StateSuspect && from == StateAlive:
		rec.state, rec.since, rec.suspecters = to, now, make(map[string]bool)
		return
	case to == from && kind == 0:
		return // no change
	case to == StateAlive:
		t.records[alias] = &memberRecord{info: info, state: StateAlive, since: now}
	case to == StateFailed && keep:
		t.records[alias] = &memberRecord{info: info, state: StateFailed, since: now, lastSeen: lastSeen}
	case to == StateFailed, to == StateLeft:
		delete(t.records, alias)
	case to == 0:
		if from != StateFailed {
			return // back meanwhile, or gone
		}
		delete(t.records, alias)
		kind = EventDropped
	default:
		return
	}
	if kind != 0 {
		t.emit(kind, publicMember(info), reason)
	}
}

// appendMembers appends the members of the table to ms; heard gives the
// last frame heard from a linked member (false: not linked).
func (t *memberTable) appendMembers(ms []Member, heard func(alias string) (time.Time, bool)) []Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	for alias, rec := range t.records {
		m := publicMember(rec.info)
		m.State, m.Since, m.LastSeen = rec.state, rec.since, rec.lastSeen
		if at, linked := heard(alias); linked && rec.state != StateFailed {
			m.LastSeen = at
		}
		ms = append(ms, m)
	}
	return ms
}

// Members returns the members this node knows, itself included with
// Local set, sorted by alias: linked members (alive or suspect) and
// failed members this node still redials. Members that left, and failed
// members whose reconnect window ended, are not listed.
func (n *Node) Members() []Member {
	now := time.Now()
	n.mu.Lock()
	self := Member{
		Alias: n.cfg.Alias, Host: n.localHostLocked(), Port: n.self.Port, Local: true,
		NodeID: n.cfg.NodeID, Incarnation: n.self.Incarnation, State: StateLocal, LastSeen: now, Since: n.started,
	}
	n.mu.Unlock()
	members := make([]Member, 0, n.members.count()+1)
	members = append(members, self)
	n.links.mu.Lock()
	members = n.members.appendMembers(members, func(alias string) (time.Time, bool) {
		l := n.links.byAlias[alias]
		if l == nil {
			return time.Time{}, false
		}
		return time.Unix(0, l.lastSeen.Load()), true
	})
	n.links.mu.Unlock()
	members = n.joining.appendJoining(members, n.members.known)
	sortMembers(members)
	return members
}
