package cluster

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// prober is the state of this node's SWIM probes (swim.go has the
// rules): its slots, the rounds and relays out, and this node's
// own liveness epoch. It has a lock of its own; while it is held, only
// linkSet.mu may be taken (to see when a target was last heard).
type prober struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rounds *probeRounds
	epoch  uint64 // this node's liveness epoch, raised to refute

	// The members' aliases, this node's included, as of linkSet change
	// count ringChanges, and this node's partners in them: claimProbe
	// runs at every frame in a slot, and computes them once a slot.
	ring        []string
	ringChanges uint64
	partners    partnerTable

	// Refutations are sent at most once per refuteGap (see refuteLocked):
	// when the last went, when the next is due (zero if none waits), and
	// how many were sent.
	lastRefute  time.Time
	refuteAt    time.Time
	refutations uint64

	// probeLoop's timer (nil before the loop starts and after it ends)
	// and what it waits for. Readers set it too (rescheduleLocked),
	// sooner or later: to a relay's timeout, or past a round an Ack
	// closed or a slot they took.
	timer     slotTimer
	wakeAt    time.Time // when timer fires
	nextProbe time.Time // when the next probe slot ends (its timer is due)
	nextEnd   time.Time // when the soonest suspicion ends; zero if none
	// earlyFrom is when the slot of the next probe begins, an interval
	// before nextProbe, in Unix ns: a reader woken by a frame after it
	// may take the slot (skipHeardSlot). Read without the lock.
	earlyFrom atomic.Int64
}

func newProber() *prober {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return &prober{rng: rng, rounds: newProbeRounds()}
}

// poke wakes probeLoop now: something may be due sooner than its timer.
func (p *prober) poke() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		now := time.Now()
		p.setTimerLocked(now, now)
	}
}

// maxRelays bounds the indirect probes a node makes for others at once.
func (n *Node) maxRelays() int { return 2 * n.cfg.MaxMembers }

// probeLoop is the node's one probe timer. The node's time is cut into
// slots of ProbeInterval from a random offset (never on the wall
// clock's multiples, so that the nodes of one machine do not probe
// together), and in each slot it checks its partners of the slot
// (probePartners) at the slot's end, by this timer, unless a reader took
// the slot before, all its partners heard from (skipHeardSlot). Between
// slots it wakes only when a round gone indirect, a relay or a
// suspicion is due.
//
// A timer that fires later than ProbeTimeout past its time means this
// process did not run (a stopped process, a suspended machine, heavy
// CPU starvation): answers may wait unread in its sockets, so the open
// rounds are probed again and every suspicion is extended by the delay.
func (n *Node) probeLoop() {
	p := n.probes
	timer := newSlotTimer()
	p.mu.Lock()
	stagger := time.Duration(p.rng.Int64N(int64(n.cfg.ProbeInterval)))
	now := time.Now()
	p.setNextProbeLocked(now.Add(stagger), n.cfg.ProbeInterval)
	p.timer = timer
	p.setTimerLocked(p.nextProbe, now)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.timer = nil // no more probes, early or not, nor sets of the timer
		p.mu.Unlock()
		timer.close()
	}()
	stop := context.AfterFunc(n.ctx, p.poke) // the loop sees the end at once
	defer stop()
	for timer.wait() && n.ctx.Err() == nil {
		now := time.Now()
		p.mu.Lock()
		expected := p.wakeAt
		p.mu.Unlock()
		if late := now.Sub(expected); late > n.cfg.ProbeTimeout {
			n.members.postpone(late)
			p.mu.Lock()
			again := p.rounds.restart()
			p.setNextProbeLocked(now.Add(n.cfg.ProbeInterval), n.cfg.ProbeInterval)
			p.mu.Unlock()
			for _, m := range again {
				n.probe(m.Alias, now)
			}
		}
		for _, o := range n.claimProbe(now, 0) {
			n.pushNow(o.link, &ping{Seq: o.seq})
		}
		n.moveRounds(now)
		suspicionEnd := n.failOverdue(now)
		n.speakForWaitingReaders()
		n.refuteIfDue(now)
		p.mu.Lock()
		p.nextEnd = suspicionEnd
		p.rescheduleLocked(now, n.cfg.ProbeTimeout) // unless claimProbe or a reader set it so
		p.mu.Unlock()
	}
}

// soonest returns the earliest of at and the times of others that are
// not zero.
func soonest(at time.Time, others ...time.Time) time.Time {
	for _, t := range others {
		if !t.IsZero() && t.Before(at) {
			at = t
		}
	}
	return at
}

// setNextProbeLocked sets when the next probe slot ends; p.mu is held.
func (p *prober) setNextProbeLocked(at time.Time, interval time.Duration) {
	p.nextProbe = at
	p.earlyFrom.Store(at.Add(-interval).UnixNano())
}

// rescheduleLocked sets probeLoop's timer to what is due next, sooner
// or later than it was: an Ack that closes a round, or a slot a reader
// took (skipHeardSlot), so spares the loop a wake-up with nothing to do.
// Something overdue is due now, not at its time: the loop takes a timer
// that fires well after its time for a pause of this process. p.mu is
// held.
func (p *prober) rescheduleLocked(now time.Time, timeout time.Duration) {
	if p.timer == nil {
		return
	}
	at := soonest(p.nextProbe, p.rounds.next(timeout), p.nextEnd, p.refuteAt)
	if at.Before(now) {
		at = now
	}
	if !at.Equal(p.wakeAt) {
		p.setTimerLocked(at, now)
	}
}

// setTimerLocked sets probeLoop's timer for at; p.mu is held, and the
// timer is not nil.
func (p *prober) setTimerLocked(at, now time.Time) {
	p.timer.set(at.Sub(now))
	p.wakeAt = at
}

// outProbe is a Ping to send: the link and the seq of its round.
type outProbe struct {
	link *link
	seq  uint64
}

// claimProbe takes the next probe slot if it is due within early of
// now, and opens a round for each member this node checks in it (its
// partners, probePartners) that it has not heard from since the slot
// began: a partner that pinged this node in the slot answered already.
// It returns the Pings to send. A slot taken early (early > 0, by a
// reader: skipHeardSlot) is one with no Ping to send; the timer makes
// the others. The next slot is then due an interval after this one was
// due, so that the rate stays at one slot per interval.
func (n *Node) claimProbe(now time.Time, early time.Duration) []outProbe {
	p := n.probes
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer == nil || now.Before(p.nextProbe.Add(-early)) {
		return nil
	}
	// The slot's end on the wall clock of now: nextProbe's own wall
	// reading is that of the moment the loop started, moved on by
	// intervals, and goes stale if the clock is stepped since; lastSeen
	// is on the wall clock of when a frame came.
	interval := n.cfg.ProbeInterval
	end := now.Round(0).Add(p.nextProbe.Sub(now))
	slot := uint64(end.UnixNano()) / uint64(interval)
	slotStart := end.Add(-interval)
	var dueBuf [2]*link // at most two partners: no allocation
	due := dueBuf[:0]
	for _, target := range p.partnersOf(n.links, n.cfg.Alias, slot) {
		l := n.links.get(target)
		if l == nil || time.Unix(0, l.lastSeen.Load()).After(slotStart) {
			continue
		}
		due = append(due, l)
	}
	if early > 0 && len(due) > 0 {
		return nil
	}
	next := p.nextProbe.Add(interval)
	if next.Before(now) {
		next = now.Add(interval)
	}
	p.setNextProbeLocked(next, interval)
	out := make([]outProbe, 0, len(due))
	for _, l := range due {
		// The round's timeout is looked at when the next slot's timer
		// fires (probeRound).
		out = append(out, outProbe{link: l, seq: p.rounds.start(l.peer, now, next)})
	}
	p.rescheduleLocked(now, n.cfg.ProbeTimeout)
	return out
}

// partnersOf returns the partners of this node (self) in slot, computed
// again only when the slot or the linked members changed; p.mu is held.
func (p *prober) partnersOf(links *linkSet, self string, slot uint64) []string {
	if ring, changes := links.aliasesSince(p.ringChanges); changes != p.ringChanges {
		p.ring, p.ringChanges = append(ring, self), changes
		p.partners.forget()
	}
	return p.partners.partners(p.ring, self, slot)
}

// skipHeardSlot is called by a link's reader that a frame woke: if the
// slot of this node's next probe has begun and every partner of it has
// been heard from since (the one of a pair that the other pinged first),
// the slot needs no Ping: it is taken now, and the timer set for the
// next, so that the node does not wake for it. A slot with a Ping to
// send waits for its timer: a Ping sent earlier could come before the
// partner's own slot began, which would then not count it and ping back.
func (n *Node) skipHeardSlot(now time.Time) {
	if now.UnixNano() < n.probes.earlyFrom.Load() {
		return
	}
	n.claimProbe(now, n.cfg.ProbeInterval)
}

// probe opens a round that probes the member alias at now, unless it
// is not linked.
func (n *Node) probe(alias string, now time.Time) {
	l := n.links.get(alias)
	if l == nil {
		return
	}
	n.probes.mu.Lock()
	seq := n.probes.rounds.start(l.peer, now, time.Time{})
	n.probes.rescheduleLocked(now, n.cfg.ProbeTimeout)
	n.probes.mu.Unlock()
	n.pushNow(l, &ping{Seq: seq})
}

// moveRounds moves the open rounds on at now (see probeRounds.due):
// indirect probes for targets that missed the direct one, suspicion of
// those that missed all.
func (n *Node) moveRounds(now time.Time) {
	n.probes.mu.Lock()
	actions, _ := n.probes.rounds.due(now, n.cfg.ProbeTimeout, n.heardFrom)
	targets := make(map[uint64]memberInfo, len(actions.indirect))
	for _, seq := range actions.indirect {
		targets[seq] = n.probes.rounds.open[seq].target
	}
	n.probes.mu.Unlock()
	for _, seq := range actions.indirect {
		n.askIndirect(seq, targets[seq])
	}
	for _, m := range actions.suspect {
		n.suspectAfterProbe(m, now)
	}
}

// heardFrom returns when the current link of m's run last carried a
// frame; zero when it has no link. A link whose reader waits for this
// node's handlers counts as heard now: its frames wait through this
// node's doing.
func (n *Node) heardFrom(m memberInfo) time.Time {
	l := n.links.get(m.Alias)
	switch {
	case l == nil || l.peer != m:
		return time.Time{}
	case l.readerWaits.Load():
		return time.Now()
	}
	return time.Unix(0, l.lastSeen.Load())
}

// askIndirect asks IndirectChecks other members, chosen at random, to
// probe target for the round seq.
func (n *Node) askIndirect(seq uint64, target memberInfo) {
	n.links.mu.Lock()
	helpers := make([]*link, 0, len(n.links.byAlias))
	for alias, l := range n.links.byAlias {
		if alias != target.Alias {
			helpers = append(helpers, l)
		}
	}
	n.links.mu.Unlock()
	n.probes.mu.Lock()
	n.probes.rng.Shuffle(len(helpers), func(i, j int) { helpers[i], helpers[j] = helpers[j], helpers[i] })
	n.probes.mu.Unlock()
	for _, l := range helpers[:min(len(helpers), n.cfg.IndirectChecks)] {
		n.push(l, &pingReq{Seq: seq, Target: target.Alias})
	}
}

// relayProbe makes an indirect probe that the member on l asked for.
func (n *Node) relayProbe(from *link, m *pingReq) {
	target := n.links.get(m.Target)
	if target == nil || m.Target == from.peer.Alias {
		return
	}
	now := time.Now()
	n.probes.mu.Lock()
	seq, ok := n.probes.rounds.startRelay(from.peer.Alias, m.Seq, target.peer, now, now.Add(2*n.cfg.ProbeTimeout), n.maxRelays())
	n.probes.rescheduleLocked(now, n.cfg.ProbeTimeout)
	n.probes.mu.Unlock()
	if ok {
		n.push(target, &ping{Seq: seq})
	}
}

// heardAck closes the round or the relay of seq; a relay's Ack goes on
// to the member that asked for it.
func (n *Node) heardAck(seq uint64) {
	n.probes.mu.Lock()
	rl, isRelay := n.probes.rounds.acked(seq)
	n.probes.rescheduleLocked(time.Now(), n.cfg.ProbeTimeout)
	n.probes.mu.Unlock()
	if !isRelay {
		return
	}
	if l := n.links.get(rl.requester); l != nil {
		n.push(l, &ack{Seq: rl.seq})
	}
}

// suspectAfterProbe suspects m, which answered no probe of this node's
// round, and tells every member, m included (so that it can refute). A
// round is inconclusive, and m is probed again instead, while frames for
// m wait in this node's queue: that link is judged by its write timeout.
func (n *Node) suspectAfterProbe(m memberInfo, now time.Time) {
	l := n.links.get(m.Alias)
	if l == nil || l.peer != m {
		return
	}
	if !l.queue.empty() {
		n.probe(m.Alias, now)
		return
	}
	epoch := n.members.epochOf(m)
	if _, added := n.members.suspect(m.Alias, m.Incarnation, epoch, n.cfg.Alias, now); added {
		n.broadcast(&suspectMsg{Alias: m.Alias, Incarnation: m.Incarnation, Epoch: epoch}, "")
	}
}

// broadcast queues m on every link except that of member except.
func (n *Node) broadcast(m message, except string) {
	frame, err := n.frames.marshal(m)
	if err != nil {
		return
	}
	n.links.mu.Lock()
	defer n.links.mu.Unlock()
	for alias, l := range n.links.byAlias {
		if alias != except {
			l.queue.push(frame)
		}
	}
}

// heardSuspect handles a member's suspicion. Of this node, it is
// refuted at once: the epoch is raised past the suspected one and Alive
// goes to every member. Of another member, it is applied to the member
// table; if it made the member suspect here, it is passed on to the
// member itself (whose link to the suspecter may be cut) and this node
// probes it at once, so that the suspicion is confirmed or not soon.
func (n *Node) heardSuspect(from *link, m *suspectMsg) {
	n.mu.Lock()
	self := n.self
	n.mu.Unlock()
	if m.Alias == n.cfg.Alias {
		if m.Incarnation != self.Incarnation {
			return // about another run of this node
		}
		n.probes.mu.Lock()
		if m.Epoch >= n.probes.epoch {
			n.probes.epoch = m.Epoch + 1
		}
		now := time.Now()
		send := n.probes.refuteLocked(now, n.refuteGap())
		epoch := n.probes.epoch
		n.probes.rescheduleLocked(now, n.cfg.ProbeTimeout)
		n.probes.mu.Unlock()
		if send {
			n.broadcast(n.aliveAt(epoch), "")
		}
		return
	}
	now := time.Now()
	turned, added := n.members.suspect(m.Alias, m.Incarnation, m.Epoch, from.peer.Alias, now)
	if turned {
		if l := n.links.get(m.Alias); l != nil && l.peer.Incarnation == m.Incarnation {
			n.push(l, m)
		}
		n.probe(m.Alias, now)
	}
	if added {
		n.probes.poke() // the suspicion's end may have come nearer
	}
}

// refuteGap is the least time between two refutations this node sends:
// a fifth of a probe timeout, well inside the least suspicion, so that a
// refutation held back still comes in time. A member that sends this
// node Suspect after Suspect, each of a later epoch, so gets one Alive
// to every member per gap, not one per Suspect.
func (n *Node) refuteGap() time.Duration { return n.cfg.ProbeTimeout / 5 }

// refuteLocked reports whether a refutation may go now; if not, it is
// due at the end of the gap, when probeLoop sends it (refuteIfDue) with
// the epoch of then. p.mu is held.
func (p *prober) refuteLocked(now time.Time, gap time.Duration) bool {
	if !p.lastRefute.IsZero() && now.Sub(p.lastRefute) < gap {
		if p.refuteAt.IsZero() {
			p.refuteAt = p.lastRefute.Add(gap)
		}
		return false
	}
	p.refutedLocked(now)
	return true
}

// refutedLocked notes a refutation sent at now; p.mu is held.
func (p *prober) refutedLocked(now time.Time) {
	p.lastRefute, p.refuteAt = now, time.Time{}
	p.refutations++
}

// refuteIfDue sends the refutation held back by refuteLocked once its
// time has come.
func (n *Node) refuteIfDue(now time.Time) {
	p := n.probes
	p.mu.Lock()
	due := !p.refuteAt.IsZero() && !now.Before(p.refuteAt)
	if due {
		p.refutedLocked(now)
	}
	epoch := p.epoch
	p.mu.Unlock()
	if due {
		n.broadcast(n.aliveAt(epoch), "")
	}
}

// aliveAt returns Alive of this node's run at epoch.
func (n *Node) aliveAt(epoch uint64) *aliveMsg {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &aliveMsg{Alias: n.self.Alias, Incarnation: n.self.Incarnation, Epoch: epoch}
}

// heardAlive applies a member's news that it is alive at a later epoch.
// Only the member itself says so, on its own link: another member could
// keep a dead one listed by claiming it alive.
func (n *Node) heardAlive(from *link, m *aliveMsg) {
	if m.Alias == from.peer.Alias {
		n.members.refute(m.Alias, m.Incarnation, m.Epoch, time.Now())
	}
}

// failOverdue fails the suspects whose suspicion timeout has passed and
// returns when the next suspicion ends.
func (n *Node) failOverdue(now time.Time) time.Time {
	members := n.members.count() + 1
	timeout := func(confirmations int) time.Duration {
		return suspicionTimeout(n.cfg, members, confirmations)
	}
	due, next := n.members.overdue(now, timeout)
	for _, m := range due {
		if l := n.links.get(m.Alias); l != nil && l.peer == m {
			n.dropLink(l, EventFailed, errors.New("it answered no probe, direct or indirect, and did not refute the suspicion"))
		}
	}
	return next
}

// speakForWaitingReaders sends Alive, of this node's current epoch, on
// each link whose reader waits for this node's handlers: the member's
// probes wait unread meanwhile, and any frame from this node answers
// them (see probeRounds.due).
func (n *Node) speakForWaitingReaders() {
	var waiting []*link
	n.links.mu.Lock()
	for _, l := range n.links.byAlias {
		if l.readerWaits.Load() {
			waiting = append(waiting, l)
		}
	}
	n.links.mu.Unlock()
	if len(waiting) == 0 {
		return
	}
	n.probes.mu.Lock()
	epoch := n.probes.epoch
	n.probes.mu.Unlock()
	alive := n.aliveAt(epoch)
	for _, l := range waiting {
		n.push(l, alive)
	}
}

// answersProbe probes the member on l and reports whether it answers
// within a probe round (3 × ProbeTimeout): an Ack, or any other frame,
// after the Ping. The round is also an ordinary one, so a run that stays
// silent is suspected as usual. It looks at the link every tenth of a
// probe timeout; only a claim to be a newer run of a linked member (see
// admit) waits for it.
func (n *Node) answersProbe(l *link) bool {
	sent := time.Now()
	n.probe(l.peer.Alias, sent)
	deadline := sent.Add(3 * n.cfg.ProbeTimeout)
	tick := time.NewTicker(max(n.cfg.ProbeTimeout/10, time.Millisecond))
	defer tick.Stop()
	for {
		if time.Unix(0, l.lastSeen.Load()).After(sent) || l.readerWaits.Load() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		select {
		case <-l.done:
			return false
		case <-n.ctx.Done():
			return false
		case <-tick.C:
		}
	}
}
