package cluster

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these where a
// caller may need to tell the cases apart; test with errors.Is.
var (
	// ErrAlreadyRunning is returned by Start when the node already listens.
	ErrAlreadyRunning = errors.New("cluster node already runs")
	// ErrClosed is returned by operations on a node after Close or Leave.
	ErrClosed = errors.New("cluster node is closed")
	// ErrNotRunning is returned by Leave when the node never started, and
	// by Send when the node does not run.
	ErrNotRunning = errors.New("cluster node is not running")
	// ErrPortInUse is returned by Start when the listen address is taken.
	ErrPortInUse = errors.New("address already in use")
	// ErrJoinSelf is returned when a node is asked to join itself.
	ErrJoinSelf = errors.New("a node cannot join itself")
	// ErrDuplicateAlias means the alias is already used by another member.
	ErrDuplicateAlias = errors.New("alias already in the cluster")
	// ErrVersionMismatch means the two nodes speak different protocol versions.
	ErrVersionMismatch = errors.New("protocol version mismatch")
	// ErrBadCookie means the peer does not share this node's cluster cookie.
	ErrBadCookie = errors.New("cluster cookie mismatch")
	// ErrClusterFull means the member limit (Config.MaxMembers) is reached.
	ErrClusterFull = errors.New("cluster is full")
	// ErrNotANode means the peer did not speak the Iridium cluster protocol.
	ErrNotANode = errors.New("not an Iridium cluster node")
	// ErrTLSMismatch means one side speaks TLS and the other does not.
	ErrTLSMismatch = errors.New("TLS mismatch")
	// ErrNodeIDLocked means another process holds the node ID file.
	ErrNodeIDLocked = errors.New("another process holds this node ID")
	// ErrHandshakeTimeout means the peer did not finish the handshake in
	// Config.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("handshake timed out")
	// ErrPeerClosing means the peer is shutting down or leaving.
	ErrPeerClosing = errors.New("peer is shutting down")
	// ErrNoCookie is returned by New when Config.Cookie is empty.
	ErrNoCookie = errors.New("cluster cookie is empty")
	// ErrBadConfig is returned by New for an invalid Config.
	ErrBadConfig = errors.New("invalid cluster config")
	// ErrUnknownMember is returned by Send when no alive member has the
	// alias.
	ErrUnknownMember = errors.New("no such alive member")
	// ErrMessageTooLarge is returned by Send for a payload over
	// MaxMessageSize.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrLinkTampered means a frame of an established link did not open
	// with the link's key: it was forged, altered, replayed or reordered
	// between the members (see seal.go). The link is closed.
	ErrLinkTampered = errors.New("link frame failed authentication")

	// errAlreadyConnected is the benign refusal of a second link to a peer
	// that is already connected (simultaneous dialing).
	errAlreadyConnected = errors.New("already connected")
	// errWrongAlias: a node listed under one alias answered as another.
	errWrongAlias = errors.New("wrong alias")
	// errProtocol marks frames or messages that break the protocol.
	errProtocol = errors.New("protocol error")
)
