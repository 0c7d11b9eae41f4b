package pending

import (
	"context"
	"fmt"
	"net"
	"testing"
)

// addrConn is a net.Conn with the remote address a test gives it.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// TestEviction: among idle connections past their grace (none here), the
// one closed to make room is the oldest of its own address when that
// address is at its share, else, when the table is full, the oldest of
// the address with the most; one that showed progress never is.
func TestEviction(t *testing.T) {
	const max, perSource = 8, 4
	tests := []struct {
		name    string
		held    []string // the sources of the connections held, oldest first
		newFrom string
		evicted int // index in held of the one closed, -1 for none
		why     error
		moved   []int // indexes in held of those that showed progress
	}{
		{"room", []string{"a", "b"}, "c", -1, nil, nil},
		{"per source", []string{"a", "b", "a", "a", "a"}, "a", 0, ErrSourceFull, nil},
		{"per source, the newcomer's own", []string{"b", "b", "a", "a", "a", "a"}, "a", 2, ErrSourceFull, nil},
		{"full: the busiest", []string{"a", "b", "b", "b", "c", "c", "d", "d"}, "e", 1, ErrTableFull, nil},
		{"full: a tie, the oldest", []string{"d", "c", "b", "a", "a", "b", "c", "d"}, "e", 0, ErrTableFull, nil},
		{"full: not the lone newcomer", []string{"a", "b", "c", "d", "e", "f", "g", "x"}, "y", 0, ErrTableFull, nil},
		{"per source: not one that progressed", []string{"a", "b", "a", "a", "a"}, "a", 2, ErrSourceFull, []int{0}},
		{"per source, all progressed: a free place", []string{"a", "a", "a", "a"}, "a", -1, nil, []int{0, 1, 2, 3}},
		{"full: the busiest idle", []string{"a", "a", "a", "b", "b", "c", "c", "d"}, "e", 3, ErrTableFull, []int{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := New(max, perSource)
			tab.grace = 0
			conn := func(source string) net.Conn {
				local, remote := net.Pipe()
				t.Cleanup(func() { local.Close(); remote.Close() })
				return addrConn{Conn: local, remote: &net.TCPAddr{IP: net.ParseIP("10.0.0." + fmt.Sprint(source[0])), Port: 1}}
			}
			var held []*Conn
			for _, source := range tt.held {
				p, err := tab.Admit(context.Background(), conn(source))
				if err != nil || p.evicted != nil {
					t.Fatalf("setting up: %v, %v", err, p.evicted)
				}
				held = append(held, p)
			}
			for _, i := range tt.moved {
				held[i].Progress()
			}
			if p, err := tab.Admit(context.Background(), conn(tt.newFrom)); err != nil || p.evicted != nil {
				t.Fatalf("the new connection was not taken: %v", err)
			}
			for i, p := range held {
				want := error(nil)
				if i == tt.evicted {
					want = tt.why
				}
				if p.evicted != want {
					t.Errorf("connection %d (from %s): evicted %v, want %v", i, tt.held[i], p.evicted, want)
				}
				if _, in := tab.conns[p]; in != (want == nil) {
					t.Errorf("connection %d: in the table %v, want %v", i, in, want == nil)
				}
			}
			if tab.Len() > max {
				t.Errorf("%d in the table, over %d", tab.Len(), max)
			}
			// Done takes a connection out and says why it was closed.
			if tt.evicted >= 0 {
				if err := tab.Done(held[tt.evicted]); err != tt.why {
					t.Errorf("Done of the evicted connection: %v, want %v", err, tt.why)
				}
			}
			before := tab.Len()
			if err := tab.Done(held[len(held)-1]); err != nil || tab.Len() != before-1 {
				t.Errorf("Done of the newest: %v, table %d -> %d", err, before, tab.Len())
			}
		})
	}
}
