package pending

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// fill admits n connections from source into tab.
func fill(t *testing.T, tab *Table, n int, source string) []*Conn {
	t.Helper()
	var held []*Conn
	for range n {
		local, remote := net.Pipe()
		t.Cleanup(func() { local.Close(); remote.Close() })
		p, err := tab.Admit(context.Background(), addrConn{Conn: local, remote: &net.TCPAddr{IP: net.ParseIP(source), Port: 1}})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, p)
	}
	return held
}

func pipeFrom(t *testing.T, source string) net.Conn {
	local, remote := net.Pipe()
	t.Cleanup(func() { local.Close(); remote.Close() })
	return addrConn{Conn: local, remote: &net.TCPAddr{IP: net.ParseIP(source), Port: 1}}
}

// TestGraceProtectsTheYoung: a connection within its grace is not closed
// for a newcomer, even from its own address; the newcomer waits.
func TestGraceProtectsTheYoung(t *testing.T) {
	tab := New(4, 4)
	tab.grace = time.Hour
	held := fill(t, tab, 4, "10.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := tab.Admit(ctx, pipeFrom(t, "10.0.0.1")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Admit on a table of young connections: %v, want it to wait until the context ends", err)
	}
	for i, p := range held {
		if tab.Done(p) != nil {
			t.Errorf("connection %d was closed within its grace", i)
		}
	}
}

// TestAdmitWaitsForALeaver: a table full of connections that showed
// progress admits the next one as soon as one of them leaves.
func TestAdmitWaitsForALeaver(t *testing.T) {
	tab := New(3, 3)
	tab.grace = 0
	held := fill(t, tab, 3, "10.0.0.1")
	for _, p := range held {
		p.Progress()
	}
	admitted := make(chan error, 1)
	go func() {
		_, err := tab.Admit(context.Background(), pipeFrom(t, "10.0.0.2"))
		admitted <- err
	}()
	select {
	case err := <-admitted:
		t.Fatalf("admitted into a full table of progressed connections: %v", err)
	case <-time.After(20 * time.Millisecond): // a bound on a wrong answer, not a synchronisation
	}
	tab.Done(held[1])
	select {
	case err := <-admitted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not admitted after a connection left")
	}
	for i, p := range held {
		if p.evicted != nil {
			t.Errorf("progressed connection %d was evicted: %v", i, p.evicted)
		}
	}
	if tab.Len() != 3 {
		t.Errorf("table holds %d, want 3", tab.Len())
	}
}

// TestGraceEnds: once the oldest idle connection's grace is over, the
// waiting newcomer takes its place, not before.
func TestGraceEnds(t *testing.T) {
	const grace = 30 * time.Millisecond
	tab := New(2, 2)
	tab.grace = grace
	held := fill(t, tab, 2, "10.0.0.1")
	start := time.Now()
	if _, err := tab.Admit(context.Background(), pipeFrom(t, "10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < grace/2 {
		t.Errorf("admitted after %v, within the grace of %v", waited, grace)
	}
	if !errors.Is(tab.Done(held[0]), ErrTableFull) || tab.Done(held[1]) != nil {
		t.Errorf("the oldest should have made room: %v, %v", held[0].evicted, held[1].evicted)
	}
}

// TestStalledClosedAfterIdle: a connection that showed progress is kept
// for its stall grace; past it, it is closed to make room only when no
// idle connection may be.
func TestStalledClosedAfterIdle(t *testing.T) {
	tab := New(3, 3)
	tab.grace, tab.stallGrace = 0, time.Hour
	held := fill(t, tab, 3, "10.0.0.1")
	held[0].Progress() // within its stall grace
	held[1].Progress()
	tab.stallGrace = 0 // both stalled now, and the idle one past its grace
	if _, err := tab.Admit(context.Background(), pipeFrom(t, "10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	if held[2].evicted == nil || held[0].evicted != nil || held[1].evicted != nil {
		t.Fatalf("the idle connection should go first: %v, %v, %v", held[0].evicted, held[1].evicted, held[2].evicted)
	}
	tab.grace = time.Hour // the newcomer is idle within its grace
	if _, err := tab.Admit(context.Background(), pipeFrom(t, "10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	if held[0].evicted == nil || held[1].evicted != nil {
		t.Errorf("then the oldest stalled one: %v, %v", held[0].evicted, held[1].evicted)
	}
	tab.stallGrace = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := tab.Admit(ctx, pipeFrom(t, "10.0.0.2")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("admitted while every connection was within its grace: %v", err)
	}
}
