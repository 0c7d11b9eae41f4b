package cluster

import (
	"context"
	"errors"
	"sync"
)

// Bounds of a link's send queue. A frame is always accepted when the
// queue is empty, so MaxMessageSize holds even above maxQueuedBytes. The
// link's writer takes every queued frame at once and writes them in one
// system call, so at most twice these bounds are held for a link: the
// queue and the batch being written.
const (
	maxQueuedFrames = 256
	maxQueuedBytes  = 8 << 20
	// localQueueLen bounds application messages a node sends itself.
	localQueueLen = 256
)

// Bounds of a link's inbox: application messages read from the link and
// not yet handled. While it is full the link's reader waits (see
// MessageHandler).
const (
	maxInboxMessages = 256
	maxInboxBytes    = 8 << 20
)

// errGone is what a wait on a link's queue returns when the link ended.
var errGone = errors.New("the link closed")

// boundedQueue is a queue bounded in items and bytes, drained all at once
// by one consumer. An item is always accepted when the queue is empty, so
// a single item may exceed maxBytes. It is safe for concurrent use.
type boundedQueue[T any] struct {
	maxItems, maxBytes int
	size               func(T) int

	mu    sync.Mutex
	items []T
	bytes int
	wake  chan struct{} // has a token when items may wait
	// room is closed, and replaced, when the consumer takes the items and
	// a put waits for room; nil while no put waits.
	room chan struct{}
}

func newBoundedQueue[T any](maxItems, maxBytes int, size func(T) int) *boundedQueue[T] {
	return &boundedQueue[T]{maxItems: maxItems, maxBytes: maxBytes, size: size, wake: make(chan struct{}, 1)}
}

// sendQueue is a link's queue of encoded frames, drained by the link's
// writer. Application messages wait for room (put); the node's own frames
// (probes, gossip, answers) are dropped when it is full (push).
type sendQueue = boundedQueue[[]byte]

func newSendQueue() *sendQueue {
	return newBoundedQueue(maxQueuedFrames, maxQueuedBytes, func(f []byte) int { return len(f) })
}

// addLocked queues item if it fits and reports whether it did; q.mu is
// held.
func (q *boundedQueue[T]) addLocked(item T) bool {
	size := q.size(item)
	if len(q.items) > 0 && (len(q.items) >= q.maxItems || q.bytes+size > q.maxBytes) {
		return false
	}
	q.items = append(q.items, item)
	q.bytes += size
	return true
}

func (q *boundedQueue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push queues item unless the queue is full; it never blocks.
func (q *boundedQueue[T]) push(item T) bool {
	q.mu.Lock()
	ok := q.addLocked(item)
	q.mu.Unlock()
	if ok {
		q.signal()
	}
	return ok
}

// put queues item, waiting while the queue is full until the consumer
// takes what waits, ctx ends (its cause is returned) or gone is closed
// (errGone is returned).
func (q *boundedQueue[T]) put(ctx context.Context, gone <-chan struct{}, item T) error {
	for {
		q.mu.Lock()
		if q.addLocked(item) {
			q.mu.Unlock()
			q.signal()
			return nil
		}
		if q.room == nil {
			q.room = make(chan struct{})
		}
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-gone:
			return errGone
		}
	}
}

// take removes and returns every queued item, and lets waiting puts in.
func (q *boundedQueue[T]) take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items, q.bytes = nil, 0
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
	return items
}

// empty reports whether nothing waits in the queue.
func (q *boundedQueue[T]) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0
}

// maxKeptUnwritten bounds the buffer a link keeps for the unwritten tail
// of a frame between writes, as maxKeptSealBuffer does its seal buffer.
const maxKeptUnwritten = 64 << 10

// writeNow writes frame on l from the calling goroutine and reports
// whether it took the frame: when the link is ready, no write is under
// way, nothing waits in the link's queue, and the connection is a socket
// it can write without waiting. It never waits for the network: the
// socket takes what fits at once (tryWrite), and the rest is left for
// the link's writer, which writes it before any frame queued after it.
// So a message whose link is idle costs no wake-up of the writer, the
// order of frames is kept, and a sender is held up by a slow member only
// as the queue's bounds say (Send).
//
// A write that fails drops the link, as the writer's does; the frame is
// taken, and lost with the link.
func (n *Node) writeNow(l *link, frame []byte) bool {
	if l.raw == nil {
		return false
	}
	select {
	case <-l.readyCh:
	default:
		return false
	}
	if !l.writeMu.TryLock() {
		return false
	}
	// The writer takes the queue under writeMu: an empty queue here means
	// that every frame queued before this one is written.
	if len(l.unwritten) > 0 || !l.queue.empty() {
		l.writeMu.Unlock()
		return false
	}
	err := n.writeNowLocked(l, frame)
	l.writeMu.Unlock()
	if err != nil {
		kind, reason := writeFailure(err, n.cfg.WriteTimeout)
		n.dropLink(l, kind, reason)
	}
	return true
}

// writeNowLocked seals frame if the link is sealed and writes what the
// socket takes at once, keeping the rest in l.unwritten and waking the
// writer for it; the caller holds l.writeMu.
func (n *Node) writeNowLocked(l *link, frame []byte) error {
	data := frame
	if l.seal != nil {
		sealed, err := l.seal.out.seal(l.seal.buf[:0], frame)
		if err != nil {
			return err
		}
		if cap(sealed) <= maxKeptSealBuffer {
			l.seal.buf = sealed[:0]
		}
		data = sealed
	}
	written, err := l.raw.tryWrite(data)
	if err != nil {
		return err
	}
	if written < len(data) {
		l.unwritten = append(l.unwritten[:0], data[written:]...)
		l.queue.signal()
	}
	return nil
}

// writeUnwrittenLocked writes the tail writeNow left, bounded by
// Config.WriteTimeout; the caller holds l.writeMu.
func (n *Node) writeUnwrittenLocked(l *link) error {
	if len(l.unwritten) == 0 {
		return nil
	}
	if err := n.writeBounded(l.conn, func() error {
		_, err := l.conn.Write(l.unwritten)
		return err
	}); err != nil {
		return err
	}
	l.unwritten = l.unwritten[:0]
	if cap(l.unwritten) > maxKeptUnwritten {
		l.unwritten = nil
	}
	return nil
}
