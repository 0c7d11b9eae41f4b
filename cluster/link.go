package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// link is an established, authenticated connection to one member.
type link struct {
	conn     net.Conn
	peer     memberInfo // the member as it published itself
	dialedBy string     // alias of the node that opened the connection
	redial   bool       // made by the reconnect loop

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
	lastSent atomic.Int64 // unix ns of the last frame written
	queue    *sendQueue   // frames for writeLoop
	inbox    *appQueue    // application messages for deliverLoop
	// readerWaits is set while the reader waits for room in inbox.
	readerWaits atomic.Bool
	// raw is the socket of a plain TCP link, for quiet reads and direct
	// Pings; nil with TLS, on a sealed link (seal.go) or with a test's transport.
	raw syscall.RawConn
	// peek copies the start of the bytes unread in a quiet link's socket
	// without taking them (nil when its reader is woken by every frame);
	// pingsBefore is how many whole Pings it showed at the last look.
	// Both are the liveness loop's.
	peek        func([]byte) (int, bool)
	pingsBefore int
	// reads counts the reader's reads that took bytes; readsBefore is
	// its value at the last look (the liveness loop's).
	reads       atomic.Uint64
	readsBefore uint64
	// midFrame is set while the reader holds part of a frame: the bytes
	// in the socket are then the rest of it, not Pings.
	midFrame atomic.Bool
	writeMu  sync.Mutex
	// pingRest is what a direct Ping left unwritten when the socket took
	// only part of it; under writeMu, written before anything else.
	pingRest  []byte
	closeOnce sync.Once
	done      chan struct{} // closed by close
	// seal, unless nil, seals and opens every frame after the handshake
	// (seal.go).
	seal *linkSeal
}

func newLink(conn net.Conn, peer memberInfo, dialedBy string) *link {
	l := &link{conn: conn, peer: peer, dialedBy: dialedBy, done: make(chan struct{}), readyCh: make(chan struct{}), queue: newSendQueue(), inbox: newAppQueue()}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			l.raw = raw
			// Quiet once the peer's handshake frames are read, as those
			// are not padded to wakeBytes.
			l.peek = quietReads(raw)
		}
	}
	l.lastSeen.Store(time.Now().UnixNano())
	l.lastSent.Store(time.Now().UnixNano())
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
// Config.WriteTimeout, ended with the wake trailer unless all are Pings
// (see quiet.go).
func (n *Node) writeFrames(l *link, frames [][]byte) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	return n.writeFramesLocked(l, frames)
}

// writeFramesLocked is writeFrames for a caller that holds l.writeMu. The
// rest of a direct Ping that the socket took only in part goes first, so
// that no frame cuts it.
func (n *Node) writeFramesLocked(l *link, frames [][]byte) error {
	if l.seal != nil {
		return n.writeSealedLocked(l, frames)
	}
	if l.pingRest != nil {
		frames = append([][]byte{l.pingRest}, frames...)
		l.pingRest = nil
	}
	if len(frames) == 0 {
		return nil
	}
	for _, f := range frames {
		if !bytes.Equal(f, n.pingFrame) {
			frames = append(frames, n.wakeTrailer)
			break
		}
	}
	if err := l.conn.SetWriteDeadline(time.Now().Add(n.cfg.WriteTimeout)); err != nil {
		return err
	}
	bufs := net.Buffers(frames)
	_, err := bufs.WriteTo(l.conn)
	if err == nil {
		l.lastSent.Store(time.Now().UnixNano())
	}
	return err
}

// sendPing sends the pre-encoded Ping on l: written at once by the
// caller when the link is idle (see writePingNow), else queued for the
// link's writer.
func (n *Node) sendPing(l *link) {
	if !l.writePingNow(n.pingFrame) {
		l.queue.push(n.pingFrame)
	}
}

// writePingNow writes ping on l from the calling goroutine, without waking
// the link's writer, when the link is ready, plain TCP, its write lock
// free and its send queue empty; it reports whether it took the ping. The
// write never waits: a socket with no room (a peer that does not read)
// leaves the ping to the writer and its write timeout, and the part of a
// ping that did not fit is kept in pingRest, which the next write on the
// link sends first, so frames stay whole and in order.
func (l *link) writePingNow(ping []byte) bool {
	if l.raw == nil || !l.writeMu.TryLock() {
		return false
	}
	defer l.writeMu.Unlock()
	select {
	case <-l.readyCh:
	default:
		return false
	}
	q := l.queue
	if !q.empty() || l.pingRest != nil {
		return false
	}
	written := 0
	l.raw.Write(func(fd uintptr) bool {
		for written < len(ping) {
			n, err := syscall.Write(int(fd), ping[written:])
			if n <= 0 || err != nil {
				break
			}
			written += n
		}
		return true // never wait for room: the writer does that
	})
	switch {
	case written == len(ping):
		l.lastSent.Store(time.Now().UnixNano())
		return true
	case written == 0:
		return false // nothing sent: the writer sends it, or reports the error
	}
	// A part is sent: the rest goes before any other frame (see
	// writeFramesLocked); the writer is woken to send it.
	l.pingRest = ping[written:]
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
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
		// The frames are taken under the write lock, so that a direct
		// Ping is written either before them, whole or with its rest
		// first, or after them.
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
// It has no deadline of its own: the liveness loop judges silence, and
// closes the connection, which ends the read. A Ping, the usual frame of
// an idle link, is not decoded: its arrival is all that counts.
func (n *Node) readLoop(l *link) {
	// One read takes every frame that waits, such as the Pings of a quiet
	// link.
	r := frameStartReader{r: bufio.NewReaderSize(l.conn, 4096), l: l}
	for {
		t, body, err := n.readLinkFrame(l, r)
		if err != nil {
			n.dropLink(l, EventLinkClosed, readErrorReason(err))
			return
		}
		l.midFrame.Store(false)
		l.lastSeen.Store(time.Now().UnixNano())
		if t == msgPing && bytes.Equal(body, n.pingFrame[frameHeaderSize:]) {
			continue
		}
		m, err := decodeBody(t, body)
		if err != nil {
			n.dropLink(l, EventLinkClosed, readErrorReason(err))
			return
		}
		switch m := m.(type) {
		case *ping:
		case *memberUp:
			n.considerMember(m.Member)
		case *appMessage:
			if err := n.queueForHandler(l, m); err != nil {
				return // the link ended while the reader waited
			}
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

// frameStartReader notes on its link that the reader holds part of a
// frame as soon as a read of the frame returns bytes (the read loop
// clears the mark once the frame is whole), and counts those reads.
type frameStartReader struct {
	r *bufio.Reader
	l *link
}

func (f frameStartReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 {
		f.l.midFrame.Store(true)
		f.l.reads.Add(1)
	}
	return n, err
}

// readErrorReason says why a link's read failed. Reads on a link have no
// deadline (the liveness loop judges silence), so the connection closed or
// broke.
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

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
		delete(ls.byAlias, l.peer.Alias)
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
