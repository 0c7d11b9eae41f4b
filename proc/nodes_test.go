package proc

import (
	"errors"
	"testing"
	"time"
)

// A slot is assigned on first sight and kept; a node's new run gets a
// new slot and its earlier run's slot is marked gone; an earlier run seen
// after a later one is gone at once.
func TestNodesSlots(t *testing.T) {
	n := NewNodes()
	b1 := NodeRef{Alias: "b", Incarnation: 100}
	s1, err := n.Slot(b1)
	if err != nil || s1 != 1 {
		t.Fatalf("first slot %d, %v; want 1", s1, err)
	}
	if again, _ := n.Slot(b1); again != s1 {
		t.Fatalf("the same run got slot %d, then %d", s1, again)
	}
	b2 := NodeRef{Alias: "b", Incarnation: 200}
	s2, _ := n.Slot(b2)
	if s2 == s1 {
		t.Fatal("a restarted node got its old slot")
	}
	if _, current, _ := n.Ref(s1); current {
		t.Error("the old run's slot is not marked gone")
	}
	if ref, current, ok := n.Ref(s2); !ok || !current || ref != b2 {
		t.Errorf("Ref(%d) = %v, %v, %v; want %v, current", s2, ref, current, ok, b2)
	}
	s0, _ := n.Slot(NodeRef{Alias: "b", Incarnation: 50})
	if _, current, _ := n.Ref(s0); current {
		t.Error("an earlier run seen late is current")
	}
	if _, _, ok := n.Ref(200); ok {
		t.Error("a slot never assigned has a ref")
	}
	if slot := n.MarkGone(b2); slot != s2 {
		t.Errorf("MarkGone returned %d, want %d", slot, s2)
	}
}

// With all 255 slots taken, a slot gone for SlotReuseAfter is reused;
// otherwise Slot fails with ErrNoSlot.
func TestNodesFull(t *testing.T) {
	n := NewNodes()
	now := time.Unix(1000, 0)
	n.now = func() time.Time { return now }
	for i := range MaxNodeSlots {
		if _, err := n.Slot(NodeRef{Alias: "m", Incarnation: uint64(i + 1)}); err != nil {
			t.Fatalf("slot %d: %v", i+1, err)
		}
	}
	// Every run but the last is gone (each newer one marked the one before).
	next := NodeRef{Alias: "x", Incarnation: 1}
	if _, err := n.Slot(next); !errors.Is(err, ErrNoSlot) {
		t.Fatalf("the 256th run: %v, want ErrNoSlot while no slot has been gone long", err)
	}
	now = now.Add(SlotReuseAfter)
	slot, err := n.Slot(next)
	if err != nil || slot != 1 {
		t.Fatalf("after SlotReuseAfter: slot %d, %v; want slot 1, the one gone longest", slot, err)
	}
	if _, ok := n.Lookup(NodeRef{Alias: "m", Incarnation: 1}); ok {
		t.Error("the reused slot's old run still has it")
	}
}

// A process keeps at most MaxRemoteWatchers monitors for other nodes'
// processes; local monitors do not count toward it.
func TestWatchForIsBounded(t *testing.T) {
	s := New(Config{Threads: 1})
	defer s.Close()
	mb := s.Attach("target")
	if err := s.WatchFor(MakePID(0, 999), MakePID(1, 1)); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("WatchFor of no process: %v, want ErrNoProcess", err)
	}
	for i := range MaxRemoteWatchers {
		if err := s.WatchFor(mb.PID(), MakePID(1, uint32(i+1))); err != nil {
			t.Fatalf("monitor %d: %v", i+1, err)
		}
	}
	if err := s.WatchFor(mb.PID(), MakePID(2, 1)); !errors.Is(err, ErrTooManyWatchers) {
		t.Fatalf("monitor past the bound: %v, want ErrTooManyWatchers", err)
	}
	s.DropWatchers(1)
	if err := s.WatchFor(mb.PID(), MakePID(2, 1)); err != nil {
		t.Fatalf("after slot 1's watchers were dropped: %v", err)
	}
}
