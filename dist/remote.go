package dist

import (
	"errors"
	"fmt"
	"strings"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// Send implements proc.Remote.
func (d *Dist) Send(to proc.PID, msg vm.Message) proc.Backlog {
	box := d.outboxOfSlot(to.Node())
	if box == nil {
		d.stats.noNode.Add(1)
		return nil
	}
	b, ok := box.put(record{op: opMsg, to: to, from: proc.PID(msg.From), msg: msg})
	if !ok {
		d.stats.noNode.Add(1)
	}
	d.markDirty(box)
	return b
}

// owe queues the down notice of target, with reason, for watcher, a
// process of another member whose monitor this node answers at once. It
// is dropped and counted when that member's outbox is full: the member
// asks for it, and must not make this node hold more than the outbox's
// bounds by asking faster than it reads.
func (d *Dist) owe(watcher, target proc.PID, reason proc.Reason) {
	box := d.outboxOfSlot(watcher.Node())
	if box == nil {
		d.stats.noNode.Add(1)
		return
	}
	msg := vm.Message{Kind: vm.MsgDown, Value: int32(reason), From: int32(target)}
	if !box.putIfRoom(record{op: opMsg, to: watcher, from: target, msg: msg}) {
		d.stats.owed.Add(1)
		return
	}
	d.markDirty(box)
}

// markDirty puts box on the list of outboxes that Flush sends.
func (d *Dist) markDirty(box *outbox) {
	if box.dirty.CompareAndSwap(false, true) {
		d.dirtyMu.Lock()
		d.dirty = append(d.dirty, box)
		d.dirtyMu.Unlock()
	}
}

// Flush implements proc.Remote: what the sends, monitors and kills so far
// queued goes to the cluster node now if its queues have room, else to
// the members' flushers.
func (d *Dist) Flush() {
	d.dirtyMu.Lock()
	list := d.dirty
	d.dirty = nil
	d.dirtyMu.Unlock()
	for _, box := range list {
		box.dirty.Store(false)
		box.flushNow()
	}
}

// Monitor implements proc.Remote.
func (d *Dist) Monitor(watcher, target proc.PID) {
	box := d.outboxOfSlot(target.Node())
	if box == nil {
		d.down(watcher, target, proc.NoConnection)
		return
	}
	key := monitorKey{watcher, target}
	d.mu.Lock()
	d.monitors[key]++
	d.mu.Unlock()
	if _, ok := box.put(record{op: opMonitor, to: target, from: watcher}); !ok {
		d.takeMonitor(key)
		d.down(watcher, target, proc.NoConnection)
		return
	}
	d.markDirty(box)
}

// Kill implements proc.Remote.
func (d *Dist) Kill(by, target proc.PID) {
	if box := d.outboxOfSlot(target.Node()); box != nil {
		box.put(record{op: opKill, to: target, from: by})
		d.markDirty(box)
	}
}

// down delivers the down notice of target, for reason, to the local
// watcher.
func (d *Dist) down(watcher, target proc.PID, reason proc.Reason) {
	d.sched.Deliver(watcher, vm.Message{Kind: vm.MsgDown, Value: int32(reason), From: int32(target)})
}

// takeMonitor forgets one monitor of key and reports whether there was one.
func (d *Dist) takeMonitor(key monitorKey) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.monitors[key]
	switch {
	case n == 0:
		return false
	case n == 1:
		delete(d.monitors, key)
	default:
		d.monitors[key] = n - 1
	}
	return true
}

// downAll sends reason 3 for every remote monitor whose target matches,
// and forgets them.
func (d *Dist) downAll(match func(target proc.PID) bool) {
	d.mu.Lock()
	var fire []monitorKey
	var counts []int
	for k, n := range d.monitors {
		if match(k.target) {
			fire, counts = append(fire, k), append(counts, n)
			delete(d.monitors, k)
		}
	}
	d.mu.Unlock()
	for i, k := range fire {
		for range counts[i] {
			d.down(k.watcher, k.target, proc.NoConnection)
		}
	}
}

// outboxOfSlot returns the outbox of the member whose run has node slot
// slot, making it if need be; nil when that run is gone, unknown or not
// linked now.
func (d *Dist) outboxOfSlot(slot int) *outbox {
	ref, current, ok := d.nodes.Ref(slot)
	if !ok || !current {
		return nil
	}
	box, err := d.outboxOf(ref)
	if err != nil {
		return nil
	}
	return box
}

// outboxFor returns the outbox of the member alias as it runs now.
func (d *Dist) outboxFor(alias string) (*outbox, error) {
	inc, ok := d.memberIncarnation(alias)
	if !ok {
		return nil, fmt.Errorf("%q: %w", alias, ErrNoConnection)
	}
	return d.outboxOf(proc.NodeRef{Alias: alias, Incarnation: inc})
}

// outboxOf returns the outbox of ref, which must be the member's run that
// is linked now.
func (d *Dist) outboxOf(ref proc.NodeRef) (*outbox, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	if box := d.outboxes[ref.Alias]; box != nil {
		if box.peer == ref {
			return box, nil
		}
		return nil, fmt.Errorf("%q runs anew: %w", ref.Alias, ErrNoConnection)
	}
	inc, ok := d.members[ref.Alias]
	if !ok {
		inc, ok = d.lookupMemberLocked(ref.Alias)
	}
	if !ok || inc != ref.Incarnation {
		return nil, fmt.Errorf("%q: %w", ref.Alias, ErrNoConnection)
	}
	box := d.newOutbox(ref)
	d.outboxes[ref.Alias] = box
	return box, nil
}

// memberIncarnation returns the incarnation of the linked member alias.
func (d *Dist) memberIncarnation(alias string) (uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if inc, ok := d.members[alias]; ok {
		return inc, true
	}
	return d.lookupMemberLocked(alias)
}

// lookupMemberLocked reads alias's run from the cluster's member list and
// notes it when it is linked (alive or suspect). d.mu is held.
func (d *Dist) lookupMemberLocked(alias string) (uint64, bool) {
	for _, m := range d.node.Members() {
		if m.Alias == alias && !m.Local && (m.State == cluster.StateAlive || m.State == cluster.StateSuspect) {
			d.members[alias] = m.Incarnation
			return m.Incarnation, true
		}
	}
	return 0, false
}

// slotOf returns the node slot of ref, a node run named by a member: 0
// unless it has a slot already or is a member linked now (so a member
// cannot fill the table with runs that do not exist).
func (d *Dist) slotOf(ref proc.NodeRef) int {
	if slot, ok := d.nodes.Lookup(ref); ok {
		return slot
	}
	if inc, ok := d.memberIncarnation(ref.Alias); !ok || inc != ref.Incarnation {
		return 0
	}
	slot, err := d.nodes.Slot(ref)
	if err != nil {
		return 0
	}
	return slot
}

// SlotOfMember returns the node slot of the member alias as it runs now,
// assigning one, or 0 if it is not linked: for a PID a member reported
// by its serial (a spawn's reply, a process listing).
func (d *Dist) SlotOfMember(alias string) int {
	inc, ok := d.memberIncarnation(alias)
	if !ok {
		return 0
	}
	return d.slotOf(proc.NodeRef{Alias: alias, Incarnation: inc})
}

// HandleEvent tells Dist of a change of membership; the node's OnEvent
// must pass every event on. A member that failed, left or closed its link
// loses its outbox (what waited is lost), its pending requests fail, and
// every local monitor of its processes gets reason 3; one that left or
// restarted has its slot marked gone, so its old PIDs reach nothing.
func (d *Dist) HandleEvent(e cluster.Event) {
	ref := proc.NodeRef{Alias: e.Member.Alias, Incarnation: e.Member.Incarnation}
	switch e.Kind {
	case cluster.EventJoined, cluster.EventReconnected:
		d.mu.Lock()
		d.members[ref.Alias] = ref.Incarnation
		d.mu.Unlock()
		d.nodes.Slot(ref) // a new run marks the alias's earlier runs gone
	case cluster.EventRejoined:
		d.memberGone(ref.Alias, true)
		d.mu.Lock()
		d.members[ref.Alias] = ref.Incarnation
		d.mu.Unlock()
		d.nodes.Slot(ref)
	case cluster.EventFailed, cluster.EventLinkClosed:
		d.memberGone(ref.Alias, false)
	case cluster.EventLeft, cluster.EventDropped:
		d.memberGone(ref.Alias, true)
	}
}

// memberGone forgets the member alias's link: its outbox, its requests,
// the monitors of its processes and its watchers of ours. With ended, its
// run is over (left, dropped, restarted): its slot is marked gone.
func (d *Dist) memberGone(alias string, ended bool) {
	d.mu.Lock()
	box := d.outboxes[alias]
	delete(d.outboxes, alias)
	inc, known := d.members[alias]
	delete(d.members, alias)
	delete(d.buckets, alias)
	d.mu.Unlock()
	if box != nil {
		box.stop()
		inc, known = box.peer.Incarnation, true
	}
	d.req.failMember(alias, fmt.Errorf("%q: %w", alias, ErrNoConnection))
	var slots []int
	for i, ref := range d.nodes.Slots() {
		if ref.Alias == alias && (!known || ref.Incarnation <= inc) {
			slots = append(slots, i+1)
		}
	}
	for _, slot := range slots {
		d.sched.DropWatchers(slot)
	}
	d.downAll(func(target proc.PID) bool {
		for _, s := range slots {
			if target.Node() == s {
				return true
			}
		}
		return false
	})
	if ended && known {
		d.nodes.MarkGone(proc.NodeRef{Alias: alias, Incarnation: inc})
	}
}

// registerHandlers registers the frame handlers with the node.
func (d *Dist) registerHandlers() {
	// receiveMsg never waits (a full mailbox drops, its Flush sends
	// without waiting for room), so a node that can runs it on the link's
	// reader, which saves a wake-up a frame.
	if nb, ok := d.node.(nonBlockingHandlers); ok {
		nb.HandleNonBlocking(kindMsg, d.receiveMsg)
	} else {
		d.node.Handle(kindMsg, d.receiveMsg)
	}
	d.node.Handle(kindReq, d.receiveReq)
	d.node.Handle(kindAns, d.receiveAns)
	d.node.Handle(kindRefused, d.receiveRefused)
}

// nonBlockingHandlers is a Cluster that can run a handler that never
// waits on the link's reader (cluster.Node.HandleNonBlocking).
type nonBlockingHandlers interface {
	HandleNonBlocking(kind string, h cluster.MessageHandler)
}

// Unknown is told that the member from does not know the frame kind
// (its cluster.KindUnknown answer): its requests fail with ErrUnsupported.
// It reports whether kind is one of Dist's.
func (d *Dist) Unknown(from, kind string) bool {
	if !strings.HasPrefix(kind, "dist.") {
		return false
	}
	d.noteRefusal(fmt.Sprintf("%q does not know %s", from, termtext.Cut(kind, 64)))
	d.req.failMember(from, fmt.Errorf("%q, %s: %w", from, termtext.Cut(kind, 64), ErrUnsupported))
	return true
}

// refuse tells the member from that its frame of kind was refused.
func (d *Dist) refuse(from, kind string, err error) {
	d.stats.refused.Add(1)
	text := errText(err)
	d.noteRefusal(fmt.Sprintf("refused %s from %q: %s", kind, from, text))
	if box, e := d.outboxFor(from); e == nil {
		box.control(kindRefused, encodeFrame(&refusedFrame{Kind: kind, Reason: text}))
	}
}

// receiveRefused notes a member's refusal of one of our frames.
func (d *Dist) receiveRefused(from string, payload []byte) {
	var f refusedFrame
	if err := frameCodec.Decode(payload, &f); err != nil {
		return // never answer a refusal with a refusal
	}
	d.noteRefusal(fmt.Sprintf("%q refused our %s: %s", from, termtext.Cut(f.Kind, 64), termtext.Cut(f.Reason, maxRefusalText)))
}

// receiveMsg handles a batch of records from the member from.
func (d *Dist) receiveMsg(from string, payload []byte) {
	f, err := decodeMsgFrame(payload)
	if err != nil {
		d.refuse(from, kindMsg, err)
		return
	}
	self := d.selfIncarnation()
	if f.To != self {
		d.stats.stale.Add(1)
		return
	}
	sender := proc.NodeRef{Alias: from, Incarnation: f.From}
	tr := translator{d: d, sender: sender, self: d.Self(), table: f.Nodes}
	if tr.slot(refSender) <= 0 {
		d.stats.stale.Add(1) // an earlier or unknown run of the member
		return
	}
	// The processes the frame wakes run here, a slice each, while a
	// scheduler thread idles, rather than wake one (proc.Runner).
	run := d.sched.NewRunner()
	eachRecord(f, func(rec *wireRecord) { d.apply(&tr, run, rec) })
	d.stats.received.Add(uint64(f.N))
	d.Flush() // the answers to monitors of processes that do not exist
	run.Release()
}

// apply carries out one record from tr's sender.
func (d *Dist) apply(tr *translator, run *proc.Runner, rec *wireRecord) {
	to := proc.MakePID(0, rec.to)
	from := tr.pid(rec.from)
	switch rec.op {
	case opMsg:
		msg := vm.Message{Kind: rec.kind, Value: rec.value, From: int32(from)}
		switch rec.kind {
		case vm.MsgPID:
			msg.Value = int32(tr.pid(rec.valueRef))
		case vm.MsgBytes:
			msg.Bytes = append(make([]byte, 0, len(rec.bytes)), rec.bytes...)
		case vm.MsgDown:
			if !d.takeMonitor(monitorKey{to, from}) {
				return // not asked for, or reported already
			}
		}
		run.Deliver(to, msg)
	case opMonitor:
		if from == 0 || from.Node() == 0 {
			return
		}
		switch err := d.sched.WatchFor(to, from); {
		case errors.Is(err, proc.ErrNoProcess):
			d.owe(from, to, proc.NoProcess)
		case err != nil: // the monitor cannot be kept: the watcher hears so at once
			d.owe(from, to, proc.NoConnection)
		}
	case opKill:
		_ = d.sched.KillFor(tr.sender.Alias, to) // a refused kill is not reported to a process
	}
}

// translator turns pidrefs of one frame into PIDs of this node.
type translator struct {
	d      *Dist
	sender proc.NodeRef
	self   proc.NodeRef
	table  []wireNode
	slots  []int // by pidref index; -1 not yet looked up
}

// slot returns this node's slot of the pidref index idx, 0 meaning this
// node; -1 for none.
func (t *translator) slot(idx uint64) int {
	if idx == refReceiver {
		return 0
	}
	if t.slots == nil {
		t.slots = make([]int, refTable+len(t.table))
		for i := range t.slots {
			t.slots[i] = -2
		}
	}
	if s := t.slots[idx]; s != -2 {
		return s
	}
	ref := t.sender
	if idx >= refTable {
		n := t.table[idx-refTable]
		ref = proc.NodeRef{Alias: n.Alias, Incarnation: n.Inc}
	}
	s := -1
	if ref == t.self {
		s = 0
	} else if slot := t.d.slotOf(ref); slot != 0 {
		s = slot
	}
	t.slots[idx] = s
	return s
}

// pid returns the PID of this node for a pidref, 0 if it names none.
func (t *translator) pid(ref uint64) proc.PID {
	if ref == 0 {
		return 0
	}
	s := t.slot(ref >> serialBits)
	if s < 0 {
		return 0
	}
	return proc.MakePID(s, uint32(ref&serialMask))
}
