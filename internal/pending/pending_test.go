package pending

import (
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

// TestEviction: a new connection is always taken; the one closed to make
// room is the oldest of its own address when that address is at the
// per-source limit, else, when the table is full, the oldest of the
// address with the most.
func TestEviction(t *testing.T) {
	const max, perSource = 8, 4
	tests := []struct {
		name    string
		held    []string // the sources of the connections held, oldest first
		newFrom string
		evicted int // index in held of the one closed, -1 for none
		why     error
	}{
		{"room", []string{"a", "b"}, "c", -1, nil},
		{"per source", []string{"a", "b", "a", "a", "a"}, "a", 0, ErrSourceFull},
		{"per source, the newcomer's own", []string{"b", "b", "a", "a", "a", "a"}, "a", 2, ErrSourceFull},
		{"full: the busiest", []string{"a", "b", "b", "b", "c", "c", "d", "d"}, "e", 1, ErrTableFull},
		{"full: a tie, the oldest", []string{"d", "c", "b", "a", "a", "b", "c", "d"}, "e", 0, ErrTableFull},
		{"full: not the lone newcomer", []string{"a", "b", "c", "d", "e", "f", "g", "x"}, "y", 0, ErrTableFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := New(max, perSource)
			conn := func(source string) net.Conn {
				local, remote := net.Pipe()
				t.Cleanup(func() { local.Close(); remote.Close() })
				return addrConn{Conn: local, remote: &net.TCPAddr{IP: net.ParseIP("10.0.0." + fmt.Sprint(source[0])), Port: 1}}
			}
			var held []*Conn
			for _, source := range tt.held {
				p := tab.Admit(conn(source))
				if p.evicted != nil {
					t.Fatalf("setting up: %v", p.evicted)
				}
				held = append(held, p)
			}
			if p := tab.Admit(conn(tt.newFrom)); p.evicted != nil {
				t.Fatalf("the new connection was not taken")
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
