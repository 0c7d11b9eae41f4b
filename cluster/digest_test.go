package cluster

import (
	"bytes"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

func TestMembersDigest(t *testing.T) {
	t.Parallel()
	a := memberInfo{Alias: "a", NodeID: "1"}
	b := memberInfo{Alias: "b", NodeID: "2"}
	c := memberInfo{Alias: "c", NodeID: "3"}
	if !bytes.Equal(membersDigest([]memberInfo{a, b, c}), membersDigest([]memberInfo{c, a, b})) {
		t.Error("digest depends on order")
	}
	if bytes.Equal(membersDigest([]memberInfo{a, b}), membersDigest([]memberInfo{a, b, c})) {
		t.Error("digest ignores a member")
	}
	b2 := b
	b2.NodeID = "other"
	if bytes.Equal(membersDigest([]memberInfo{a, b}), membersDigest([]memberInfo{a, b2})) {
		t.Error("digest ignores node IDs")
	}
	if len(membersDigest(nil)) != digestSize {
		t.Error("digest size")
	}
}

// A Join whose digest differs from the receiver's view gets the member
// list back, and the receiver tells its members about the joiner.
func TestJoinWithDifferentViewGetsTheList(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 3)
	waitFullMesh(t, nodes, 5*time.Second)
	a := nodes[0]
	p := dialRaw(t, a.addr, "x")
	p.self.Port = 1 // nobody listens there: n1 and n2 will fail to dial back
	nonce, _ := newNonce()
	op := &hello{Version: ProtocolVersion, Sender: p.self, Nonce: nonce, Digest: membersDigest([]memberInfo{p.self})}
	p.send((*join)(op))
	m, err := p.read()
	ch, ok := m.(*challenge)
	if err != nil || !ok {
		t.Fatalf("want a Challenge, got %v %v", m, err)
	}
	p.send(&challengeReply{Proof: handshakeProof(keyFor(p.cookie), proofLabelDialer, nonce, ch.Nonce, p.self.Alias, ch.Responder.Alias)})
	m, err = p.read()
	ack, ok := m.(*joinAck)
	if err != nil || !ok || len(ack.Members) != 2 {
		t.Fatalf("want a JoinAck listing n1 and n2, got %#v %v", m, err)
	}
	q := dialRaw(t, nodes[1].addr, "y")
	same := membersDigest([]memberInfo{a.self, nodes[1].self, nodes[2].self, q.self})
	_, answer, err := q.handshakeWithDigest(same)
	if err != nil {
		t.Fatal(err)
	}
	if ack, ok := answer.(*joinAck); !ok || len(ack.Members) != 0 {
		t.Errorf("matching digest: got %#v, want a JoinAck without members", answer)
	}
}
