package cluster

import (
	"fmt"
	"sync"
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

// Bounds of a link's send queue. A frame is always accepted when the
// queue is empty, so MaxMessageSize holds even above maxQueuedBytes.
const (
	maxQueuedFrames = 256
	maxQueuedBytes  = 8 << 20
	// localQueueLen bounds application messages a node sends itself.
	localQueueLen = 256
)

// MessageHandler receives an application message from an authenticated
// member; from is that member's alias. It runs on the link's reader
// goroutine (for messages a node sends itself, on one goroutine of the
// node) and must not block: hand work off.
type MessageHandler func(from string, payload []byte)

// Handle registers h for application messages of kind (a short name such
// as "spawn.v1", see MaxKindLength). Call it before Start or Join; a later
// call for the same kind replaces h. A nil h removes the handler.
func (n *Node) Handle(kind string, h MessageHandler) {
	n.handlersMu.Lock()
	defer n.handlersMu.Unlock()
	if h == nil {
		delete(n.handlers, kind)
		return
	}
	n.handlers[kind] = h
}

// handler returns the handler for kind, or nil.
func (n *Node) handler(kind string) MessageHandler {
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
// whose alias is to, and returns without waiting for the network. Delivery
// is in order per member and at most once: messages still queued when a
// link fails or is replaced are lost, and the loss shows as an Event
// (EventFailed, EventLinkClosed, EventLeft). Sending to this node's own
// alias delivers to its own handler, in order, on a goroutine of the node.
//
// Errors wrap ErrNotRunning (the node does not run), ErrUnknownMember (no
// alive member has that alias), ErrMessageTooLarge (payload over
// MaxMessageSize), ErrQueueFull (the member's bounded send queue is full:
// throttle or drop), or describe a bad kind.
func (n *Node) Send(to, kind string, payload []byte) error {
	if err := validateKind(kind); err != nil {
		return fmt.Errorf("send to %q: %w", to, err)
	}
	if len(payload) > n.MaxMessageSize() {
		return fmt.Errorf("send %s to %q: %w: %d bytes, the limit is %d",
			kind, to, ErrMessageTooLarge, len(payload), n.MaxMessageSize())
	}
	m := &appMessage{Kind: kind, Payload: payload}
	n.mu.Lock()
	running := n.state == stateRunning
	l := n.links[to]
	n.mu.Unlock()
	switch {
	case !running:
		return fmt.Errorf("send %s to %q: %w", kind, to, ErrNotRunning)
	case to == n.cfg.Alias:
		if !n.local.push(localMessage{from: to, msg: m}) {
			return fmt.Errorf("send %s to %q (this node): %w", kind, to, ErrQueueFull)
		}
		return nil
	case l == nil:
		return fmt.Errorf("send %s to %q: %w", kind, to, ErrUnknownMember)
	}
	frame, err := n.frames.marshal(m)
	if err != nil {
		return fmt.Errorf("send %s to %q: %w", kind, to, err)
	}
	if !l.queue.push(frame) {
		return fmt.Errorf("send %s to %q: %w (%d frames or %d bytes wait)",
			kind, to, ErrQueueFull, maxQueuedFrames, maxQueuedBytes)
	}
	return nil
}

// deliver hands an application message from a member to its handler, or
// answers KindUnknown when there is none. reply queues the answer without
// blocking; a full queue drops it.
func (n *Node) deliver(from string, m *appMessage, reply func(*appMessage)) {
	if h := n.handler(m.Kind); h != nil {
		h(from, m.Payload)
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

// sendQueue is a link's bounded queue of encoded frames, drained by the
// link's writer.
type sendQueue struct {
	mu     sync.Mutex
	frames [][]byte
	bytes  int
	wake   chan struct{} // has a token when frames may wait
}

func newSendQueue() *sendQueue { return &sendQueue{wake: make(chan struct{}, 1)} }

// push queues frame unless the queue is full; it never blocks.
func (q *sendQueue) push(frame []byte) bool {
	q.mu.Lock()
	full := len(q.frames) > 0 &&
		(len(q.frames) >= maxQueuedFrames || q.bytes+len(frame) > maxQueuedBytes)
	if !full {
		q.frames = append(q.frames, frame)
		q.bytes += len(frame)
	}
	q.mu.Unlock()
	if !full {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return !full
}

// take removes and returns every queued frame.
func (q *sendQueue) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	frames := q.frames
	q.frames, q.bytes = nil, 0
	return frames
}

// validateKind checks the kind of an application message.
func validateKind(kind string) error {
	return validateName("message kind", kind, MaxKindLength)
}
