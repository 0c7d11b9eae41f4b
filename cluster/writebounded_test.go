package cluster

import (
	"net"
	"testing"
)

// TestWriteBoundedDoneWhenClosedAfter: a write that went out is not
// reported failed because the connection closed before its deadline was
// cleared, as when a peer reads a Leave and hangs up at once (a leaving
// node said "tell "a" we leave: set tcp ...: use of closed network
// connection" although "a" had announced it left).
func TestWriteBoundedDoneWhenClosedAfter(t *testing.T) {
	n := startNode(t, testConfig("n"))
	conn, peer := net.Pipe()
	defer peer.Close()
	err := n.writeBounded(conn, func() error {
		return conn.Close() // the write went out; then the link closed
	})
	if err != nil {
		t.Errorf("writeBounded of a write done before the close: %v, want nil", err)
	}
	if err := n.writeBounded(conn, func() error { _, err := conn.Write([]byte{1}); return err }); err == nil {
		t.Error("writeBounded on a closed connection: nil, want its error")
	}
}
