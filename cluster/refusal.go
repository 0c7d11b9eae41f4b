package cluster

import "fmt"

// Refusal codes sent in a Refuse message. They are part of the wire format.
const (
	codeVersion   = "version"   // protocol versions differ
	codeCookie    = "cookie"    // the handshake proof did not match
	codeAlias     = "alias"     // the alias is taken by another node
	codeSelf      = "self"      // the node reached itself
	codeFull      = "full"      // MaxMembers reached
	codeClosing   = "closing"   // the node is leaving or closing
	codeConnected = "connected" // a link to this peer exists already
	codeAddress   = "address"   // the published address cannot reach the sender
	codeProtocol  = "protocol"  // a message broke the protocol
	codeTLS       = "tls"       // one side speaks TLS, the other does not
)

// sentinelFor maps a refusal code to the error callers test for.
func sentinelFor(code string) error {
	switch code {
	case codeVersion:
		return ErrVersionMismatch
	case codeCookie:
		return ErrBadCookie
	case codeAlias:
		return ErrDuplicateAlias
	case codeSelf:
		return ErrJoinSelf
	case codeFull:
		return ErrClusterFull
	case codeClosing:
		return ErrPeerClosing
	case codeConnected:
		return errAlreadyConnected
	case codeProtocol:
		return errProtocol
	case codeTLS:
		return ErrTLSMismatch
	}
	return nil
}

// refusal is this node's reason for refusing a peer. Its text is what the
// peer is told.
type refusal struct {
	code   string
	reason string
}

func refusef(code, format string, args ...any) *refusal {
	return &refusal{code: code, reason: fmt.Sprintf(format, args...)}
}

func (r *refusal) Error() string { return r.reason }
func (r *refusal) Unwrap() error { return sentinelFor(r.code) }

// peerRefusedError is a refusal received from a peer. Its text quotes the
// peer's reason raw (at most maxReasonLength bytes, as received).
type peerRefusedError struct {
	peer   string // alias if known, else address
	code   string
	reason string
}

func (e *peerRefusedError) Error() string {
	return fmt.Sprintf("peer %s refused us: %s", e.peer, e.reason)
}

func (e *peerRefusedError) Unwrap() error { return sentinelFor(e.code) }
