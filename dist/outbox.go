package dist

import (
	"context"
	"errors"
	"sync"

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

// outbox holds what waits to go to one member, and runs its flusher: the
// goroutine that packs the records into frames and sends them, in order.
// The records are bounded (Config.OutboxLimit, OutboxBytes): a sender
// that fills it waits for room (Backlog), while the flusher sends.
type outbox struct {
	d    *Dist
	peer proc.NodeRef

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // a token: something to send

	mu      sync.Mutex
	recs    []record
	spare   []record
	bytes   int
	ctl     []controlFrame
	waiters []func()
	gone    bool // the member went: nothing more is queued
}

// newOutbox makes the outbox of peer and starts its flusher.
func (d *Dist) newOutbox(peer proc.NodeRef) *outbox {
	b := &outbox{d: d, peer: peer, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	b.ctx, b.cancel = context.WithCancel(d.ctx)
	d.wg.Add(1)
	go b.flush()
	return b
}

// put queues rec. It returns the outbox as a Backlog when it is full
// (the record is queued all the same), nil otherwise, and false when the
// member has gone (nothing queued).
func (b *outbox) put(rec record) (proc.Backlog, bool) {
	b.mu.Lock()
	if b.gone {
		b.mu.Unlock()
		return nil, false
	}
	b.recs = append(b.recs, rec)
	b.bytes += len(rec.msg.Bytes)
	full := b.fullLocked()
	first := len(b.recs) == 1
	b.mu.Unlock()
	if first {
		b.signal()
	}
	if full {
		return b, true
	}
	return nil, true
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

// control queues an encoded frame of kind; false when the member has
// gone or too many wait.
func (b *outbox) control(kind string, payload []byte) bool {
	b.mu.Lock()
	ok := !b.gone && len(b.ctl) < maxControl
	if ok {
		b.ctl = append(b.ctl, controlFrame{kind, payload})
	}
	b.mu.Unlock()
	if ok {
		b.signal()
	}
	return ok
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
	b.ctl = nil
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

// flush is the flusher: it sends what waits, in order, until stopped.
func (b *outbox) flush() {
	defer b.d.wg.Done()
	defer close(b.done)
	bld := builder{peer: b.peer, nodes: b.d.nodes}
	limit := b.d.frameLimit()
	for {
		select {
		case <-b.wake:
		case <-b.ctx.Done():
			return
		}
		for {
			ctl, recs := b.take()
			if len(ctl) == 0 && len(recs) == 0 {
				break
			}
			for _, c := range ctl {
				b.send(c.kind, c.payload, 0)
			}
			b.sendRecords(&bld, recs, limit)
			b.mu.Lock()
			if b.spare == nil && cap(recs) <= 4*b.d.cfg.OutboxLimit {
				clear(recs)
				b.spare = recs[:0]
			}
			b.mu.Unlock()
			if b.ctx.Err() != nil {
				return
			}
		}
	}
}

// sendRecords packs recs into frames of at most limit bytes and sends
// them.
func (b *outbox) sendRecords(bld *builder, recs []record, limit int) {
	self := b.d.selfIncarnation()
	bld.reset(self)
	for i := range recs {
		rec := &recs[i]
		if recordSize(rec) > limit {
			b.d.stats.tooLarge.Add(1)
			continue
		}
		if bld.f.N > 0 && bld.size()+recordSize(rec) > limit {
			b.send(kindMsg, encodeFrame(&bld.f), int(bld.f.N))
			bld.reset(self)
		}
		bld.add(rec)
	}
	if bld.f.N > 0 {
		b.send(kindMsg, encodeFrame(&bld.f), int(bld.f.N))
	}
}

// send sends one frame; records counts the messages in it. A failure
// loses them (the link broke, or the member went): the member's events
// tell the monitors.
func (b *outbox) send(kind string, payload []byte, records int) {
	err := b.d.node.Send(b.ctx, b.peer.Alias, kind, payload)
	switch {
	case err == nil:
		b.d.stats.frames.Add(1)
		b.d.stats.sent.Add(uint64(records))
	case errors.Is(err, cluster.ErrMessageTooLarge):
		b.d.stats.tooLarge.Add(uint64(records))
	default:
		b.d.stats.linkDown.Add(uint64(records))
	}
}

// frameLimit is the most bytes of records a frame carries: the cluster's
// message limit less room for the frame's table and fields, and at most
// 256 KiB, so that one member's big batch does not hold up its link long.
func (d *Dist) frameLimit() int {
	return min(d.node.MaxMessageSize()-(maxFrameNodes*80+64), 256<<10)
}
