package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestSuspicionTimeoutGrowsWithLogNAndFallsWithConfirmations(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	for _, tt := range []struct {
		members, confirmations int
		want                   time.Duration
	}{
		{2, 0, 2 * time.Second},         // log10 below 1 counts as 1
		{2, 3, 500 * time.Millisecond},  // IndirectChecks confirmations: the least
		{10, 9, 500 * time.Millisecond}, // more than k: still the least
		{50, 0, 3397940008 * time.Nanosecond},
		{50, 3, 849485002 * time.Nanosecond},
		{100, 3, time.Second},
	} {
		if got := suspicionTimeout(cfg, tt.members, tt.confirmations); got != tt.want {
			t.Errorf("%d members, %d confirmations: %v, want %v", tt.members, tt.confirmations, got, tt.want)
		}
	}
	prev := suspicionTimeout(cfg, 50, 0)
	for c := 1; c <= 3; c++ {
		got := suspicionTimeout(cfg, 50, c)
		if got >= prev {
			t.Errorf("%d confirmations: %v, not below %v", c, got, prev)
		}
		prev = got
	}
}

func TestProbeRoundGoesIndirectThenSuspects(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	t0 := time.Unix(1000, 0)
	b := memberInfo{Alias: "b", Incarnation: 1}
	r := newProbeRounds()
	var heardAt time.Time
	heard := func(memberInfo) time.Time { return heardAt }
	seq := r.start(b, t0, time.Time{})
	if a, next := r.due(t0.Add(timeout-1), timeout, heard); len(a.indirect)+len(a.suspect) != 0 || !next.Equal(t0.Add(timeout)) {
		t.Errorf("before the probe timeout: %+v, next %v", a, next)
	}
	a, next := r.due(t0.Add(timeout), timeout, heard)
	if !slices.Equal(a.indirect, []uint64{seq}) || len(a.suspect) != 0 || !next.Equal(t0.Add(3*timeout)) {
		t.Errorf("at the probe timeout: %+v, next %v; want indirect probes", a, next)
	}
	if a, _ := r.due(t0.Add(2*timeout), timeout, heard); len(a.indirect)+len(a.suspect) != 0 {
		t.Errorf("indirect probes asked twice: %+v", a)
	}
	a, next = r.due(t0.Add(3*timeout), timeout, heard)
	if !slices.Equal(a.suspect, []memberInfo{b}) || !next.IsZero() {
		t.Errorf("at three probe timeouts: %+v, next %v; want b suspected", a, next)
	}

	// An Ack, direct or any frame heard after the Ping, ends a round.
	seq = r.start(b, t0, time.Time{})
	if _, isRelay := r.acked(seq); isRelay {
		t.Error("own round taken for a relay")
	}
	r.start(b, t0, time.Time{})
	heardAt = t0 // heard at the moment of the Ping: not after it
	if r.due(t0.Add(time.Millisecond), timeout, heard); len(r.open) != 1 {
		t.Error("a frame heard before the Ping ended the round")
	}
	heardAt = t0.Add(time.Millisecond)
	if a, _ := r.due(t0.Add(time.Hour), timeout, heard); len(r.open) != 0 || len(a.suspect) != 0 {
		t.Errorf("answered rounds still open: %+v", a)
	}
	heardAt = time.Time{}

	// Relays: bounded, answered to their requester; one whose target
	// answered nothing in its round suspects the target here too.
	end := t0.Add(3 * timeout)
	s1, ok1 := r.startRelay("c", 77, b, t0, end, 2)
	_, ok2 := r.startRelay("d", 78, b, t0, end, 2)
	if _, ok3 := r.startRelay("e", 79, b, t0, end, 2); !ok1 || !ok2 || ok3 {
		t.Errorf("relays taken: %v %v %v; want two of three", ok1, ok2, ok3)
	}
	if rl, isRelay := r.acked(s1); !isRelay || rl.requester != "c" || rl.seq != 77 {
		t.Errorf("relay acked: %+v %v", rl, isRelay)
	}
	if a, next := r.due(end.Add(-1), timeout, heard); len(a.suspect) != 0 || !next.Equal(end) {
		t.Errorf("relay before its round's end: %+v, next %v", a, next)
	}
	if a, _ := r.due(end, timeout, heard); !slices.Equal(a.suspect, []memberInfo{b}) || len(r.relays) != 0 {
		t.Errorf("relay unanswered at its round's end: %+v, %d kept; want b suspected", a, len(r.relays))
	}
	r.startRelay("d", 80, b, t0, end, 2)
	heardAt = t0.Add(time.Millisecond) // any frame after the relay's Ping
	if a, _ := r.due(end, timeout, heard); len(a.suspect) != 0 || len(r.relays) != 0 {
		t.Errorf("relay answered by another frame: %+v, %d kept", a, len(r.relays))
	}
	heardAt = time.Time{}

	// A node that did not run forgets its relays and probes its own
	// rounds' targets again.
	r.start(b, t0, time.Time{})
	r.startRelay("d", 81, b, t0, end, 2)
	if again := r.restart(); !slices.Equal(again, []memberInfo{b}) || len(r.open) != 0 || len(r.relays) != 0 {
		t.Errorf("restart: %v, %d open, %d relays", again, len(r.open), len(r.relays))
	}
}

// suspectTable returns a member table with b alive, at t0.
func suspectTable(t *testing.T) (*memberTable, memberInfo, *[]EventKind) {
	t.Helper()
	var kinds []EventKind
	table := newMemberTable(func(k EventKind, _ Member, _ error) { kinds = append(kinds, k) })
	b := memberInfo{Alias: "b", NodeID: "id-b", Incarnation: 7, Host: "127.0.0.1", Port: 2255}
	table.transition("b", StateAlive, b, EventJoined, nil, true, time.Time{})
	return table, b, &kinds
}

func TestSuspicionIsConfirmedRefutedAndTimesOut(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	timeout := func(c int) time.Duration { return suspicionTimeout(cfg, 5, c) }
	t0 := time.Unix(1000, 0)
	table, b, kinds := suspectTable(t)

	if _, added := table.suspect("b", b.Incarnation+1, 0, "a", t0); added {
		t.Error("a suspicion of another run was taken")
	}
	if _, added := table.suspect("x", 1, 0, "a", t0); added {
		t.Error("a suspicion of an unknown member was taken")
	}
	if turned, added := table.suspect("b", b.Incarnation, 0, "a", t0); !turned || !added || table.stateOf("b") != StateSuspect {
		t.Fatal("the first suspicion did not make b suspect")
	}
	if turned, added := table.suspect("b", b.Incarnation, 0, "a", t0); turned || added {
		t.Error("the same suspicion was news twice")
	}
	if due, next := table.overdue(t0.Add(timeout(0)-1), timeout); len(due) != 0 || !next.Equal(t0.Add(timeout(0))) {
		t.Errorf("before the timeout: due %v, next %v", due, next)
	}
	// Two other members confirm: the timeout shortens.
	if turned, added := table.suspect("b", b.Incarnation, 0, "c", t0.Add(time.Millisecond)); turned || !added {
		t.Error("a confirmation was not taken as one")
	}
	table.suspect("b", b.Incarnation, 0, "d", t0.Add(time.Millisecond))
	if _, next := table.overdue(t0, timeout); !next.Equal(t0.Add(timeout(2))) || timeout(2) >= timeout(0) {
		t.Errorf("confirmed: the suspicion ends at %v, want %v", next, t0.Add(timeout(2)))
	}

	// b refutes with a later epoch: alive again; the old suspicion is
	// stale from then on.
	if table.refute("b", b.Incarnation, 0, t0) {
		t.Error("an alive claim of the suspected epoch refuted it")
	}
	if !table.refute("b", b.Incarnation, 1, t0.Add(time.Second)) || table.stateOf("b") != StateAlive {
		t.Fatal("the refutation did not make b alive")
	}
	if _, added := table.suspect("b", b.Incarnation, 0, "c", t0.Add(time.Second)); added {
		t.Error("a suspicion of the refuted epoch was taken")
	}
	if due, next := table.overdue(t0.Add(time.Hour), timeout); len(due) != 0 || !next.IsZero() {
		t.Errorf("after the refutation: due %v, next %v", due, next)
	}

	// Suspected again at the new epoch, not refuted: overdue after the
	// timeout, later by a pause of this node.
	t1 := t0.Add(2 * time.Second)
	table.suspect("b", b.Incarnation, 1, "a", t1)
	table.postpone(time.Second)
	if due, _ := table.overdue(t1.Add(timeout(0)), timeout); len(due) != 0 {
		t.Errorf("overdue despite this node's pause: %v", due)
	}
	if due, _ := table.overdue(t1.Add(timeout(0)+time.Second), timeout); !slices.Equal(due, []memberInfo{b}) {
		t.Errorf("not overdue after the timeout: %v", due)
	}
	if !slices.Equal(*kinds, []EventKind{EventJoined}) {
		t.Errorf("events %v: suspicion and refutation are no events", *kinds)
	}
	// A suspicion of a later epoch than the one suspected starts anew.
	table.suspect("b", b.Incarnation, 5, "c", t1.Add(time.Minute))
	if due, _ := table.overdue(t1.Add(time.Minute), timeout); len(due) != 0 || table.epochOf(b) != 5 {
		t.Errorf("a later suspicion did not start anew: due %v, epoch %d", due, table.epochOf(b))
	}
}

// A member cannot make another unable to refute by suspecting it at the
// highest epoch (its refutation would wrap around), nor keep a member
// listed by claiming it alive for it.
func TestLivenessClaimsAreBounded(t *testing.T) {
	t.Parallel()
	if err := (&suspectMsg{Alias: "b", Epoch: maxEpoch + 1}).validate(); err == nil {
		t.Error("a Suspect beyond the epoch limit was valid")
	}
	if err := (&aliveMsg{Alias: "b", Epoch: maxEpoch}).validate(); err != nil {
		t.Errorf("an Alive at the epoch limit: %v", err)
	}
	n, err := New(Config{Alias: "a", Cookie: []byte("a cookie of sixteen bytes or more"), CookieKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	_, b, _ := suspectTable(t)
	n.members = newMemberTable(func(EventKind, Member, error) {})
	n.members.transition("b", StateAlive, b, EventJoined, nil, true, time.Time{})
	n.members.suspect("b", b.Incarnation, 0, "a", time.Now())
	liar := &link{peer: memberInfo{Alias: "c"}}
	n.heardAlive(liar, &aliveMsg{Alias: "b", Incarnation: b.Incarnation, Epoch: 9})
	if n.members.stateOf("b") != StateSuspect {
		t.Error("another member's Alive refuted b's suspicion")
	}
	n.heardAlive(&link{peer: b}, &aliveMsg{Alias: "b", Incarnation: b.Incarnation, Epoch: 1})
	if n.members.stateOf("b") != StateAlive {
		t.Error("b's own Alive did not refute its suspicion")
	}
}

// A node probes once in each slot of an interval, at a wake-up in the
// slot if it has no Ping to send (claimProbe with the whole interval as
// its early window, as skipHeardSlot does; with no member, it never has)
// or at the slot's end (the timer, no early window): however the
// wake-ups fall, it takes one slot per slot, so the rate stays one per
// interval.
func TestProbeSlotsKeepTheRate(t *testing.T) {
	t.Parallel()
	interval := testHeartbeat
	n, _ := slotNode(t, interval)
	rng := rand.New(rand.NewPCG(5, 6))
	t0 := time.Unix(1000, 0)
	p := n.probes
	p.mu.Lock()
	p.setNextProbeLocked(t0.Add(interval), interval)
	p.mu.Unlock()
	const slots = 200
	now, claims := t0, 0
	var last time.Time
	for now.Before(t0.Add(slots * interval)) {
		// Wake-ups a random time apart, sometimes several in a slot,
		// sometimes none: then the timer fires at the slot's end.
		wake := now.Add(time.Duration(rng.Int64N(int64(2 * interval))))
		p.mu.Lock()
		slotEnd := p.nextProbe
		p.mu.Unlock()
		early := interval
		if wake.After(slotEnd) {
			wake, early = slotEnd, 0
		}
		now = wake
		before := p.earlyFrom.Load()
		n.claimProbe(now, early) // no member to probe: the slot is taken all the same
		if p.earlyFrom.Load() != before {
			if !last.IsZero() && now.Sub(last) > 2*interval {
				t.Fatalf("probes %v apart, more than two slots", now.Sub(last))
			}
			claims++
			last = now
		}
	}
	if claims < slots-1 || claims > slots+1 {
		t.Errorf("%d probes in %d slots, want one per slot", claims, slots)
	}
}

// In every slot each member is checked by a partner that checks it back,
// whatever order the members are listed in; over a pass each pair meets
// (once in an even ring); and passes are shuffled differently.
func TestProbePartnersPairEveryMemberEachSlot(t *testing.T) {
	t.Parallel()
	for k := 2; k <= 9; k++ {
		ring := make([]string, k)
		for i := range ring {
			ring[i] = string(rune('a' + i))
		}
		rounds := uint64(k)
		if k%2 == 0 {
			rounds = uint64(k - 1)
		}
		for _, pass := range []uint64{0, 7} {
			met := map[[2]string]int{}
			for slot := pass * rounds; slot < (pass+1)*rounds; slot++ {
				for _, self := range ring {
					reversed := slices.Clone(ring)
					slices.Reverse(reversed)
					got := probePartners(ring, self, slot)
					if !slices.Equal(got, probePartners(reversed, self, slot)) {
						t.Fatalf("k=%d slot %d: %s's partners depend on the list's order", k, slot, self)
					}
					if len(got) == 0 || len(got) > 2 {
						t.Fatalf("k=%d slot %d: %s has partners %v", k, slot, self, got)
					}
					for _, p := range got {
						if p == self || !slices.Contains(probePartners(ring, p, slot), self) {
							t.Fatalf("k=%d slot %d: %s checks %v, which does not check it back", k, slot, self, got)
						}
						met[[2]string{min(self, p), max(self, p)}]++
					}
				}
			}
			for i := range ring {
				for j := i + 1; j < k; j++ {
					times := met[[2]string{ring[i], ring[j]}] / 2
					if times < 1 || (k%2 == 0 && times != 1) {
						t.Fatalf("k=%d pass %d: %s and %s met %d times", k, pass, ring[i], ring[j], times)
					}
				}
			}
		}
	}
	ring := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	if slices.Equal(shuffledRing(ring, 1), shuffledRing(ring, 2)) && slices.Equal(shuffledRing(ring, 2), shuffledRing(ring, 3)) {
		t.Error("three passes in the same order: not shuffled")
	}
	if probePartners([]string{"a"}, "a", 3) != nil || probePartners(ring, "z", 3) != nil {
		t.Error("partners for a node alone or not in its list")
	}
}

// A probe of a slot has no timer of its own for its probe timeout: it is
// looked at when the node's timer fires for the slot anyway (checkAt),
// or at any wake-up before that after the timeout. Gone indirect late,
// its members still get a whole probe timeout before the target is
// suspected.
func TestSlotProbeTimeoutWaitsForTheNextWakeUp(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	t0 := time.Unix(1000, 0)
	b := memberInfo{Alias: "b", Incarnation: 1}
	r := newProbeRounds()
	heard := func(memberInfo) time.Time { return time.Time{} }
	wake := t0.Add(1200 * time.Millisecond) // the next slot's timer
	seq := r.start(b, t0, wake)
	if next := r.next(timeout); !next.Equal(wake) {
		t.Errorf("a slot's probe sets the timer for %v; want the slot's timer, %v", next, wake)
	}
	if a, _ := r.due(t0.Add(timeout/2), timeout, heard); len(a.indirect) != 0 {
		t.Errorf("indirect probes before the probe timeout: %+v", a)
	}
	a, next := r.due(wake, timeout, heard)
	if !slices.Equal(a.indirect, []uint64{seq}) || !next.Equal(wake.Add(timeout)) {
		t.Errorf("at the next wake-up: %+v, next %v; want indirect probes and suspicion at %v", a, next, wake.Add(timeout))
	}
	if a, _ := r.due(t0.Add(3*timeout), timeout, heard); len(a.suspect) != 0 {
		t.Errorf("suspected %v after the Ping but %v after the indirect probes", 3*timeout, t0.Add(3*timeout).Sub(wake))
	}
	if a, _ := r.due(wake.Add(timeout), timeout, heard); !slices.Equal(a.suspect, []memberInfo{b}) {
		t.Errorf("a timeout after the indirect probes: %+v; want b suspected", a)
	}
}

// A node pings its partner of the slot, and only it, unless the partner
// was heard from since the slot began: then the pair's probe is made.
func TestClaimProbePingsThePartnerNotHeardFrom(t *testing.T) {
	t.Parallel()
	interval := testHeartbeat
	others := []string{"b", "c", "d", "e"}
	n, _ := slotNode(t, interval, others...)
	p := n.probes
	ring := append(slices.Clone(others), "a")
	slotEnd := time.Unix(0, 0).Add(1000 * interval).Add(interval / 3) // a staggered slot end
	for slot := range 12 {
		end := slotEnd.Add(time.Duration(slot) * interval)
		partners := probePartners(ring, "a", uint64(end.UnixNano())/uint64(interval))
		heardOne := slot%2 == 1 // every other slot, a partner pinged first
		for _, alias := range others {
			seen := end.Add(-2 * interval) // before the slot began
			if heardOne && alias == partners[0] {
				seen = end.Add(-interval / 2)
			}
			n.links.get(alias).lastSeen.Store(seen.UnixNano())
		}
		p.mu.Lock()
		p.setNextProbeLocked(end, interval)
		p.mu.Unlock()
		var pinged []string
		for _, o := range n.claimProbe(end, 0) {
			pinged = append(pinged, o.link.peer.Alias)
		}
		want := partners
		if heardOne {
			want = partners[1:]
		}
		if !slices.Equal(pinged, want) {
			t.Errorf("slot %d: pinged %v, want %v (partners %v, the first heard from: %v)", slot, pinged, want, partners, heardOne)
		}
	}
}

// A reader woken in this node's slot takes the slot if every partner of
// it was heard from since it began, and sets the timer for the next
// slot, so that the node does not wake for this one; a slot with a
// partner still to ping is left to its timer, which pings it.
func TestHeardSlotIsTakenEarlyAndAnUnheardOneLeftToItsTimer(t *testing.T) {
	t.Parallel()
	const interval = time.Second
	n, slotEnd := slotNode(t, interval, "b") // b is a's partner in every slot
	b, p := n.links.get("b"), n.probes
	wake := slotEnd.Add(-interval * 3 / 4) // in the slot, well before its end

	b.lastSeen.Store(slotEnd.Add(-2 * interval).UnixNano()) // not heard in the slot
	n.skipHeardSlot(wake)
	p.mu.Lock()
	next, at := p.nextProbe, p.wakeAt
	p.mu.Unlock()
	if !next.Equal(slotEnd) || !at.Equal(slotEnd) {
		t.Fatalf("b unheard: the slot was taken early (next slot %v, timer %v after the slot's end); want it left to its timer", next.Sub(slotEnd), at.Sub(slotEnd))
	}
	if out := n.claimProbe(slotEnd, 0); len(out) != 1 || out[0].link != b {
		t.Fatalf("the slot's timer pinged %d members, want b", len(out))
	}

	p.mu.Lock()
	p.rounds = newProbeRounds() // b answered
	p.setNextProbeLocked(slotEnd, interval)
	p.setTimerLocked(slotEnd, time.Now())
	p.mu.Unlock()
	b.lastSeen.Store(wake.Add(-time.Millisecond).UnixNano()) // b pinged a in the slot
	n.skipHeardSlot(wake)
	p.mu.Lock()
	next, at = p.nextProbe, p.wakeAt
	open := len(p.rounds.open)
	p.mu.Unlock()
	if open != 0 {
		t.Errorf("b heard: %d rounds opened, want none", open)
	}
	if want := slotEnd.Add(interval); !next.Equal(want) || !at.Equal(want) {
		t.Errorf("b heard: next slot %v and timer %v after this slot's end, want both an interval after (the timer set later, for the next slot)", next.Sub(slotEnd), at.Sub(slotEnd))
	}
}

// A reader's look at the slot (skipHeardSlot, at every frame that wakes
// the node) allocates nothing once the slot's partners are known: on an
// idle node each allocation soon touches a fresh page, and a page fault
// costs more than the rest of the wake-up on a virtual machine.
func TestSkipHeardSlotAllocatesNothingOnceThePartnersAreKnown(t *testing.T) {
	const interval = time.Second
	n, slotEnd := slotNode(t, interval, "b", "c", "d")
	p := n.probes
	wake := slotEnd.Add(-interval / 2) // no partner heard: the slot stays
	n.skipHeardSlot(wake)
	if allocs := testing.AllocsPerRun(100, func() { n.skipHeardSlot(wake) }); allocs != 0 {
		t.Errorf("%v allocations per look at a known slot, want 0", allocs)
	}
	p.mu.Lock()
	next := p.nextProbe
	p.mu.Unlock()
	if !next.Equal(slotEnd) {
		t.Errorf("the slot was taken (next slot %v after its end) with no partner heard", next.Sub(slotEnd))
	}
}

// A node's partner table gives what probePartners gives, slot after
// slot, across passes and after the members change, and allocates
// nothing for a slot once its pass's ring is shuffled.
func TestPartnerTableMatchesProbePartners(t *testing.T) {
	var table partnerTable
	for _, size := range []int{2, 5, 8} {
		ring := make([]string, size)
		for i := range ring {
			ring[i] = fmt.Sprintf("m%d", i)
		}
		table.forget() // the members changed
		for slot := uint64(1000); slot < 1000+3*uint64(size); slot++ {
			got := slices.Clone(table.partners(ring, "m1", slot))
			if want := probePartners(ring, "m1", slot); !slices.Equal(got, want) {
				t.Fatalf("%d members, slot %d: table gives %v, probePartners %v", size, slot, got, want)
			}
		}
	}
	ring := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	table.forget()
	table.partners(ring, "a", 7000) // shuffles the pass (slots 7000/7 = 1000)
	if allocs := testing.AllocsPerRun(50, func() { table.partners(ring, "a", 7003) }); allocs != 0 {
		t.Errorf("%v allocations for a slot of a shuffled pass, want 0", allocs)
	}
}

// slotNode returns node a with links (without connections) to the
// members aliases, and its probe slot ending an hour from now with its
// timer set for then, as probeLoop has it, with no loop running.
func slotNode(t *testing.T, interval time.Duration, aliases ...string) (*Node, time.Time) {
	t.Helper()
	n, err := New(testConfig("a"))
	if err != nil {
		t.Fatal(err)
	}
	n.cfg.ProbeInterval, n.cfg.ProbeTimeout = interval, interval/2
	n.links.mu.Lock()
	for _, alias := range aliases {
		n.links.byAlias[alias] = &link{peer: memberInfo{Alias: alias, Incarnation: 1}}
	}
	n.links.mu.Unlock()
	p := n.probes
	slotEnd := time.Now().Add(time.Hour)
	p.mu.Lock()
	timer := newSlotTimer()
	p.timer = timer
	p.setNextProbeLocked(slotEnd, interval)
	p.setTimerLocked(slotEnd, time.Now())
	p.mu.Unlock()
	t.Cleanup(func() {
		timer.close()
		n.links.mu.Lock() // links without connections: not for Close
		clear(n.links.byAlias)
		n.links.mu.Unlock()
		n.Close()
	})
	return n, slotEnd
}
