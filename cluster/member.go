package cluster

import (
	"net"
	"sort"
	"strconv"
	"time"
)

// MemberState is how a member looks from this node.
type MemberState int

// Member states. Members that failed or left are not listed at all.
const (
	// StateAlive: heard from within two heartbeat intervals.
	StateAlive MemberState = iota + 1
	// StateSuspect: silent for longer than two heartbeat intervals, but
	// not yet for the failure timeout.
	StateSuspect
	// StateLocal: the node itself.
	StateLocal
)

// String returns "alive", "suspect" or "local".
func (s MemberState) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateLocal:
		return "local"
	}
	return "unknown"
}

// Member is a node of the cluster as this node sees it.
type Member struct {
	Alias    string      // unique name in the cluster
	Host     string      // host where it accepts cluster connections
	Port     int         // port where it accepts cluster connections
	Local    bool        // true for the node that made the list
	NodeID   string      // stable identity (see Config.NodeID)
	State    MemberState // alive, suspect or local
	LastSeen time.Time   // last frame received from it; now for the local node
}

// Addr returns the member's cluster address as "host:port".
func (m Member) Addr() string {
	return net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
}

// addr returns the wire member's address as "host:port".
func (m memberInfo) addr() string {
	return net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Alias < ms[j].Alias })
}
