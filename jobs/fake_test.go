package jobs

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
)

// fakeNet is an in-memory cluster: members in one process, a bounded
// queue and a delivering goroutine per direction of each link, so that
// messages arrive in order, asynchronously, with back-pressure, as on the
// real cluster.
type fakeNet struct {
	maxMsg   int
	queueLen int

	mu    sync.Mutex
	nodes map[string]*fakeNode
}

// fakeNode is one member: a table and a service, or only a name for a
// member that knows no remote spawn (it answers every kind as unknown).
type fakeNode struct {
	net   *fakeNet
	alias string
	table *Table
	svc   *Service

	mu    sync.Mutex
	links map[string]chan fakeMsg // outgoing, by peer
	gone  bool
}

type fakeMsg struct {
	from, kind string
	payload    []byte
}

// kindUnknown stands for cluster.KindUnknown.
const kindUnknown = "cluster.unknown"

func newFakeNet(t *testing.T, maxMsg, queueLen int) *fakeNet {
	n := &fakeNet{maxMsg: maxMsg, queueLen: queueLen, nodes: map[string]*fakeNode{}}
	t.Cleanup(func() {
		n.mu.Lock()
		nodes := n.nodes
		n.mu.Unlock()
		for _, node := range nodes {
			node.stop()
		}
	})
	return n
}

// add makes a member; cfg's Table and Transport are filled in. A nil cfg
// makes a member with no remote spawn.
func (n *fakeNet) add(alias string, cfg *ServiceConfig) *fakeNode {
	node := &fakeNode{net: n, alias: alias, links: map[string]chan fakeMsg{}}
	if cfg != nil {
		if cfg.Table == nil {
			cfg.Table = NewTable(8)
		}
		cfg.Transport = node
		node.table = cfg.Table
		node.svc = NewService(*cfg)
	}
	n.mu.Lock()
	n.nodes[alias] = node
	n.mu.Unlock()
	return node
}

func (n *fakeNet) get(alias string) *fakeNode {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nodes[alias]
}

// fail takes a member out as a crash does: its links close, the others
// hear that it failed.
func (n *fakeNet) fail(alias, why string) {
	n.mu.Lock()
	node := n.nodes[alias]
	delete(n.nodes, alias)
	var others []*fakeNode
	for _, o := range n.nodes {
		others = append(others, o)
	}
	n.mu.Unlock()
	node.stop()
	for _, o := range others {
		o.mu.Lock()
		if ch := o.links[alias]; ch != nil {
			close(ch)
			delete(o.links, alias)
		}
		o.mu.Unlock()
		if o.svc != nil {
			o.svc.MemberGone(alias, why)
		}
	}
}

func (node *fakeNode) stop() {
	node.mu.Lock()
	if node.gone {
		node.mu.Unlock()
		return
	}
	node.gone = true
	for peer, ch := range node.links {
		close(ch)
		delete(node.links, peer)
	}
	node.mu.Unlock()
	if node.table != nil {
		node.table.Close()
	}
	if node.svc != nil {
		node.svc.LeftCluster() // as the node's cluster does when it ends
	}
}

func (node *fakeNode) Self() string {
	node.mu.Lock()
	defer node.mu.Unlock()
	if node.gone {
		return ""
	}
	return node.alias
}

func (node *fakeNode) Members() []string {
	node.net.mu.Lock()
	defer node.net.mu.Unlock()
	var out []string
	for alias := range node.net.nodes {
		if alias != node.alias {
			out = append(out, alias)
		}
	}
	sort.Strings(out)
	return out
}

func (node *fakeNode) MaxMessageSize() int { return node.net.maxMsg }

var errUnknownMember = errors.New("unknown member")

func (node *fakeNode) Send(to, kind string, payload []byte) error {
	if len(payload) > node.net.maxMsg {
		return fmt.Errorf("message of %d bytes is too large", len(payload))
	}
	peer := node.net.get(to)
	node.mu.Lock()
	defer node.mu.Unlock()
	if node.gone || peer == nil {
		return fmt.Errorf("send %s to %s: %w", kind, to, errUnknownMember)
	}
	ch := node.links[to]
	if ch == nil {
		ch = make(chan fakeMsg, node.net.queueLen)
		node.links[to] = ch
		go deliver(ch, peer)
	}
	select {
	case ch <- fakeMsg{node.alias, kind, payload}:
		return nil
	default:
		return fmt.Errorf("send %s to %s: %w", kind, to, ErrQueueFull)
	}
}

// deliver is the peer's link reader: one message at a time, in order.
func deliver(ch chan fakeMsg, peer *fakeNode) {
	for m := range ch {
		peer.receive(m)
	}
}

func (node *fakeNode) receive(m fakeMsg) {
	known := false
	for _, k := range Kinds() {
		known = known || k == m.kind
	}
	switch {
	case m.kind == kindUnknown && node.svc != nil:
		node.svc.Unknown(m.from, string(m.payload))
	case node.svc == nil || !known:
		node.Send(m.from, kindUnknown, []byte(m.kind))
	default:
		node.svc.Receive(m.from, m.kind, m.payload)
	}
}
