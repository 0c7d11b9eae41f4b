package cluster

import (
	"context"
	"time"
)

// appQueue is a link's queue of application messages read and not yet
// handled, drained by the link's deliverer (deliverLoop).
type appQueue = boundedQueue[*appMessage]

func newAppQueue() *appQueue {
	return newBoundedQueue(maxInboxMessages, maxInboxBytes, func(m *appMessage) int { return len(m.Payload) })
}

// queueForHandler hands an application message read from l to the link's
// deliverer. While the inbox is full the reader waits for room (the
// member's frames then wait in the socket, and its sends back up); the
// prober counts such a link as heard, since its silence is this node's
// doing, and speaks on it for this node (probe.go). It returns errGone
// once the link has ended.
func (n *Node) queueForHandler(l *link, m *appMessage) error {
	if l.inbox.push(m) {
		return nil
	}
	l.readerWaits.Store(true)
	defer func() {
		l.readerWaits.Store(false)
		l.lastSeen.Store(time.Now().UnixNano())
	}()
	return l.inbox.put(context.Background(), l.done, m)
}

// deliverLoop runs the handlers of the application messages read from l,
// in order, until the link ends; the messages read before the end are
// still handled unless the node closes.
func (n *Node) deliverLoop(l *link) {
	reply := n.replyOn(l)
	for {
		select {
		case <-l.inbox.wake:
		case <-l.done:
			if n.ctx.Err() == nil {
				for _, m := range l.inbox.take() {
					n.deliver(l.peer.Alias, m, reply)
				}
			}
			return
		}
		for _, m := range l.inbox.take() {
			n.deliver(l.peer.Alias, m, reply)
		}
	}
}

// put queues a message this node sends itself, waiting for room until
// ctx ends or the node closes. With room it never fails, as a link's
// queue (boundedQueue.put) does not: an ended ctx only stops a wait.
func (q localQueue) put(ctx context.Context, closed <-chan struct{}, m localMessage) error {
	if q.push(m) {
		return nil
	}
	select {
	case q.ch <- m:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-closed:
		return ErrClosed
	}
}
