package cluster

import (
	"context"
	"errors"
	"fmt"
)

// KindUnknown is the kind of the answer a member sends when it has no
// handler for the kind of an application message it received. The answer's
// payload is the unknown kind's name. The link stays up.
const KindUnknown = "cluster.unknown"

// MaxKindLength is the longest kind name, in bytes. A kind is 1 to
// MaxKindLength printable bytes without spaces, such as "spawn.v1".
const MaxKindLength = 64

// appEnvelopeSize is the most the msgpack envelope of an application
// message adds to its payload: a map of two entries (1 byte), the key
// "kind" (5), the kind as str8 (2 + MaxKindLength), the key "payload" (8)
// and the bin32 header of the payload (5).
const appEnvelopeSize = 1 + 5 + 2 + MaxKindLength + 8 + 5

// MessageHandler receives an application message from an authenticated
// member; from is that member's alias. It runs on a goroutine of the node
// that runs the handlers of one link's messages in the order they came
// (for messages a node sends itself, on one goroutine of the node), never
// on the link's reader unless registered with HandleNonBlocking. It may
// block, and so applies back-pressure to
// that member alone: while 256 messages (or 8 MiB) from it wait to be
// handled, the link's reader waits and the member's Send blocks. The
// prober counts the link as heard meanwhile and answers the member's
// probes for it (see queueForHandler), so neither is suspected for this
// node's slowness; a handler stalled for longer than the member's
// WriteTimeout makes the member drop the link as not reading. Messages
// are never dropped for a slow handler.
//
// A handler may Send back to the member it hears from. If both members'
// handlers do so while both links' queues are full, neither side reads
// (each deliverer waits in Send, each reader for room in its inbox):
// the first write to pass WriteTimeout drops the link as failed, the
// messages queued on it are lost, and the waiting Sends return. A
// handler of a message this node sent itself must not Send to this node
// without a deadline: while the local queue is full it would wait for
// its own goroutine, until ctx ends or the node closes.
type MessageHandler func(from string, payload []byte)

// Handle registers h for application messages of kind (a short name such
// as "spawn.v1", see MaxKindLength). Call it before Start or Join; a later
// call for the same kind replaces h. A nil h removes the handler.
func (n *Node) Handle(kind string, h MessageHandler) {
	n.setHandler(kind, handlerEntry{h: h})
}

// HandleNonBlocking registers h as Handle does, for a handler that never
// waits: not for a lock held long, a channel, the network, nor a Send
// that waits for room (a Send with a done ctx does not). Such a handler
// runs on the link's reader when nothing from that member waits to be
// handled, which saves the wake-up of the link's deliverer; otherwise on
// the deliverer, in order with the messages before it, as Handle's do.
// While it runs the link reads nothing, so it must be short. A handler
// that may wait must be registered with Handle, whose back-pressure keeps
// the prober's view of the link true.
func (n *Node) HandleNonBlocking(kind string, h MessageHandler) {
	n.setHandler(kind, handlerEntry{h: h, nonBlocking: true})
}

// handlerEntry is a registered handler.
type handlerEntry struct {
	h           MessageHandler
	nonBlocking bool // registered by HandleNonBlocking
}

func (n *Node) setHandler(kind string, e handlerEntry) {
	n.handlersMu.Lock()
	defer n.handlersMu.Unlock()
	if e.h == nil {
		delete(n.handlers, kind)
		return
	}
	n.handlers[kind] = e
}

// handler returns the handler for kind: nil if there is none.
func (n *Node) handler(kind string) handlerEntry {
	n.handlersMu.RLock()
	defer n.handlersMu.RUnlock()
	return n.handlers[kind]
}

// MaxMessageSize is the largest payload Send accepts: the frame limit
// (Config.MaxFrameSize) less the frame's type byte and the envelope.
func (n *Node) MaxMessageSize() int {
	return n.cfg.MaxFrameSize - 1 - appEnvelopeSize
}

// Send queues payload, as an application message of kind, for the member
// whose alias is to. While the member's bounded send queue is full (256
// frames or 8 MiB wait) it waits for room, until ctx ends; it does not
// wait for the network otherwise. On an idle link (nothing queued, no
// write under way) Send writes the frame itself without waiting, leaving
// what the socket does not take to the link's writer (writeNow); queued
// messages are written in batches, several frames in one write. Delivery is in order per member and at
// most once: messages still queued when a link fails or is replaced are
// lost, and the loss shows as an Event (EventFailed, EventLinkClosed,
// EventLeft). Sending to this node's own alias delivers to its own
// handler, in order, on a goroutine of the node.
//
// Errors wrap ErrNotRunning (the node does not run), ErrUnknownMember (no
// alive member has that alias, or its link ended while Send waited),
// ErrMessageTooLarge (payload over MaxMessageSize), ctx's error, or
// describe a bad kind.
func (n *Node) Send(ctx context.Context, to, kind string, payload []byte) error {
	if err := validateKind(kind); err != nil {
		return fmt.Errorf("send to %q: %w", to, err)
	}
	if len(payload) > n.MaxMessageSize() {
		return fmt.Errorf("send %s to %q: %w: %d bytes, the limit is %d",
			kind, to, ErrMessageTooLarge, len(payload), n.MaxMessageSize())
	}
	m := &appMessage{Kind: kind, Payload: payload}
	var frame []byte
	var ended *link // a link that ended while Send waited on it
	for {
		n.links.mu.Lock()
		running := n.links.state == stateRunning
		l := n.links.byAlias[to]
		n.links.mu.Unlock()
		switch {
		case !running:
			return fmt.Errorf("send %s to %q: %w", kind, to, ErrNotRunning)
		case to == n.cfg.Alias:
			if err := n.local.put(ctx, n.ctx.Done(), localMessage{from: to, msg: m}); err != nil {
				return fmt.Errorf("send %s to %q (this node): %w", kind, to, err)
			}
			return nil
		case l == nil:
			return fmt.Errorf("send %s to %q: %w", kind, to, ErrUnknownMember)
		case l == ended:
			return fmt.Errorf("send %s to %q: %w: its link closed", kind, to, ErrUnknownMember)
		}
		if frame == nil {
			var err error
			if frame, err = n.frames.marshal(m); err != nil {
				return fmt.Errorf("send %s to %q: %w", kind, to, err)
			}
		}
		if n.writeNow(l, frame) {
			return nil
		}
		err := l.queue.put(ctx, l.done, frame)
		if !errors.Is(err, errGone) {
			if err != nil {
				return fmt.Errorf("send %s to %q: %w", kind, to, err)
			}
			return nil
		}
		ended = l // a new link may stand in for it
	}
}

// deliver hands an application message from a member to its handler, or
// answers KindUnknown when there is none. reply queues the answer without
// blocking; a full queue drops it.
func (n *Node) deliver(from string, m *appMessage, reply func(*appMessage)) {
	if e := n.handler(m.Kind); e.h != nil {
		e.h(from, m.Payload)
		return
	}
	if m.Kind != KindUnknown {
		reply(&appMessage{Kind: KindUnknown, Payload: []byte(m.Kind)})
	}
}

// replyOn returns a reply function that queues a message on l.
func (n *Node) replyOn(l *link) func(*appMessage) {
	return func(m *appMessage) {
		if frame, err := n.frames.marshal(m); err == nil {
			l.queue.push(frame)
		}
	}
}

// localMessage is an application message a node sends itself.
type localMessage struct {
	from string
	msg  *appMessage
}

// localQueue carries the messages a node sends itself to one goroutine.
type localQueue struct {
	ch chan localMessage
}

func (q localQueue) push(m localMessage) bool {
	select {
	case q.ch <- m:
		return true
	default:
		return false
	}
}

// deliverLocal runs the handlers of messages this node sent itself until
// the node closes.
func (n *Node) deliverLocal() {
	reply := func(m *appMessage) { n.local.push(localMessage{from: n.cfg.Alias, msg: m}) }
	for {
		select {
		case <-n.ctx.Done():
			return
		case m := <-n.local.ch:
			n.deliver(m.from, m.msg, reply)
		}
	}
}

// validateKind checks the kind of an application message.
func validateKind(kind string) error {
	return validateName("message kind", kind, MaxKindLength)
}
