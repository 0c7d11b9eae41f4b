package cluster

import (
	"fmt"
	"sync"
	"time"
)

// EventKind says what happened to a member.
type EventKind int

// Event kinds.
const (
	// EventJoined: a node joined (a link to it was established).
	EventJoined EventKind = iota + 1
	// EventLinkClosed: the link to a member closed (the peer closed it, or
	// it broke the protocol) and the member was dropped.
	EventLinkClosed
	// EventLeft: a member left on purpose and was dropped.
	EventLeft
	// EventFailed: a member was suspected and did not refute it in
	// time (it answered no probe, direct or indirect), or did not read
	// for Config.WriteTimeout, and was dropped.
	EventFailed
	// EventRejoined: a member restarted under the same alias and node ID
	// and replaced its old entry.
	EventRejoined
	// EventReconnected: a member dropped after a failure was reached again.
	EventReconnected
	// EventRefused: an incoming connection was refused or broke the
	// handshake; Err says why. Member holds what is known of the peer.
	// Refusals are summarised: see Event.Count.
	EventRefused
	// EventDropped: a failed member was not reached again within
	// Config.ReconnectFor and is no longer listed.
	EventDropped
	// EventJoinProgress: the members a Join links in the background,
	// counted so far (Event.Join); sent at most once a second. Member is
	// the member joined through.
	EventJoinProgress
	// EventJoinDone: the background linking after a Join ended;
	// Event.Join counts the members linked and names the first few
	// unreachable ones. Member is the member joined through.
	EventJoinDone
)

// String returns the kind as a short phrase, such as "joined".
func (k EventKind) String() string {
	switch k {
	case EventJoined:
		return "joined"
	case EventLinkClosed:
		return "link closed"
	case EventLeft:
		return "left"
	case EventFailed:
		return "failed"
	case EventRejoined:
		return "rejoined"
	case EventReconnected:
		return "reconnected"
	case EventRefused:
		return "refused"
	case EventDropped:
		return "dropped"
	case EventJoinProgress:
		return "linking"
	case EventJoinDone:
		return "linked"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports a change of membership, or a refused connection. Its
// fields are as the node holds them: the alias, host and node ID a peer
// announced and the text of Err (which may quote a peer) are raw, not
// escaped. Whoever shows an event escapes them there (the shell with
// internal/termtext, a log with its handler's quoting); the cluster
// prints nothing.
type Event struct {
	Kind   EventKind // what happened
	Member Member    // to whom; for EventRefused, what is known of the peer
	Err    error     // the reason, when there is one
	Time   time.Time // when the node noticed
	// Count, for EventRefused, is how many connections the event stands
	// for: 1 for a refusal reported at once, more for a summary (then Err
	// is a *RefusalSummary and Member is empty).
	Count int
	// Join, for EventJoinProgress and EventJoinDone, counts the
	// background linking after a Join.
	Join JoinProgress
}

// maxQueuedRefusals bounds how many EventRefused wait for delivery; more
// are dropped so a connection flood cannot grow memory without bound.
const maxQueuedRefusals = 256

// eventQueue delivers events in order from one goroutine. Pushing never
// blocks, so the node may push while it holds its lock.
type eventQueue struct {
	handler func(Event)

	mu       sync.Mutex
	pending  []Event
	refusals int
	closed   bool
	wake     chan struct{}
	done     chan struct{}
}

func newEventQueue(handler func(Event)) *eventQueue {
	return &eventQueue{handler: handler, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// push queues e for delivery.
func (q *eventQueue) push(e Event) {
	if q.handler == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if e.Kind == EventRefused {
		if q.refusals >= maxQueuedRefusals {
			return
		}
		q.refusals++
	}
	q.pending = append(q.pending, e)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run delivers events until stop is called and the queue is drained.
func (q *eventQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		batch, closed := q.pending, q.closed
		q.pending, q.refusals = nil, 0
		q.mu.Unlock()
		for _, e := range batch {
			q.handler(e)
		}
		if closed && len(batch) == 0 {
			return
		}
		if !closed {
			<-q.wake
		}
	}
}

// stop makes run deliver what is queued and return; it waits for that.
func (q *eventQueue) stop() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}
