package cluster

import (
	"bufio"
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
	// provenAddr is the address this node dialed to make the link: the
	// peer proved there, by its handshake, that the address is its own.
	// Empty for a link the peer dialed, whose published address is only
	// a claim.
	provenAddr string

	// Guarded by linkSet.mu: an acceptor's link is ready once its HelloAck or
	// JoinAck is sent. A link replaced before that is retired: closed by
	// the acceptor right after the ack, so the dialer's handshake completes.
	ready   bool
	retired bool
	// readyCh is closed when the link is ready; MemberUp waits for it so
	// it never overtakes the HelloAck or JoinAck.
	readyCh   chan struct{}
	readyOnce sync.Once

	lastSeen atomic.Int64 // unix ns of the last frame received
	queue    *sendQueue   // frames for writeLoop
	inbox    *appQueue    // application messages for deliverLoop
	// readerWaits is set while the reader waits for room in inbox: the
	// member's frames, its probes and Acks among them, wait unread
	// through this node's doing (see probe.go).
	readerWaits atomic.Bool
	// deliverMu is held while a handler of the link's messages runs, by
	// the deliverer or by the reader (delivery.go).
	deliverMu sync.Mutex
	writeMu   sync.Mutex
	// unwritten is the tail of a frame written by writeNow that the
	// socket did not take; the writer writes it before anything else.
	// Under writeMu.
	unwritten []byte
	// raw writes to the socket without waiting (writeNow); nil for a
	// connection that is not a socket of this system, such as TLS's.
	raw       *rawWriter
	closeOnce sync.Once
	done      chan struct{} // closed by close
	// seal, unless nil, seals and opens every frame after the handshake
	// (seal.go).
	seal *linkSeal
}

func newLink(conn net.Conn, peer memberInfo, dialedBy string) *link {
	l := &link{conn: conn, peer: peer, dialedBy: dialedBy, done: make(chan struct{}), readyCh: make(chan struct{}), queue: newSendQueue(), inbox: newAppQueue()}
	l.lastSeen.Store(time.Now().UnixNano())
	l.raw = rawWriterOf(conn)
	return l
}

// markReady records that the link's handshake is over. Caller holds
// linkSet.mu.
func (l *link) markReadyLocked() {
	l.ready = true
	l.readyOnce.Do(func() { close(l.readyCh) })
}

// close closes the connection once; the link's goroutines then end.
func (l *link) close() {
	l.closeOnce.Do(func() {
		l.conn.Close()
		close(l.done)
	})
}

// publicMember describes a wire member for events about links that may
// not exist any more.
func publicMember(m memberInfo) Member {
	return Member{Alias: m.Alias, Host: m.Host, Port: m.Port, NodeID: m.NodeID, Incarnation: m.Incarnation}
}

// send writes one message, bounded by Config.WriteTimeout.
func (n *Node) send(l *link, m message) error {
	frame, err := n.frames.marshal(m)
	if err != nil {
		return err
	}
	return n.writeFrames(l, [][]byte{frame})
}

// writeFrames writes encoded frames in one go, bounded by
// Config.WriteTimeout.
func (n *Node) writeFrames(l *link, frames [][]byte) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	return n.writeFramesLocked(l, frames)
}

// writeFramesLocked is writeFrames for a caller that holds l.writeMu.
func (n *Node) writeFramesLocked(l *link, frames [][]byte) error {
	if err := n.writeUnwrittenLocked(l); err != nil {
		return err
	}
	if len(frames) == 0 {
		return nil
	}
	if l.seal != nil {
		return n.writeSealedLocked(l, frames)
	}
	if l.raw != nil {
		for _, f := range frames {
			if err := n.writeLinkLocked(l, f); err != nil {
				return err
			}
		}
		return nil
	}
	return n.writeBounded(l.conn, func() error {
		bufs := net.Buffers(frames)
		_, err := bufs.WriteTo(l.conn)
		return err
	})
}

// writeLinkLocked writes data on l, bounded by Config.WriteTimeout; the
// caller holds l.writeMu. A socket is first written without waiting
// (tryWrite): what it takes at once, the whole of a probe or a message,
// costs no deadline (a runtime timer set and cleared) and no system call
// the runtime hears of (rawio_unix.go).
func (n *Node) writeLinkLocked(l *link, data []byte) error {
	if l.raw != nil {
		written, err := l.raw.tryWrite(data)
		if err != nil {
			return err
		}
		if data = data[written:]; len(data) == 0 {
			return nil
		}
	}
	return n.writeBounded(l.conn, func() error {
		_, err := l.conn.Write(data)
		return err
	})
}

// writeBounded runs write, a write to conn, bounded by
// Config.WriteTimeout, and clears the deadline after it. A deadline left
// set is a runtime timer that fires WriteTimeout later whether or not
// anything waits: on an idle mesh, where a link is written once in tens
// of seconds, each probe's write would wake the process a second time
// for nothing (docs/performance.md, "Where an idle node's CPU goes").
func (n *Node) writeBounded(conn net.Conn, write func() error) error {
	if err := conn.SetWriteDeadline(time.Now().Add(n.cfg.WriteTimeout)); err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	// The write is done: a connection closed since (the peer read a
	// Leave and hung up, and the reader closed it) fails clearing the
	// deadline, which is no failure of this write; the next one fails.
	conn.SetWriteDeadline(time.Time{})
	return nil
}

// push queues the node's own message m (a probe, an Ack, gossip) on l,
// without waiting: a full queue drops it, as a link that far behind is
// judged by its write timeout.
func (n *Node) push(l *link, m message) {
	if frame, err := n.frames.marshal(m); err == nil {
		l.queue.push(frame)
	}
}

// pushNow is push for a message sent where the node woke anyway (a
// probe from the probe timer or a link's reader): when the link is idle
// it is written from the calling goroutine (writeNow), which spares a
// wake-up of the link's writer; else it is queued.
func (n *Node) pushNow(l *link, m message) {
	frame, err := n.frames.marshal(m)
	if err != nil {
		return
	}
	if !n.writeNow(l, frame) {
		l.queue.push(frame)
	}
}

// answer sends the node's answer (an Ack) on l from the calling
// goroutine, a link's reader, when
// nothing waits in the link's queue and no write is under way; else it
// queues it. Written at once, in one write, the answer costs no wake-up
// of the link's writer: on an idle mesh, waking up is most of what a
// probe costs. The write is bounded by WriteTimeout like the writer's;
// meanwhile the reader waits, but a member whose socket takes no ten
// bytes is not reading this node anyway.
func (n *Node) answer(l *link, msgs ...message) {
	if !l.queue.empty() || !l.writeMu.TryLock() {
		for _, m := range msgs {
			n.push(l, m)
		}
		return
	}
	frames := make([][]byte, 0, len(msgs))
	var err error
	for _, m := range msgs {
		var frame []byte
		if frame, err = n.frames.marshal(m); err != nil {
			break
		}
		frames = append(frames, frame)
	}
	if err == nil {
		err = n.writeFramesLocked(l, frames)
	}
	l.writeMu.Unlock()
	if err != nil {
		kind, reason := writeFailure(err, n.cfg.WriteTimeout)
		n.dropLink(l, kind, reason)
	}
}

// startLink runs the reader, the writer and the deliverer of an admitted
// link.
func (n *Node) startLink(l *link) {
	for _, loop := range []func(*link){n.readLoop, n.writeLoop, n.deliverLoop} {
		if !n.spawn(func() { loop(l) }) {
			l.close()
			return
		}
	}
}

// writeLoop writes the frames queued on l, once the link is ready (its
// handshake's last frame is sent), until the link ends.
func (n *Node) writeLoop(l *link) {
	select {
	case <-l.readyCh:
	case <-l.done:
		return
	}
	for {
		select {
		case <-l.done:
			return
		case <-l.queue.wake:
		}
		// Taken under writeMu, so that writeNow, which writes only when
		// the queue is empty, cannot overtake frames taken and not yet
		// written.
		l.writeMu.Lock()
		err := n.writeFramesLocked(l, l.queue.take())
		l.writeMu.Unlock()
		if err != nil {
			kind, reason := writeFailure(err, n.cfg.WriteTimeout)
			n.dropLink(l, kind, reason)
			return
		}
	}
}

// readLoop reads frames until the link ends, noting when each arrives.
// It has no deadline of its own: probes judge silence (probe.go), and a
// failed member's link is closed, which ends the read.
func (n *Node) readLoop(l *link) {
	// One read takes every frame that waits.
	r := bufio.NewReaderSize(readerOf(l.conn), 4096)
	for {
		t, body, err := n.readLinkFrame(l, r)
		if err != nil {
			n.dropLink(l, EventLinkClosed, readErrorReason(err))
			return
		}
		now := time.Now()
		l.lastSeen.Store(now.UnixNano())
		m, err := decodeBody(t, body)
		if err != nil {
			n.dropLink(l, EventLinkClosed, readErrorReason(err))
			return
		}
		if !n.handleLinkFrame(l, m, now) {
			return
		}
	}
}

// handleLinkFrame acts on m, a frame read from l at now, and reports
// whether the link goes on. A frame that woke the node may also take
// this node's probe slot, if it needs no Ping (skipHeardSlot), after the
// frame is handled, so that a Ping is answered first and a Leave or a
// Refuse ends the link first.
func (n *Node) handleLinkFrame(l *link, m message, now time.Time) bool {
	if p, ok := m.(*ping); ok {
		n.answer(l, &ack{Seq: p.Seq})
		n.skipHeardSlot(now)
		return true
	}
	switch m := m.(type) {
	case *ack:
		n.heardAck(m.Seq)
	case *pingReq:
		n.relayProbe(l, m)
	case *suspectMsg:
		n.heardSuspect(l, m)
	case *aliveMsg:
		n.heardAlive(l, m)
	case *memberUp:
		n.considerMember(m.Member)
	case *appMessage:
		if n.deliverOnReader(l, m) {
			break
		}
		if err := n.queueForHandler(l, m); err != nil {
			return false // the link ended while the reader waited
		}
	case *leave:
		n.dropLink(l, EventLeft, nil)
		return false
	case *refuse:
		n.dropLink(l, EventLinkClosed, fmt.Errorf("peer closed the link: %s", m.Reason))
		return false
	default:
		n.dropLink(l, EventLinkClosed, fmt.Errorf("%w: unexpected %s on an established link", errProtocol, m.kind()))
		return false
	}
	n.skipHeardSlot(now)
	return true
}

// readErrorReason says why a link's read failed. Reads on a link have no
// deadline (probes judge silence), so the connection closed or broke.
func readErrorReason(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("peer closed the connection")
	}
	return err
}

// writeFailure names the event and the reason for a failed write: a
// peer that does not read within the write timeout failed; any other
// error closed the link.
func writeFailure(err error, timeout time.Duration) (EventKind, error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return EventFailed, fmt.Errorf("peer did not read for %v", timeout)
	}
	return EventLinkClosed, err
}

// dropLink closes l and, if it is the member's current link, removes the
// member and announces why. A link replaced by another (duplicate or
// restarted peer) goes silently.
//
// It decides under the lock and closes the connection after, so that the
// read loop the close wakes finds the link gone and says nothing: the
// first to drop a link names the reason (a silent member is "failed", not
// "link closed" by its own closed connection).
func (n *Node) dropLink(l *link, kind EventKind, err error) {
	defer l.close()
	ls := n.links
	ls.mu.Lock()
	delete(ls.standby, l)
	current := ls.byAlias[l.peer.Alias] == l
	if current {
		ls.deleteLocked(l.peer.Alias)
	}
	announce := current && ls.state == stateRunning
	redial := announce && kind != EventLeft && n.cfg.ReconnectFor >= 0
	if announce {
		to := StateFailed
		if kind == EventLeft {
			to = StateLeft
		}
		n.members.transition(l.peer.Alias, to, l.peer, kind, err, redial, time.Unix(0, l.lastSeen.Load()))
	}
	ls.mu.Unlock()
	if redial {
		n.startReconnect(l.peer)
	}
}
