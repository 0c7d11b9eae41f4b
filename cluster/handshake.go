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

	"github.com/iridium-vm/iridium/internal/pending"
	"github.com/iridium-vm/iridium/internal/termtext"
)

// admission is what admit decided about a new authenticated link.
type admission int

const (
	admitted     admission = iota // new member
	replaced                      // restarted member: the old link was replaced
	superseded                    // same peer, and this link wins the tie-break
	keepExisting                  // same peer, and the existing link wins
	probeFirst                    // a newer run: the old run's link is probed first
)

// serveInbound runs the acceptor's side of the handshake on a pending
// connection and, if the peer is admitted, starts its link. Refusals are
// counted and summarised (see noteRefusal), not reported one by one.
func (n *Node) serveInbound(p *pending.Conn) {
	conn := p.Conn
	if !n.links.track(conn) {
		n.handshakes.Done(p)
		conn.Close()
		return
	}
	l, peer, authed, err := n.acceptHandshake(conn, p.Progress)
	n.links.untrack(conn)
	if evicted := n.handshakes.Done(p); evicted != nil && err != nil {
		err = fmt.Errorf("%w (%w)", evicted, err)
	}
	if err != nil {
		conn.Close()
		if !errors.Is(err, errAlreadyConnected) && !errors.Is(err, errSilentClose) {
			who := publicMember(peer)
			if !authed { // what a stranger claims is not its address
				// Its host only: the port it connects from is an
				// ephemeral one, which names nothing to an operator.
				who = Member{}
				who.Host, _ = splitAddr(conn.RemoteAddr())
			}
			n.noteRefusal(who, err)
		}
		return
	}
	n.startLink(l)
}

// errSilentClose: the peer closed before sending a byte (port scanners,
// health checks, floods); not worth an event.
var errSilentClose = errors.New("closed before the handshake")

// acceptHandshake answers Hello or Join: Challenge, then the check of the
// dialer's proof, and only then admission and HelloAck or JoinAck, which
// carries this node's proof. Nothing computed from the cookie reaches a
// peer that has not proven it knows the cookie. Until then frames are
// limited to PreAuthMaxFrameSize, and the first must come within
// FirstFrameTimeout; progress is called once it has come and is an
// opener of our version. authed reports whether the peer proved the cookie.
func (n *Node) acceptHandshake(conn net.Conn, progress func()) (l *link, peer memberInfo, authed bool, err error) {
	remote := conn.RemoteAddr().String()
	start := time.Now()
	firstWait := min(n.cfg.FirstFrameTimeout, n.cfg.HandshakeTimeout)
	if err := conn.SetDeadline(start.Add(firstWait)); err != nil {
		return nil, peer, false, err
	}
	first, err := n.preAuth.read(conn)
	switch {
	case errors.Is(err, io.EOF):
		return nil, peer, false, errSilentClose
	case errors.Is(err, ErrTLSMismatch):
		n.sendRefusal(conn, refusef(codeTLS, "node %q does not speak TLS", n.cfg.Alias))
		return nil, peer, false, fmt.Errorf("%s: %w", remote, err)
	case err != nil:
		if ferr := n.acceptedForeign(conn, err); ferr != nil {
			return nil, peer, false, ferr
		}
		return nil, peer, false, n.handshakeReadError(err, remote, "Hello or Join", firstWait)
	}
	op, wantList := openerOf(first)
	if op == nil {
		n.sendRefusal(conn, refusef(codeProtocol, "expected Hello or Join, got %s", first.kind()))
		return nil, peer, false, fmt.Errorf("%w: %s opened with %s instead of Hello or Join", ErrNotANode, remote, first.kind())
	}
	if op.Version != n.version {
		r := refusef(codeVersion, "protocol version %d is not supported; node %q speaks version %d", op.Version, n.cfg.Alias, n.version)
		n.sendRefusal(conn, r)
		return nil, peer, false, fmt.Errorf("%w: peer speaks protocol version %d, this node speaks %d", ErrVersionMismatch, op.Version, n.version)
	}
	progress()
	if err := conn.SetDeadline(start.Add(n.cfg.HandshakeTimeout)); err != nil {
		return nil, peer, false, err
	}
	self := n.selfInfo(conn)
	acceptorNonce, err := n.challengeDialer(conn, op, self)
	if err != nil {
		return nil, peer, false, err
	}
	peer = op.Sender
	if r := checkReachable(conn, peer); r != nil {
		n.sendRefusal(conn, r)
		return nil, peer, true, r
	}
	seal, err := n.linkSealFor(sealEnds{op.Nonce, acceptorNonce, peer, self}, false)
	if err != nil {
		return nil, peer, true, err
	}
	l = newSealedLink(conn, peer, peer.Alias, seal)
	verdict, members, err := n.admit(l, admitRequest{wantList: wantList, digest: op.Digest})
	if err != nil {
		n.sendRefusal(conn, err)
		return nil, peer, true, err
	}
	if verdict == keepExisting {
		n.sendRefusal(conn, refusef(codeConnected, "node %q already has a link to %q", self.Alias, peer.Alias))
		return nil, peer, true, errAlreadyConnected
	}
	proof := handshakeProof(n.cfg.CookieKey, proofLabelAcceptor, op.Nonce, acceptorNonce, peer.Alias, self.Alias)
	var ack message = &joinAck{Self: self, Members: members, Proof: proof}
	if wantList {
		ack = &helloAck{Self: self, Members: members, Proof: proof}
	}
	if err := n.sendInClear(l, ack); err != nil {
		n.dropLink(l, EventLinkClosed, fmt.Errorf("send %s: %w", ack.kind(), err))
		return nil, peer, true, errAlreadyConnected // already announced by dropLink
	}
	n.links.mu.Lock()
	l.markReadyLocked()
	retired := l.retired
	n.links.mu.Unlock()
	if retired {
		l.close()
		return nil, peer, true, errAlreadyConnected
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		n.dropLink(l, EventLinkClosed, err)
		return nil, peer, true, errAlreadyConnected
	}
	return l, peer, true, nil
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

// challengeDialer is the acceptor's cookie check: send a Challenge with a
// fresh nonce and no proof, then verify the dialer's proof. It returns the
// nonce, which the acceptor's own proof (in its ack) covers.
func (n *Node) challengeDialer(conn net.Conn, op *hello, self memberInfo) ([]byte, error) {
	remote := conn.RemoteAddr().String()
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	if err := n.writeMessage(conn, &challenge{Responder: self, Nonce: nonce}); err != nil {
		return nil, fmt.Errorf("send Challenge to %s: %w", remote, err)
	}
	m, err := n.preAuth.read(conn)
	if err != nil {
		return nil, n.handshakeReadError(err, remote, "ChallengeReply", n.cfg.HandshakeTimeout)
	}
	switch m := m.(type) {
	case *refuse:
		return nil, &peerRefusedError{peer: "at " + remote, code: m.Code, reason: m.Reason}
	case *challengeReply:
		want := handshakeProof(n.cfg.CookieKey, proofLabelDialer, op.Nonce, nonce, op.Sender.Alias, self.Alias)
		if !hmac.Equal(m.Proof, want) {
			n.sendRefusal(conn, refusef(codeCookie, "the cluster cookies differ"))
			return nil, fmt.Errorf("%w: a node with another cookie, which says it is \"%s\" with its cluster port at %s",
				ErrBadCookie, termtext.Cut(op.Sender.Alias, maxClaimShown), termtext.Cut(op.Sender.addr(), maxClaimShown))
		}
		return nonce, nil
	}
	n.sendRefusal(conn, refusef(codeProtocol, "expected ChallengeReply, got %s", m.kind()))
	return nil, fmt.Errorf("%w: %s sent %s instead of ChallengeReply", ErrNotANode, remote, m.kind())
}

// dialSpec says what a dialer asks for.
type dialSpec struct {
	expect   string // the alias the acceptor must have, when known
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
	if !n.links.track(conn) {
		conn.Close()
		return nil, nil, ErrClosed
	}
	defer n.links.untrack(conn)
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

// dialerSteps runs the dialer's messages on an open connection: opener,
// Challenge, our proof first, then the ack, whose proof we check before
// we believe anything in it.
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
	peer, acceptorNonce, err := n.answerChallenge(conn, addr, op, spec.expect)
	if err != nil {
		return nil, nil, err
	}
	members, err := n.readAck(conn, addr, peer, spec.wantList, handshakeProof(n.cfg.CookieKey, proofLabelAcceptor, nonce, acceptorNonce, self.Alias, peer.Alias))
	if err != nil {
		return nil, nil, err
	}
	seal, err := n.linkSealFor(sealEnds{nonce, acceptorNonce, self, peer}, true)
	if err != nil {
		return nil, nil, err
	}
	l := newSealedLink(conn, peer, self.Alias, seal)
	l.redial = spec.redial
	l.provenAddr = addr
	_, _, err = n.admit(l, admitRequest{asDialer: true})
	if err != nil {
		_ = n.send(l, refusalMessage(err)) // sealed: the acceptor's link is up
		return nil, nil, err
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		n.dropLink(l, EventLinkClosed, err)
		return nil, nil, err
	}
	n.startLink(l) // on standby, or closed already, when keepExisting
	return l, members, nil
}

// answerChallenge reads the acceptor's Challenge and sends our proof. It
// returns the acceptor as it describes itself (not yet proven) and its
// nonce. expect, when set, is the alias the acceptor must have: a list
// that named another alias at this address is not believed, and the
// connection is dropped before it can disturb an existing link.
func (n *Node) answerChallenge(conn net.Conn, addr string, op *hello, expect string) (memberInfo, []byte, error) {
	m, err := n.preAuth.read(conn)
	if err != nil {
		return memberInfo{}, nil, n.handshakeReadError(err, addr, "Challenge", n.cfg.HandshakeTimeout)
	}
	var ch *challenge
	switch m := m.(type) {
	case *refuse:
		return memberInfo{}, nil, refusalFrom("", addr, m)
	case *challenge:
		ch = m
	default:
		return memberInfo{}, nil, fmt.Errorf("%w: %s answered %s instead of Challenge", ErrNotANode, addr, m.kind())
	}
	peer := ch.Responder
	if peer.NodeID == n.cfg.NodeID {
		n.sendRefusal(conn, refusef(codeSelf, "a node cannot join itself: the peer has this node's ID %s", peer.NodeID))
		return peer, nil, fmt.Errorf("%w: %s answers with this node's own ID", ErrJoinSelf, addr)
	}
	if expect != "" && peer.Alias != expect {
		return peer, nil, fmt.Errorf("%w: the node at %s is \"%s\", not \"%s\" as listed", errWrongAlias, addr, peer.Alias, expect)
	}
	proof := handshakeProof(n.cfg.CookieKey, proofLabelDialer, op.Nonce, ch.Nonce, op.Sender.Alias, peer.Alias)
	if err := n.writeMessage(conn, &challengeReply{Proof: proof}); err != nil {
		return peer, nil, fmt.Errorf("send ChallengeReply to %s: %w", addr, err)
	}
	return peer, ch.Nonce, nil
}

// readAck reads the acceptor's final answer: HelloAck, JoinAck or Refuse.
// It checks the acceptor's proof against want and returns the members the
// ack lists.
func (n *Node) readAck(conn net.Conn, addr string, peer memberInfo, wantList bool, want []byte) ([]memberInfo, error) {
	m, err := n.frames.read(conn)
	if err != nil {
		return nil, n.handshakeReadError(err, addr, "HelloAck or JoinAck", n.cfg.HandshakeTimeout)
	}
	var self memberInfo
	var proof []byte
	var members []memberInfo
	switch m := m.(type) {
	case *refuse:
		return nil, refusalFrom(peer.Alias, addr, m)
	case *helloAck:
		if !wantList {
			return nil, fmt.Errorf("%w: %s answered HelloAck to Join", ErrNotANode, addr)
		}
		self, proof, members = m.Self, m.Proof, m.Members
	case *joinAck:
		if wantList {
			return nil, fmt.Errorf("%w: %s answered JoinAck to Hello", ErrNotANode, addr)
		}
		self, proof, members = m.Self, m.Proof, m.Members
	default:
		return nil, fmt.Errorf("%w: %s answered %s out of turn", ErrNotANode, addr, m.kind())
	}
	if !hmac.Equal(proof, want) {
		return nil, fmt.Errorf("%w: the peer \"%s\" at %s did not prove it has our cluster cookie", ErrBadCookie, peer.Alias, addr)
	}
	if self.Alias != peer.Alias || self.NodeID != peer.NodeID {
		return nil, fmt.Errorf("%w: %s changed its name during the handshake", ErrNotANode, addr)
	}
	return n.checkListSize(peer, members)
}

// refusalFrom turns a Refuse received while dialing addr into an error
// that names the cause from this node's side. alias is the peer's, if
// known.
func refusalFrom(alias, addr string, m *refuse) error {
	who := "at " + addr
	if alias != "" {
		who = `"` + alias + `"`
	}
	switch m.Code {
	case codeCookie:
		if alias == "" {
			return fmt.Errorf("%w: the node at %s has a different cluster cookie", ErrBadCookie, addr)
		}
		return fmt.Errorf("%w: the peer \"%s\" at %s has a different cluster cookie", ErrBadCookie, alias, addr)
	case codeTLS:
		return fmt.Errorf("%w: the peer at %s speaks TLS; this node has no --tls-cert", ErrTLSMismatch, addr)
	}
	return &peerRefusedError{peer: who, code: m.Code, reason: m.Reason}
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
// reads and answers probes but is not a member's link.
func (n *Node) admit(l *link, req admitRequest) (admission, []memberInfo, error) {
	p := l.peer
	n.mu.Lock()
	self := n.self
	n.mu.Unlock()
	n.links.mu.Lock()
	verdict, old, err := n.decideLocked(l, nil)
	if verdict == probeFirst {
		// A claim to be a newer run of a linked member: the old run's
		// alias is handed over only if it answers no probe.
		n.links.mu.Unlock()
		silent := old
		if n.answersProbe(old) {
			silent = nil
		}
		n.links.mu.Lock()
		verdict, old, err = n.decideLocked(l, silent)
		if verdict == probeFirst { // answered, or another link meanwhile
			err = refusef(codeAlias, "alias %q is held by a live member at %s", p.Alias, old.peer.addr())
		}
	}
	var members []memberInfo
	var toClose *link
	mismatch := false
	switch {
	case err != nil:
	case verdict == keepExisting && req.asDialer:
		if n.cfg.Alias < p.Alias {
			toClose = l
		} else {
			n.links.standby[l] = struct{}{}
		}
	case verdict == keepExisting:
		// the acceptor refuses the handshake
	default:
		n.links.setLocked(p.Alias, l)
		n.members.transition(p.Alias, StateAlive, p, n.admissionEventLocked(l, verdict), nil, true, time.Time{})
		mismatch = len(req.digest) > 0 && !bytes.Equal(req.digest, n.digestLocked(self))
		if req.wantList || mismatch {
			members = n.links.peersLocked(p.Alias)
		}
		switch {
		case verdict == superseded && n.cfg.Alias > p.Alias:
			n.links.standby[old] = struct{}{}
		case old != nil && !old.ready:
			old.retired = true
		default:
			toClose = old
		}
	}
	if req.asDialer {
		l.markReadyLocked()
	}
	n.links.mu.Unlock()
	if toClose != nil {
		toClose.close() // its reader sees it is not current: no event
	}
	if mismatch {
		n.announceMember(p)
	}
	return verdict, members, err
}

// decideLocked decides on l's admission. silent, when not nil, is an
// old run's link that answered no probe just now (see admit).
func (n *Node) decideLocked(l *link, silent *link) (admission, *link, error) {
	p := l.peer
	if n.links.state != stateRunning {
		return 0, nil, refusef(codeClosing, "node %q is shutting down", n.cfg.Alias)
	}
	if p.NodeID == n.cfg.NodeID {
		return 0, nil, refusef(codeSelf, "a node cannot join itself: the peer has this node's ID %s (processes that share a data directory and alias share their node ID)", p.NodeID)
	}
	if p.Alias == n.cfg.Alias {
		return 0, nil, refusef(codeAlias, "alias %q is already a member", p.Alias)
	}
	old := n.links.byAlias[p.Alias]
	switch {
	case old == nil:
		if n.members.count()+1 >= n.cfg.MaxMembers && !n.members.known(p.Alias) {
			return 0, nil, refusef(codeFull, "cluster is full: node %q allows %d members", n.cfg.Alias, n.cfg.MaxMembers)
		}
		return admitted, nil, nil
	case old.peer.NodeID != p.NodeID:
		return 0, nil, refusef(codeAlias, "alias %q is already a member", p.Alias)
	case p.Incarnation > old.peer.Incarnation && old != silent:
		// A live member is never evicted by a claim to be a newer run
		// of it: a restarted node's old run is gone (its link closed) or
		// answers no probe. The node ID is public; a member could forge
		// the claim.
		return probeFirst, old, nil
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

// admissionEventLocked names the event of a member's admission.
func (n *Node) admissionEventLocked(l *link, verdict admission) EventKind {
	switch {
	case verdict == replaced:
		return EventRejoined
	case verdict == admitted && (l.redial || n.gossip.redialing(l.peer.Alias) || n.members.known(l.peer.Alias)):
		return EventReconnected
	case verdict == admitted:
		return EventJoined
	}
	return 0
}

// digestLocked is the digest of this node (self) and its members; the
// caller holds links.mu.
func (n *Node) digestLocked(self memberInfo) []byte {
	return membersDigest(append(n.links.peersLocked(""), self))
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
	_ = n.writeMessage(conn, refusalMessage(err))
}

// refusalMessage is the Refuse that tells a peer why it is refused.
func refusalMessage(err error) *refuse {
	r, ok := err.(*refusal)
	if !ok {
		r = refusef(codeProtocol, "%v", err)
	}
	return &refuse{Code: r.code, Reason: termtext.Cut(r.reason, maxReasonLength)}
}

// handshakeReadError explains a failed read while waiting for want.
func (n *Node) handshakeReadError(err error, addr, want string, within time.Duration) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %s sent no %s within %v", ErrHandshakeTimeout, addr, want, within)
	case errors.Is(err, ErrTLSMismatch):
		return fmt.Errorf("%s: %w", addr, err)
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
