package cluster

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// admission is what admit decided about a new authenticated link.
type admission int

const (
	admitted     admission = iota // new member
	replaced                      // restarted member: the old link was replaced
	superseded                    // same peer, and this link wins the tie-break
	keepExisting                  // same peer, and the existing link wins
)

// serveInbound runs the acceptor's side of the handshake on conn and, if
// the peer is admitted, starts its link.
func (n *Node) serveInbound(conn net.Conn) {
	if !n.trackConn(conn) {
		conn.Close()
		return
	}
	l, peer, err := n.acceptHandshake(conn)
	n.untrackConn(conn)
	if err != nil {
		conn.Close()
		if !errors.Is(err, errAlreadyConnected) && !errors.Is(err, errSilentClose) {
			who := publicMember(peer)
			if who.Alias == "" {
				who.Host, who.Port = splitAddr(conn.RemoteAddr())
			}
			n.emit(EventRefused, who, err)
		}
		return
	}
	n.startLink(l)
}

// errSilentClose: the peer closed before sending a byte (port scanners,
// health checks, floods); not worth an event.
var errSilentClose = errors.New("closed before the handshake")

// acceptHandshake answers Hello or Join: Challenge, ChallengeReply check,
// admission, then HelloAck or JoinAck. It returns the admitted link.
func (n *Node) acceptHandshake(conn net.Conn) (*link, memberInfo, error) {
	remote := conn.RemoteAddr().String()
	if err := conn.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout)); err != nil {
		return nil, memberInfo{}, err
	}
	first, err := n.frames.read(conn)
	if errors.Is(err, io.EOF) {
		return nil, memberInfo{}, errSilentClose
	}
	if err != nil {
		return nil, memberInfo{}, n.handshakeReadError(err, remote, "Hello or Join")
	}
	op, wantList := openerOf(first)
	if op == nil {
		n.sendRefusal(conn, refusef(codeProtocol, "expected Hello or Join, got %s", first.kind()))
		return nil, memberInfo{}, fmt.Errorf("%w: %s opened with %s instead of Hello or Join", ErrNotANode, remote, first.kind())
	}
	peer := op.Sender
	if op.Version != n.version {
		r := refusef(codeVersion, "protocol version %d is not supported; node %q speaks version %d", op.Version, n.cfg.Alias, n.version)
		n.sendRefusal(conn, r)
		return nil, peer, fmt.Errorf("%w: peer speaks protocol version %d, this node speaks %d", ErrVersionMismatch, op.Version, n.version)
	}
	self := n.selfInfo(conn)
	if err := n.proveAndVerify(conn, op, self); err != nil {
		return nil, peer, err
	}
	if r := checkReachable(conn, peer); r != nil {
		n.sendRefusal(conn, r)
		return nil, peer, r
	}
	l := newLink(conn, peer, peer.Alias)
	verdict, members, err := n.admit(l, admitRequest{wantList: wantList, digest: op.Digest})
	if err != nil {
		n.sendRefusal(conn, err)
		return nil, peer, err
	}
	if verdict == keepExisting {
		n.sendRefusal(conn, refusef(codeConnected, "node %q already has a link to %q", self.Alias, peer.Alias))
		return nil, peer, errAlreadyConnected
	}
	var ack message = &joinAck{Self: self, Members: members}
	if wantList {
		ack = &helloAck{Self: self, Members: members}
	}
	if err := n.send(l, ack); err != nil {
		n.dropLink(l, EventLinkClosed, fmt.Errorf("send %s: %w", ack.kind(), err))
		return nil, peer, errAlreadyConnected // already announced by dropLink
	}
	n.mu.Lock()
	l.markReadyLocked()
	retired := l.retired
	n.mu.Unlock()
	if retired {
		l.close()
		return nil, peer, errAlreadyConnected
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		n.dropLink(l, EventLinkClosed, err)
		return nil, peer, errAlreadyConnected
	}
	return l, peer, nil
}

// openerOf returns the opener in m and whether it asks for the member list.
func openerOf(m message) (*hello, bool) {
	switch m := m.(type) {
	case *hello:
		return m, true
	case *join:
		return (*hello)(m), false
	}
	return nil, false
}

// proveAndVerify is the acceptor's cookie check: send a Challenge with a
// fresh nonce and our proof, then verify the dialer's proof.
func (n *Node) proveAndVerify(conn net.Conn, op *hello, self memberInfo) error {
	remote := conn.RemoteAddr().String()
	nonce, err := newNonce()
	if err != nil {
		return err
	}
	proof := handshakeProof(n.cfg.Cookie, proofLabelAcceptor, op.Nonce, nonce, op.Sender.Alias, self.Alias)
	if err := n.writeMessage(conn, &challenge{Responder: self, Nonce: nonce, Proof: proof}); err != nil {
		return fmt.Errorf("send Challenge to %s: %w", remote, err)
	}
	m, err := n.frames.read(conn)
	if err != nil {
		return n.handshakeReadError(err, remote, "ChallengeReply")
	}
	switch m := m.(type) {
	case *refuse:
		return &peerRefusedError{peer: strconv.Quote(op.Sender.Alias), code: m.Code, reason: m.Reason}
	case *challengeReply:
		want := handshakeProof(n.cfg.Cookie, proofLabelDialer, op.Nonce, nonce, op.Sender.Alias, self.Alias)
		if !hmac.Equal(m.Proof, want) {
			n.sendRefusal(conn, refusef(codeCookie, "node %q has a different cluster cookie from ours", op.Sender.Alias))
			return fmt.Errorf("%w: peer %q at %s has a different cluster cookie", ErrBadCookie, op.Sender.Alias, remote)
		}
		return nil
	}
	n.sendRefusal(conn, refusef(codeProtocol, "expected ChallengeReply, got %s", m.kind()))
	return fmt.Errorf("%w: %s sent %s instead of ChallengeReply", ErrNotANode, remote, m.kind())
}

// dialSpec says what a dialer asks for.
type dialSpec struct {
	wantList bool   // send Hello (and get the member list), not Join
	redial   bool   // the reconnect loop dials
	digest   []byte // Join: digest of the members we expect the peer to know
}

// dialHandshake connects to addr and runs the dialer's side of the
// handshake: Hello or Join, Challenge check, ChallengeReply, then HelloAck
// or JoinAck. It returns the admitted link and the members the peer
// listed: all of them for Hello, for Join only when its digest differed.
func (n *Node) dialHandshake(ctx context.Context, addr string, spec dialSpec) (*link, []memberInfo, error) {
	dialCtx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout)
	conn, err := n.transport.Dial(dialCtx, addr)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	if !n.trackConn(conn) {
		conn.Close()
		return nil, nil, ErrClosed
	}
	defer n.untrackConn(conn)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	l, members, err := n.dialerSteps(conn, addr, spec)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return nil, nil, err
	}
	return l, members, nil
}

// dialerSteps runs the dialer's messages on an open connection.
func (n *Node) dialerSteps(conn net.Conn, addr string, spec dialSpec) (*link, []memberInfo, error) {
	if err := conn.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout)); err != nil {
		return nil, nil, err
	}
	self := n.selfInfo(conn)
	nonce, err := newNonce()
	if err != nil {
		return nil, nil, err
	}
	op := &hello{Version: n.version, Sender: self, Nonce: nonce}
	var opener message = op
	if !spec.wantList {
		op.Digest = spec.digest
		opener = (*join)(op)
	}
	if err := n.writeMessage(conn, opener); err != nil {
		return nil, nil, fmt.Errorf("send %s to %s: %w", opener.kind(), addr, err)
	}
	peer, err := n.answerChallenge(conn, addr, op)
	if err != nil {
		return nil, nil, err
	}
	members, err := n.readAck(conn, addr, peer, spec.wantList)
	if err != nil {
		return nil, nil, err
	}
	l := newLink(conn, peer, self.Alias)
	l.redial = spec.redial
	_, _, err = n.admit(l, admitRequest{asDialer: true})
	if err != nil {
		n.sendRefusal(conn, err)
		return nil, nil, err
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		n.dropLink(l, EventLinkClosed, err)
		return nil, nil, err
	}
	n.startLink(l) // on standby, or closed already, when keepExisting
	return l, members, nil
}

// answerChallenge reads the acceptor's Challenge, checks its proof and
// sends ours. It returns the acceptor as it describes itself.
func (n *Node) answerChallenge(conn net.Conn, addr string, op *hello) (memberInfo, error) {
	m, err := n.frames.read(conn)
	if err != nil {
		return memberInfo{}, n.handshakeReadError(err, addr, "Challenge")
	}
	var ch *challenge
	switch m := m.(type) {
	case *refuse:
		return memberInfo{}, &peerRefusedError{peer: "at " + addr, code: m.Code, reason: m.Reason}
	case *challenge:
		ch = m
	default:
		return memberInfo{}, fmt.Errorf("%w: %s answered %s instead of Challenge", ErrNotANode, addr, m.kind())
	}
	peer := ch.Responder
	want := handshakeProof(n.cfg.Cookie, proofLabelAcceptor, op.Nonce, ch.Nonce, op.Sender.Alias, peer.Alias)
	if !hmac.Equal(ch.Proof, want) {
		n.sendRefusal(conn, refusef(codeCookie, "node %q has a different cluster cookie from ours", peer.Alias))
		return peer, fmt.Errorf("%w: peer %q at %s has a different cluster cookie", ErrBadCookie, peer.Alias, addr)
	}
	if peer.NodeID == n.cfg.NodeID {
		n.sendRefusal(conn, refusef(codeSelf, "a node cannot join itself: the peer has this node's ID %s (processes that share a data directory and alias share their node ID)", peer.NodeID))
		return peer, fmt.Errorf("%w: %s is this node", ErrJoinSelf, addr)
	}
	proof := handshakeProof(n.cfg.Cookie, proofLabelDialer, op.Nonce, ch.Nonce, op.Sender.Alias, peer.Alias)
	if err := n.writeMessage(conn, &challengeReply{Proof: proof}); err != nil {
		return peer, fmt.Errorf("send ChallengeReply to %s: %w", addr, err)
	}
	return peer, nil
}

// readAck reads the acceptor's final answer: HelloAck, JoinAck or Refuse,
// and returns the members it lists.
func (n *Node) readAck(conn net.Conn, addr string, peer memberInfo, wantList bool) ([]memberInfo, error) {
	m, err := n.frames.read(conn)
	if err != nil {
		return nil, n.handshakeReadError(err, addr, "HelloAck or JoinAck")
	}
	switch m := m.(type) {
	case *refuse:
		return nil, &peerRefusedError{peer: strconv.Quote(peer.Alias), code: m.Code, reason: m.Reason}
	case *helloAck:
		if wantList && m.Self.Alias == peer.Alias {
			return n.checkListSize(peer, m.Members)
		}
	case *joinAck:
		if !wantList && m.Self.Alias == peer.Alias {
			return n.checkListSize(peer, m.Members)
		}
	}
	return nil, fmt.Errorf("%w: %s answered %s out of turn", ErrNotANode, addr, m.kind())
}

func (n *Node) checkListSize(peer memberInfo, members []memberInfo) ([]memberInfo, error) {
	if len(members) >= n.cfg.MaxMembers {
		return nil, fmt.Errorf("%w: %q lists %d members, our limit is %d", ErrClusterFull, peer.Alias, len(members), n.cfg.MaxMembers)
	}
	return members, nil
}

// admitRequest describes the handshake a link comes from.
type admitRequest struct {
	wantList bool   // acceptor of a Hello: list every other member
	asDialer bool   // this node dialed the link
	digest   []byte // acceptor of a Join: the joiner's digest, if any
}

// admit decides, under the lock, whether an authenticated peer becomes
// (or replaces) a member. For wantList, and for a Join whose digest
// differs from our members, it also returns every other member; in the
// latter case it tells our members about the joiner too. A refusal is
// returned as *refusal.
//
// Exactly one link per pair survives simultaneous dialing: both ends keep
// the link dialed by the node with the smaller alias. Only that node closes
// the losing link, and only once it holds the winner: the winner's acceptor
// admits it before answering, so when its dialer admits it both ends have
// it. Until then the other node keeps a losing link on standby, where it
// reads and sends heartbeats but is not a member's link.
func (n *Node) admit(l *link, req admitRequest) (admission, []memberInfo, error) {
	p := l.peer
	n.mu.Lock()
	verdict, old, err := n.decideLocked(l)
	var members []memberInfo
	var toClose *link
	mismatch := false
	switch {
	case err != nil:
	case verdict == keepExisting && req.asDialer:
		if n.cfg.Alias < p.Alias {
			toClose = l
		} else {
			n.standby[l] = struct{}{}
		}
	case verdict == keepExisting:
		// the acceptor refuses the handshake
	default:
		n.links[p.Alias] = l
		n.announceAdmissionLocked(l, verdict)
		mismatch = len(req.digest) > 0 && !bytes.Equal(req.digest, n.digestLocked())
		if req.wantList || mismatch {
			members = n.memberInfosLocked(p.Alias)
		}
		switch {
		case verdict == superseded && n.cfg.Alias > p.Alias:
			n.standby[old] = struct{}{}
		case old != nil && !old.ready:
			old.retired = true
		default:
			toClose = old
		}
	}
	if req.asDialer {
		l.markReadyLocked()
	}
	n.mu.Unlock()
	if toClose != nil {
		toClose.close() // its reader sees it is not current: no event
	}
	if mismatch {
		n.announceMember(p)
	}
	return verdict, members, err
}

func (n *Node) decideLocked(l *link) (admission, *link, error) {
	p := l.peer
	if n.state != stateRunning {
		return 0, nil, refusef(codeClosing, "node %q is shutting down", n.cfg.Alias)
	}
	if p.NodeID == n.cfg.NodeID {
		return 0, nil, refusef(codeSelf, "a node cannot join itself: the peer has this node's ID %s (processes that share a data directory and alias share their node ID)", p.NodeID)
	}
	if p.Alias == n.cfg.Alias {
		return 0, nil, refusef(codeAlias, "alias %q is already a member", p.Alias)
	}
	old := n.links[p.Alias]
	switch {
	case old == nil:
		if len(n.links)+1 >= n.cfg.MaxMembers {
			return 0, nil, refusef(codeFull, "cluster is full: node %q allows %d members", n.cfg.Alias, n.cfg.MaxMembers)
		}
		return admitted, nil, nil
	case old.peer.NodeID != p.NodeID:
		return 0, nil, refusef(codeAlias, "alias %q is already a member", p.Alias)
	case p.Incarnation > old.peer.Incarnation:
		return replaced, old, nil
	case p.Incarnation < old.peer.Incarnation:
		return 0, nil, refusef(codeAlias, "alias %q is held by a newer start of that node", p.Alias)
	}
	winner := min(n.cfg.Alias, p.Alias)
	if l.dialedBy == winner && old.dialedBy != winner {
		return superseded, old, nil
	}
	return keepExisting, nil, nil
}

func (n *Node) announceAdmissionLocked(l *link, verdict admission) {
	switch {
	case verdict == replaced:
		n.emit(EventRejoined, publicMember(l.peer), nil)
	case verdict == admitted && (l.redial || n.reconnecting[l.peer.Alias]):
		n.emit(EventReconnected, publicMember(l.peer), nil)
	case verdict == admitted:
		n.emit(EventJoined, publicMember(l.peer), nil)
	}
}

// digestLocked is the digest of this node and its members.
func (n *Node) digestLocked() []byte {
	all := make([]memberInfo, 0, len(n.links)+1)
	all = append(all, n.self)
	for _, l := range n.links {
		all = append(all, l.peer)
	}
	return membersDigest(all)
}

// memberInfosLocked lists this node's members except alias.
func (n *Node) memberInfosLocked(except string) []memberInfo {
	members := make([]memberInfo, 0, len(n.links))
	for alias, l := range n.links {
		if alias != except {
			members = append(members, l.peer)
		}
	}
	return members
}

// selfInfo describes this node to the peer on conn. With a wildcard bind
// and no advertise host, the host is the local address of conn: the peer
// has just reached us there.
func (n *Node) selfInfo(conn net.Conn) memberInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	self := n.self
	if self.Host == "" {
		self.Host, _ = splitAddr(conn.LocalAddr())
		if n.learnedHost == "" {
			n.learnedHost = self.Host
		}
	}
	return self
}

// checkReachable refuses a peer that publishes an address we could not
// dial back: a wildcard, or loopback while it connects from elsewhere.
func checkReachable(conn net.Conn, peer memberInfo) *refusal {
	claimed := net.ParseIP(peer.Host)
	if claimed == nil {
		return nil // a host name; we cannot judge it
	}
	if claimed.IsUnspecified() {
		return refusef(codeAddress, "node %q publishes the wildcard address %s; set an advertise host", peer.Alias, peer.Host)
	}
	host, _ := splitAddr(conn.RemoteAddr())
	remote := net.ParseIP(host)
	if claimed.IsLoopback() && remote != nil && !remote.IsLoopback() {
		return refusef(codeAddress, "node %q publishes loopback address %s but connects from %s; bind a reachable address or set an advertise host",
			peer.Alias, peer.Host, host)
	}
	return nil
}

// writeMessage writes one message on a connection in its handshake; the
// connection's deadline bounds it.
func (n *Node) writeMessage(conn net.Conn, m message) error {
	frame, err := n.frames.marshal(m)
	if err != nil {
		return err
	}
	_, err = conn.Write(frame)
	return err
}

// sendRefusal tells the peer why it is refused; failures are ignored as
// the connection is closed next anyway.
func (n *Node) sendRefusal(conn net.Conn, err error) {
	r, ok := err.(*refusal)
	if !ok {
		r = refusef(codeProtocol, "%v", err)
	}
	_ = n.writeMessage(conn, &refuse{Code: r.code, Reason: truncate(r.reason, maxReasonLength)})
}

func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return s[:limit]
}

// handshakeReadError explains a failed read while waiting for want.
func (n *Node) handshakeReadError(err error, addr, want string) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %s sent no %s within %v", ErrHandshakeTimeout, addr, want, n.cfg.HandshakeTimeout)
	case errors.Is(err, errProtocol):
		return fmt.Errorf("%w: %s: %v", ErrNotANode, addr, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s closed the connection while we waited for %s: %w", addr, want, err)
	}
	return fmt.Errorf("waiting for %s from %s: %w", want, addr, err)
}

// splitAddr returns the host and port of a network address.
func splitAddr(a net.Addr) (string, int) {
	if a == nil {
		return "", 0
	}
	host, portText, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), 0
	}
	port, _ := strconv.Atoi(portText)
	return host, port
}
