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
	deliverAll := func() {
		// Taken under deliverMu, so that the reader, which delivers only
		// when the inbox is empty, cannot overtake messages taken and not
		// yet handled.
		l.deliverMu.Lock()
		defer l.deliverMu.Unlock()
		for _, m := range l.inbox.take() {
			n.deliver(l.peer.Alias, m, reply)
		}
	}
	for {
		select {
		case <-l.inbox.wake:
		case <-l.done:
			if n.ctx.Err() == nil {
				deliverAll()
			}
			return
		}
		deliverAll()
	}
}

// deliverOnReader runs the handler of m on l's reader, the calling
// goroutine, and reports whether it did: when the handler is registered
// as non-blocking (HandleNonBlocking), no message of l waits in its inbox
// and none is being handled. Then m's turn has come, and handing it to
// the deliverer would only cost a wake-up.
func (n *Node) deliverOnReader(l *link, m *appMessage) bool {
	e := n.handler(m.Kind)
	if e.h == nil || !e.nonBlocking || !l.deliverMu.TryLock() {
		return false
	}
	defer l.deliverMu.Unlock()
	if !l.inbox.empty() {
		return false
	}
	e.h(l.peer.Alias, m.Payload)
	return true
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
