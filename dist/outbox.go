package dist

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// record is one message, monitor or kill waiting in an outbox.
type record struct {
	op   uint8
	to   proc.PID // the target, a process of the member
	from proc.PID // the sender, watcher or killer, a PID of this node's table
	msg  vm.Message
}

// controlFrame is a request, answer or refusal waiting in an outbox,
// encoded already.
type controlFrame struct {
	kind    string
	payload []byte
}

// maxControl bounds the control frames waiting for one member: requests
// are bounded by the pending table, answers by the answer rate; past
// this, more are dropped (a request then times out).
const maxControl = 4096

// outbox holds what waits to go to one member, and sends it in order.
// The records are bounded (Config.OutboxLimit, OutboxBytes): a sender
// that fills it waits for room (Backlog).
//
// A process's sends only queue; when its slice ends the scheduler thread
// calls Dist.Flush, which packs what queued into frames and hands them to
// the cluster node right there if its queue has room (flushNow): a reply
// goes out without waking another goroutine, and a stream goes out a
// slice's worth of messages a frame. What does not fit, and what others
// send, the member's flusher goroutine sends, waiting for room.
type outbox struct {
	d    *Dist
	peer proc.NodeRef

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // a token: something to send
	dirty  atomic.Bool   // on Dist's list of outboxes to flush

	// sendMu is held while taking and sending, by flushNow or the
	// flusher: one at a time, so frames go in the order taken.
	sendMu sync.Mutex
	bld    builder        // under sendMu
	stuck  []pendingFrame // frames the cluster's queue had no room for; under sendMu

	mu      sync.Mutex
	recs    []record
	spare   []record
	bytes   int
	ctl     []controlFrame
	ctlSize int // bytes of ctl's payloads, bounded by Config.OutboxBytes
	waiters []func()
	gone    bool // the member went: nothing more is queued
}

// pendingFrame is a frame packed and not yet taken by the cluster node.
type pendingFrame struct {
	kind    string
	payload []byte
	records int
}

// newOutbox makes the outbox of peer and starts its flusher.
func (d *Dist) newOutbox(peer proc.NodeRef) *outbox {
	b := &outbox{d: d, peer: peer, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	b.bld = builder{peer: peer, nodes: d.nodes}
	b.ctx, b.cancel = context.WithCancel(d.ctx)
	d.wg.Add(1)
	go b.flush()
	return b
}

// put queues rec. It returns the outbox as a Backlog when it is full
// (the record is queued all the same), nil otherwise, and false when the
// member has gone (nothing queued). The caller flushes: Dist.markDirty
// for a process's send, flushNow for any other.
func (b *outbox) put(rec record) (proc.Backlog, bool) {
	b.mu.Lock()
	if b.gone {
		b.mu.Unlock()
		return nil, false
	}
	b.recs = append(b.recs, rec)
	b.bytes += len(rec.msg.Bytes)
	full := b.fullLocked()
	b.mu.Unlock()
	if full {
		return b, true
	}
	return nil, true
}

// putIfRoom queues rec only while the outbox is not full, and reports
// whether it did: for what this node owes a member on its own behalf (a
// down notice for its monitor of a process that does not exist), which
// must not grow without bound when the member asks faster than it reads.
func (b *outbox) putIfRoom(rec record) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gone || b.fullLocked() {
		return false
	}
	b.recs = append(b.recs, rec)
	b.bytes += len(rec.msg.Bytes)
	return true
}

func (b *outbox) fullLocked() bool {
	return len(b.recs) >= b.d.cfg.OutboxLimit || b.bytes >= b.d.cfg.OutboxBytes
}

func (b *outbox) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// errControlFull: too many control frames, or bytes of them
// (Config.OutboxBytes), wait for one member.
var errControlFull = errors.New("too many requests and answers waiting to go to the member")

// control queues an encoded frame of kind for the flusher. It fails with
// ErrNoConnection when the member has gone, errControlFull when too many
// frames or bytes wait.
func (b *outbox) control(kind string, payload []byte) error {
	b.mu.Lock()
	var err error
	switch {
	case b.gone:
		err = ErrNoConnection
	case len(b.ctl) >= maxControl || b.ctlSize+len(payload) > b.d.cfg.OutboxBytes:
		err = errControlFull
	default:
		b.ctl = append(b.ctl, controlFrame{kind, payload})
		b.ctlSize += len(payload)
	}
	b.mu.Unlock()
	if err == nil {
		b.signal()
	}
	return err
}

// Wait implements proc.Backlog.
func (b *outbox) Wait(wake func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.fullLocked() || b.gone {
		return false
	}
	b.waiters = append(b.waiters, wake)
	return true
}

// take removes what waits: the control frames and the records. It wakes
// the senders waiting for room.
func (b *outbox) take() ([]controlFrame, []record) {
	b.mu.Lock()
	ctl, recs := b.ctl, b.recs
	b.ctl, b.ctlSize = nil, 0
	b.recs, b.spare = b.spare[:0], nil
	b.bytes = 0
	waiters := b.waiters
	b.waiters = nil
	b.mu.Unlock()
	for _, w := range waiters {
		w()
	}
	return ctl, recs
}

// recycle keeps recs, sent, for the next batch.
func (b *outbox) recycle(recs []record) {
	if cap(recs) > 4*b.d.cfg.OutboxLimit {
		return
	}
	clear(recs)
	b.mu.Lock()
	if b.spare == nil {
		b.spare = recs[:0]
	}
	b.mu.Unlock()
}

// stop ends the flusher and waits for it; what waits is dropped and the
// waiting senders woken.
func (b *outbox) stop() {
	b.mu.Lock()
	b.gone = true
	b.mu.Unlock()
	b.cancel()
	<-b.done
	b.take()
}

// flushNow sends what waits without waiting: the frames the cluster's
// queue has no room for are left to the flusher. It runs on the caller's
// goroutine, a scheduler thread's or a handler's.
func (b *outbox) flushNow() {
	if !b.sendMu.TryLock() {
		b.signal() // the flusher is sending: it looks again after
		return
	}
	defer b.sendMu.Unlock()
	if len(b.stuck) > 0 {
		b.signal()
		return
	}
	ctl, recs := b.take()
	frames := b.pack(ctl, recs)
	b.recycle(recs)
	for i, f := range frames {
		if !b.sendWithin(closedCtx, f) {
			b.stuck = frames[i:]
			b.signal()
			return
		}
	}
}

// flush is the flusher: it sends what waits, in order, until stopped.
func (b *outbox) flush() {
	defer b.d.wg.Done()
	defer close(b.done)
	for {
		select {
		case <-b.wake:
		case <-b.ctx.Done():
			return
		}
		for b.flushOnce() {
			if b.ctx.Err() != nil {
				return
			}
		}
	}
}

// flushOnce sends the stuck frames and what waits, waiting for room, and
// reports whether there was anything.
func (b *outbox) flushOnce() bool {
	b.sendMu.Lock()
	defer b.sendMu.Unlock()
	frames := b.stuck
	b.stuck = nil
	ctl, recs := b.take()
	if len(frames) == 0 && len(ctl) == 0 && len(recs) == 0 {
		return false
	}
	frames = append(frames, b.pack(ctl, recs)...)
	b.recycle(recs)
	for _, f := range frames {
		b.sendWithin(b.ctx, f)
	}
	return true
}

// pack makes the frames of ctl and recs, in order.
func (b *outbox) pack(ctl []controlFrame, recs []record) []pendingFrame {
	frames := make([]pendingFrame, 0, len(ctl)+1)
	for _, c := range ctl {
		frames = append(frames, pendingFrame{kind: c.kind, payload: c.payload})
	}
	if len(recs) == 0 {
		return frames
	}
	limit := b.d.frameLimit()
	self := b.d.selfIncarnation()
	bld := &b.bld
	bld.reset(self)
	for i := range recs {
		rec := &recs[i]
		if recordSize(rec) > limit {
			b.d.stats.tooLarge.Add(1)
			continue
		}
		if bld.f.N > 0 && bld.size()+recordSize(rec) > limit {
			frames = append(frames, pendingFrame{kindMsg, encodeFrame(&bld.f), int(bld.f.N)})
			bld.reset(self)
		}
		bld.add(rec)
	}
	if bld.f.N > 0 {
		frames = append(frames, pendingFrame{kindMsg, encodeFrame(&bld.f), int(bld.f.N)})
	}
	return frames
}

// closedCtx is a done context: a Send with it never waits for room.
var closedCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// sendWithin hands one frame to the cluster node, waiting for room until
// ctx is done. It reports false when there was no room in time, so that
// the frame can be sent later; a failure of any other kind loses the
// frame's messages (the link broke, or the member went: the member's
// events tell the monitors).
func (b *outbox) sendWithin(ctx context.Context, f pendingFrame) bool {
	err := b.d.node.Send(ctx, b.peer.Alias, f.kind, f.payload)
	switch {
	case err == nil:
		b.d.stats.frames.Add(1)
		b.d.stats.sent.Add(uint64(f.records))
	case ctx == closedCtx && errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, cluster.ErrMessageTooLarge):
		b.d.stats.tooLarge.Add(uint64(f.records))
	default:
		b.d.stats.linkDown.Add(uint64(f.records))
	}
	return true
}

// frameLimit is the most bytes of records a frame carries: the cluster's
// message limit less room for the frame's table and fields, and at most
// 256 KiB, so that one member's big batch does not hold up its link long.
func (d *Dist) frameLimit() int {
	return min(d.node.MaxMessageSize()-(maxFrameNodes*80+64), 256<<10)
}
