package jobs

import (
	"context"
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
	links map[string]*fakeLink // outgoing, by peer
	gone  bool
}

// fakeLink is one direction of a link: a bounded queue, and closed when
// the link ends.
type fakeLink struct {
	ch     chan fakeMsg
	closed chan struct{}
}

func (l *fakeLink) close() { close(l.closed) }

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
	node := &fakeNode{net: n, alias: alias, links: map[string]*fakeLink{}}
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
		if l := o.links[alias]; l != nil {
			l.close()
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
	for peer, l := range node.links {
		l.close()
		delete(node.links, peer)
	}
	node.mu.Unlock()
	if node.svc != nil {
		node.svc.Close()
	}
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

func (node *fakeNode) Send(ctx context.Context, to, kind string, payload []byte) error {
	if len(payload) > node.net.maxMsg {
		return fmt.Errorf("message of %d bytes is too large", len(payload))
	}
	peer := node.net.get(to)
	node.mu.Lock()
	if node.gone || peer == nil {
		node.mu.Unlock()
		return fmt.Errorf("send %s to %s: %w", kind, to, errUnknownMember)
	}
	l := node.links[to]
	if l == nil {
		l = &fakeLink{ch: make(chan fakeMsg, node.net.queueLen), closed: make(chan struct{})}
		node.links[to] = l
		go deliver(l, peer)
	}
	node.mu.Unlock()
	select {
	case l.ch <- fakeMsg{node.alias, kind, payload}:
		return nil
	case <-l.closed:
		return fmt.Errorf("send %s to %s: %w", kind, to, errUnknownMember)
	case <-ctx.Done():
		return fmt.Errorf("send %s to %s: %w", kind, to, ctx.Err())
	}
}

// deliver is the peer's link reader: one message at a time, in order,
// until the link ends.
func deliver(l *fakeLink, peer *fakeNode) {
	for {
		select {
		case m := <-l.ch:
			peer.receive(m)
		case <-l.closed:
			return
		}
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
		node.Send(context.Background(), m.from, kindUnknown, []byte(m.kind))
	default:
		node.svc.Receive(m.from, m.kind, m.payload)
	}
}
