package cluster

import (
	"fmt"
	"net"
	"strings"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/internal/wire"
)

// ProtocolVersion is the version of the cluster protocol this package
// speaks. Hello and Join carry it; a node refuses any other version.
// Version 4 sealed every frame after the handshake (seal.go); version 5
// probes with SWIM (swim.go) instead of heartbeats.
const ProtocolVersion = 5

// nonceSize is the length of handshake nonces and HMAC-SHA256 proofs.
const nonceSize = 32

// maxReasonLength caps the human-readable reason in Refuse and Leave.
const maxReasonLength = 200

// msgType is the byte after a frame's length that says what the body is.
type msgType uint8

// Message types. The numbers are part of the wire format: never reuse one.
const (
	msgRefuse         msgType = 1
	msgHello          msgType = 2
	msgJoin           msgType = 3
	msgChallenge      msgType = 4
	msgChallengeReply msgType = 5
	msgHelloAck       msgType = 6
	msgJoinAck        msgType = 7
	msgPing           msgType = 8
	msgLeave          msgType = 9
	msgMemberUp       msgType = 10
	msgApp            msgType = 11
	msgAck            msgType = 12
	msgPingReq        msgType = 13
	msgSuspect        msgType = 14
	msgAlive          msgType = 15
)

func (t msgType) String() string {
	switch t {
	case msgRefuse:
		return "Refuse"
	case msgHello:
		return "Hello"
	case msgJoin:
		return "Join"
	case msgChallenge:
		return "Challenge"
	case msgChallengeReply:
		return "ChallengeReply"
	case msgHelloAck:
		return "HelloAck"
	case msgJoinAck:
		return "JoinAck"
	case msgPing:
		return "Ping"
	case msgLeave:
		return "Leave"
	case msgMemberUp:
		return "MemberUp"
	case msgApp:
		return "App"
	case msgAck:
		return "Ack"
	case msgPingReq:
		return "PingReq"
	case msgSuspect:
		return "Suspect"
	case msgAlive:
		return "Alive"
	}
	return fmt.Sprintf("unknown message type %d", uint8(t))
}

// memberInfo is how a member is described on the wire.
type memberInfo struct {
	Alias       string `codec:"alias"`
	NodeID      string `codec:"node_id"`
	Incarnation uint64 `codec:"incarnation"` // start time of the node, unix ns
	Host        string `codec:"host"`        // where it accepts cluster connections
	Port        int    `codec:"port"`        // its listen port, never an ephemeral one
}

// digestSize is the length of a member-set digest.
const digestSize = 8

// hello opens a connection to a member whose member list we want.
type hello struct {
	// An opener of another protocol version may carry fields this one
	// does not know: they are decoded and dropped, so that its version
	// gets a clear refusal (see ErrVersionMismatch).
	wire.IgnoreUnknown

	Version uint32     `codec:"version"`
	Sender  memberInfo `codec:"sender"`
	Nonce   []byte     `codec:"nonce"`
	// Digest (Join only, optional) summarises the members the sender
	// expects the receiver to know; see membersDigest.
	Digest []byte `codec:"digest,omitempty"`
}

// join opens a connection to a member learnt from a HelloAck; no list back.
type join hello

// challenge is the acceptor's answer to an opener: who it is and its
// nonce. It carries no proof: the dialer proves first.
type challenge struct {
	Responder memberInfo `codec:"responder"`
	Nonce     []byte     `codec:"nonce"`
}

// challengeReply is the dialer's proof that it knows the cookie.
type challengeReply struct {
	Proof []byte `codec:"proof"`
}

// helloAck admits the sender of a Hello and lists every other member.
type helloAck struct {
	Self    memberInfo   `codec:"self"`
	Members []memberInfo `codec:"members"`
	Proof   []byte       `codec:"proof"` // the acceptor's proof of the cookie
}

// joinAck admits the sender of a Join. Members is empty unless the
// Join's digest differs from the receiver's own members.
type joinAck struct {
	Self    memberInfo   `codec:"self"`
	Members []memberInfo `codec:"members,omitempty"`
	Proof   []byte       `codec:"proof"` // the acceptor's proof of the cookie
}

// refuse ends a handshake (or a link) and says why.
type refuse struct {
	Code   string `codec:"code"`
	Reason string `codec:"reason"`
}

// ping is a SWIM probe: the receiver answers Ack with the same seq.
type ping struct {
	Seq uint64 `codec:"seq"`
}

// ack answers a Ping, or reports to the asker of an indirect probe that
// its target answered (with the asker's seq).
type ack struct {
	Seq uint64 `codec:"seq"`
}

// pingReq asks the receiver to probe the member Target on its own link
// and to send Ack with Seq back if Target answers (an indirect probe).
type pingReq struct {
	Seq    uint64 `codec:"seq"`
	Target string `codec:"target"`
}

// liveness names one epoch of one run of a member: its alias, its
// incarnation (the run) and its liveness epoch.
type liveness struct {
	Alias       string `codec:"alias"`
	Incarnation uint64 `codec:"incarnation"`
	Epoch       uint64 `codec:"epoch"`
}

// suspectMsg says the sender suspects the member: that epoch of its run
// answered no probe, direct or indirect.
type suspectMsg liveness

// aliveMsg says the member is alive at that epoch: the member itself
// refutes a suspicion with it, raising its epoch.
type aliveMsg liveness

// leave says the sender leaves the cluster on purpose.
type leave struct {
	Reason string `codec:"reason"`
}

// memberUp tells the members of a node that it admitted a new member, so
// that nodes which joined at the same moment through different members
// still find each other.
type memberUp struct {
	Member memberInfo `codec:"member"`
}

// appMessage carries an application message of a kind between members
// (see Node.Send).
type appMessage struct {
	Kind    string `codec:"kind"`
	Payload []byte `codec:"payload"`
}

// message is any of the types above.
type message interface {
	kind() msgType
	validate() error
}

func (*hello) kind() msgType          { return msgHello }
func (*join) kind() msgType           { return msgJoin }
func (*challenge) kind() msgType      { return msgChallenge }
func (*challengeReply) kind() msgType { return msgChallengeReply }
func (*helloAck) kind() msgType       { return msgHelloAck }
func (*joinAck) kind() msgType        { return msgJoinAck }
func (*refuse) kind() msgType         { return msgRefuse }
func (*ping) kind() msgType           { return msgPing }
func (*leave) kind() msgType          { return msgLeave }
func (*memberUp) kind() msgType       { return msgMemberUp }
func (*appMessage) kind() msgType     { return msgApp }
func (*ack) kind() msgType            { return msgAck }
func (*pingReq) kind() msgType        { return msgPingReq }
func (*suspectMsg) kind() msgType     { return msgSuspect }
func (*aliveMsg) kind() msgType       { return msgAlive }

// newMessage returns an empty message of type t to decode into.
func newMessage(t msgType) (message, bool) {
	switch t {
	case msgHello:
		return &hello{}, true
	case msgJoin:
		return &join{}, true
	case msgChallenge:
		return &challenge{}, true
	case msgChallengeReply:
		return &challengeReply{}, true
	case msgHelloAck:
		return &helloAck{}, true
	case msgJoinAck:
		return &joinAck{}, true
	case msgRefuse:
		return &refuse{}, true
	case msgPing:
		return &ping{}, true
	case msgLeave:
		return &leave{}, true
	case msgMemberUp:
		return &memberUp{}, true
	case msgApp:
		return &appMessage{}, true
	case msgAck:
		return &ack{}, true
	case msgPingReq:
		return &pingReq{}, true
	case msgSuspect:
		return &suspectMsg{}, true
	case msgAlive:
		return &aliveMsg{}, true
	}
	return nil, false
}

func (m *memberInfo) validate() error {
	if err := ValidateAlias(m.Alias); err != nil {
		return err
	}
	switch {
	case m.NodeID == "" || len(m.NodeID) > 64:
		return fmt.Errorf("member %q: node id must have 1 to 64 bytes", m.Alias)
	case !validHost(m.Host):
		return fmt.Errorf("member %q: host \"%s\" is neither an IP address nor a DNS name", m.Alias, termtext.Cut(m.Host, 256))
	case m.Port < 1 || m.Port > 65535:
		return fmt.Errorf("member %q: port %d is outside 1-65535", m.Alias, m.Port)
	}
	return nil
}

func (m *hello) validate() error {
	// The handshake checks the version first and answers another one with
	// a clear refusal; the rest of an opener of another version may have
	// another shape, so it is not judged here.
	if m.Version != ProtocolVersion {
		return nil
	}
	if len(m.Nonce) != nonceSize {
		return fmt.Errorf("nonce has %d bytes, want %d", len(m.Nonce), nonceSize)
	}
	if len(m.Digest) != 0 && len(m.Digest) != digestSize {
		return fmt.Errorf("digest has %d bytes, want %d", len(m.Digest), digestSize)
	}
	return m.Sender.validate()
}

func (m *join) validate() error { return (*hello)(m).validate() }

func (m *challenge) validate() error {
	if len(m.Nonce) != nonceSize {
		return fmt.Errorf("nonce must have %d bytes", nonceSize)
	}
	return m.Responder.validate()
}

func (m *challengeReply) validate() error {
	if len(m.Proof) != nonceSize {
		return fmt.Errorf("proof has %d bytes, want %d", len(m.Proof), nonceSize)
	}
	return nil
}

func (m *helloAck) validate() error { return validateAck(m.Self, m.Members, m.Proof) }

func (m *joinAck) validate() error { return validateAck(m.Self, m.Members, m.Proof) }

func validateAck(self memberInfo, members []memberInfo, proof []byte) error {
	if len(proof) != nonceSize {
		return fmt.Errorf("proof has %d bytes, want %d", len(proof), nonceSize)
	}
	return validateMembers(self, members)
}

func validateMembers(self memberInfo, members []memberInfo) error {
	if err := self.validate(); err != nil {
		return err
	}
	for i := range members {
		if err := members[i].validate(); err != nil {
			return err
		}
	}
	return nil
}

func (m *refuse) validate() error {
	if len(m.Code) > 32 || len(m.Reason) > maxReasonLength {
		return fmt.Errorf("code or reason too long")
	}
	return nil
}

func (m *ping) validate() error { return nil }

func (m *ack) validate() error { return nil }

func (m *pingReq) validate() error { return ValidateAlias(m.Target) }

// maxEpoch bounds a liveness epoch on the wire, far beyond any number of
// refutations, so that a member raising its epoch past a suspected one
// never wraps around.
const maxEpoch = 1 << 62

func (m *suspectMsg) validate() error { return (*liveness)(m).validate() }

func (m *aliveMsg) validate() error { return (*liveness)(m).validate() }

func (m *liveness) validate() error {
	if m.Epoch > maxEpoch {
		return fmt.Errorf("epoch %d is over the limit %d", m.Epoch, uint64(maxEpoch))
	}
	return ValidateAlias(m.Alias)
}

func (m *leave) validate() error {
	if len(m.Reason) > maxReasonLength {
		return fmt.Errorf("reason too long")
	}
	return nil
}

func (m *memberUp) validate() error { return m.Member.validate() }

func (m *appMessage) validate() error { return validateKind(m.Kind) }

// validHost reports whether host is an IP literal or a DNS name (labels of
// letters, digits and hyphens, at most 63 bytes each, 253 in all).
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
