package cluster

import (
	"testing"
	"time"
)

// TestTransitionKeepsTheLatestLinksInfo: a member heard again, or over a
// link that won a tie, is listed with the info of the link it now has;
// neither is an event, and only suspect → alive changes its state.
func TestTransitionKeepsTheLatestLinksInfo(t *testing.T) {
	t.Parallel()
	n, err := New(Config{Alias: "a", OnEvent: func(Event) {}, Cookie: []byte("a cookie of sixteen bytes or more"), CookieKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	first := memberInfo{Alias: "b", NodeID: "id-b", Incarnation: 1, Host: "127.0.0.2", Port: 2254}
	tie := first
	tie.Host = "127.0.0.3" // the same run, reached over a second address
	back := first
	back.Host = "127.0.0.4"

	table := n.members
	table.transition("b", StateAlive, first, EventJoined, nil, true, time.Time{})
	joined := table.records["b"].since
	table.transition("b", StateAlive, tie, 0, nil, true, time.Time{})
	if rec := table.records["b"]; rec.info != tie || rec.state != StateAlive || rec.since != joined {
		t.Errorf("after a tie: %+v; want the tie's info, alive since %v", rec, joined)
	}
	table.transition("b", StateSuspect, tie, 0, nil, true, time.Time{})
	table.transition("b", StateAlive, back, 0, nil, true, time.Time{})
	if rec := table.records["b"]; rec.info != back || rec.state != StateAlive || !rec.since.After(joined) {
		t.Errorf("heard again after suspect: %+v; want its info, alive again since after %v", rec, joined)
	}
	var kinds []EventKind // the node is not started: its events wait in the queue
	n.events.mu.Lock()
	for _, e := range n.events.pending {
		kinds = append(kinds, e.Kind)
	}
	n.events.mu.Unlock()
	if len(kinds) != 1 || kinds[0] != EventJoined {
		t.Errorf("events %v; want one joined, none for the tie or alive ↔ suspect", kinds)
	}
}
