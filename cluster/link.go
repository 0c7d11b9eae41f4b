package cluster

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// link is an established, authenticated connection to one member.
type link struct {
	conn     net.Conn
	peer     memberInfo // the member as it published itself
	dialedBy string     // alias of the node that opened the connection
	redial   bool       // made by the reconnect loop

	// Guarded by Node.mu: an acceptor's link is ready once its HelloAck or
	// JoinAck is sent. A link replaced before that is retired: closed by
	// the acceptor right after the ack, so the dialer's handshake completes.
	ready   bool
	retired bool

	lastSeen  atomic.Int64 // unix ns of the last frame received
	writeMu   sync.Mutex
	closeOnce sync.Once
	done      chan struct{} // closed by close
}

func newLink(conn net.Conn, peer memberInfo, dialedBy string) *link {
	l := &link{conn: conn, peer: peer, dialedBy: dialedBy, done: make(chan struct{})}
	l.lastSeen.Store(time.Now().UnixNano())
	return l
}

// close closes the connection once; the link's goroutines then end.
func (l *link) close() {
	l.closeOnce.Do(func() {
		l.conn.Close()
		close(l.done)
	})
}

// member describes the peer; it is suspect after silence longer than
// suspectAfter.
func (l *link) member(now time.Time, suspectAfter time.Duration) Member {
	seen := time.Unix(0, l.lastSeen.Load())
	state := StateAlive
	if now.Sub(seen) > suspectAfter {
		state = StateSuspect
	}
	return Member{
		Alias: l.peer.Alias, Host: l.peer.Host, Port: l.peer.Port,
		NodeID: l.peer.NodeID, State: state, LastSeen: seen,
	}
}

// publicMember describes a wire member for events about links that may
// not exist any more.
func publicMember(m memberInfo) Member {
	return Member{Alias: m.Alias, Host: m.Host, Port: m.Port, NodeID: m.NodeID}
}

// send writes one message, bounded by Config.WriteTimeout.
func (n *Node) send(l *link, m message) error {
	frame, err := n.frames.marshal(m)
	if err != nil {
		return err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.conn.SetWriteDeadline(time.Now().Add(n.cfg.WriteTimeout)); err != nil {
		return err
	}
	_, err = l.conn.Write(frame)
	return err
}

// startLink runs the reader and the heartbeat of an admitted link.
func (n *Node) startLink(l *link) {
	if !n.spawn(func() { n.readLoop(l) }) {
		l.close()
		return
	}
	if !n.spawn(func() { n.heartbeatLoop(l) }) {
		l.close()
	}
}

// readLoop reads frames until the link ends. Every frame counts as a sign
// of life; silence for FailureTimeout fails the member.
func (n *Node) readLoop(l *link) {
	for {
		if err := l.conn.SetReadDeadline(time.Now().Add(n.cfg.FailureTimeout)); err != nil {
			n.dropLink(l, EventLinkClosed, err)
			return
		}
		m, err := n.frames.read(l.conn)
		if err != nil {
			kind, reason := n.classifyReadError(err)
			n.dropLink(l, kind, reason)
			return
		}
		l.lastSeen.Store(time.Now().UnixNano())
		switch m := m.(type) {
		case *ping:
		case *leave:
			n.dropLink(l, EventLeft, nil)
			return
		case *refuse:
			n.dropLink(l, EventLinkClosed, fmt.Errorf("peer closed the link: %s", m.Reason))
			return
		default:
			n.dropLink(l, EventLinkClosed, fmt.Errorf("%w: unexpected %s on an established link", errProtocol, m.kind()))
			return
		}
	}
}

// classifyReadError turns the error that ended a link into an event.
func (n *Node) classifyReadError(err error) (EventKind, error) {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return EventFailed, fmt.Errorf("nothing heard for %v", n.cfg.FailureTimeout)
	case errors.Is(err, io.EOF):
		return EventLinkClosed, errors.New("peer closed the connection")
	}
	return EventLinkClosed, err
}

// heartbeatLoop sends a ping every HeartbeatInterval until the link ends.
func (n *Node) heartbeatLoop(l *link) {
	ticker := time.NewTicker(n.cfg.HeartbeatInterval)
	defer ticker.Stop()
	var seq uint64
	for {
		select {
		case <-l.done:
			return
		case <-ticker.C:
		}
		seq++
		if err := n.send(l, &ping{Seq: seq}); err != nil {
			kind := EventLinkClosed
			if errors.Is(err, os.ErrDeadlineExceeded) {
				kind, err = EventFailed, fmt.Errorf("peer did not read a heartbeat for %v", n.cfg.WriteTimeout)
			}
			n.dropLink(l, kind, err)
			return
		}
	}
}

// dropLink closes l and, if it is the member's current link, removes the
// member and announces why. A link replaced by another (duplicate or
// restarted peer) goes silently.
func (n *Node) dropLink(l *link, kind EventKind, err error) {
	l.close()
	n.mu.Lock()
	delete(n.standby, l)
	current := n.links[l.peer.Alias] == l
	if current {
		delete(n.links, l.peer.Alias)
	}
	announce := current && n.state == stateRunning
	if announce {
		n.emit(kind, publicMember(l.peer), err)
	}
	n.mu.Unlock()
	if announce && (kind == EventFailed || kind == EventLinkClosed) {
		n.startReconnect(l.peer)
	}
}
