package proc

import (
	"errors"
	"sync"
	"time"
)

// NodeRef names one run of a cluster member: its alias and its
// incarnation (cluster.Member's), which changes when the node restarts.
// A PID of another node holds the slot of its NodeRef in this node's
// Nodes table, so a PID of a node's earlier run never reaches its new run.
type NodeRef struct {
	Alias       string
	Incarnation uint64
}

// MaxNodeSlots is how many other nodes' runs a node can tell apart:
// slots 1 to 255 (slot 0 is the node itself).
const MaxNodeSlots = maxNode

// SlotReuseAfter is how long a slot must have been gone before Nodes
// hands it to another node's run when all MaxNodeSlots are taken.
const SlotReuseAfter = 10 * time.Minute

// ErrNoSlot is returned by Nodes.Slot when every slot is taken by a node
// run that is not gone, or gone for less than SlotReuseAfter.
var ErrNoSlot = errors.New("no free node slot: this node has seen 255 other node runs")

// Nodes is this node's table of other nodes' runs: slot (1 to 255) <->
// NodeRef. A slot is assigned on the first sight of a NodeRef (a PID of
// that run arriving, a spawn there, a member joining) and keeps naming
// that run; a node that restarts under the same alias has a new
// incarnation and gets a new slot, and the old slot is marked gone (see
// MarkGone): a PID holding it then reaches nothing.
//
// When all 255 slots are taken, the slot gone the longest (at least
// SlotReuseAfter ago) is given to the new run; a PID of the old run still
// held somewhere then names a process of the new run with that serial,
// as Erlang's PIDs do once the creation numbers of a node name wrap.
// With no such slot, Slot returns ErrNoSlot and the PID reads as 0 (no
// process): messages to it are dropped, a monitor of it says "no such
// process".
//
// Its methods are safe for concurrent use.
type Nodes struct {
	mu     sync.RWMutex
	slots  [MaxNodeSlots + 1]nodeSlot // index 0 unused
	byRef  map[NodeRef]int
	used   int                // slots handed out so far, 0 to 255
	latest map[string]NodeRef // the newest run seen of each alias
	now    func() time.Time   // time.Now; tests change it
}

// nodeSlot is one entry of Nodes.
type nodeSlot struct {
	ref    NodeRef
	gone   bool
	goneAt time.Time
}

// NewNodes returns an empty table.
func NewNodes() *Nodes {
	return &Nodes{byRef: make(map[NodeRef]int), latest: make(map[string]NodeRef), now: time.Now}
}

// Slot returns the slot of ref, assigning one on its first sight. A ref
// of an alias whose newer run has been seen already is such an old run:
// it gets a slot marked gone, so that its PIDs reach nothing.
func (t *Nodes) Slot(ref NodeRef) (int, error) {
	t.mu.RLock()
	slot, ok := t.byRef[ref]
	t.mu.RUnlock()
	if ok {
		return slot, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if slot, ok := t.byRef[ref]; ok {
		return slot, nil
	}
	slot = t.freeLocked()
	if slot == 0 {
		return 0, ErrNoSlot
	}
	t.slots[slot] = nodeSlot{ref: ref}
	t.byRef[ref] = slot
	if prev, ok := t.latest[ref.Alias]; !ok || prev.Incarnation < ref.Incarnation {
		t.latest[ref.Alias] = ref
		if ok {
			t.markGoneLocked(prev)
		}
	} else if prev.Incarnation > ref.Incarnation {
		t.markGoneLocked(ref)
	}
	return slot, nil
}

// freeLocked returns a slot to assign, or 0.
func (t *Nodes) freeLocked() int {
	if t.used < MaxNodeSlots {
		t.used++
		return t.used
	}
	best, cutoff := 0, t.now().Add(-SlotReuseAfter)
	for i := 1; i <= MaxNodeSlots; i++ {
		s := &t.slots[i]
		if s.gone && !s.goneAt.After(cutoff) && (best == 0 || s.goneAt.Before(t.slots[best].goneAt)) {
			best = i
		}
	}
	if best != 0 {
		delete(t.byRef, t.slots[best].ref)
	}
	return best
}

// Lookup returns the slot of ref, if it has one, without assigning.
func (t *Nodes) Lookup(ref NodeRef) (int, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	slot, ok := t.byRef[ref]
	return slot, ok
}

// Ref returns the NodeRef of slot and whether that run is still current
// (not gone). ok is false for a slot never assigned.
func (t *Nodes) Ref(slot int) (ref NodeRef, current, ok bool) {
	if slot < 1 || slot > MaxNodeSlots {
		return NodeRef{}, false, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if slot > t.used {
		return NodeRef{}, false, false
	}
	s := t.slots[slot]
	return s.ref, !s.gone, true
}

// MarkGone marks the run ref gone (its node failed, left or restarted):
// PIDs of its slot reach nothing from now on. It reports the slot, 0 if
// ref has none.
func (t *Nodes) MarkGone(ref NodeRef) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.markGoneLocked(ref)
}

func (t *Nodes) markGoneLocked(ref NodeRef) int {
	slot, ok := t.byRef[ref]
	if !ok {
		return 0
	}
	if s := &t.slots[slot]; !s.gone {
		s.gone, s.goneAt = true, t.now()
	}
	return slot
}

// Slots returns the assigned slots and their runs, slot i at index i-1.
func (t *Nodes) Slots() []NodeRef {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]NodeRef, t.used)
	for i := range out {
		out[i] = t.slots[i+1].ref
	}
	return out
}
