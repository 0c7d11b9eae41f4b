package cluster

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// SWIM failure detection, as hashicorp/memberlist does it, with
// Lifeguard's refinements; docs/cluster.md ("Probing, suspicion and
// failure") describes the protocol. This file holds its pure parts: the
// order of probes, the probe rounds, the suspicion timeout, and the
// member table's suspect and refute. probe.go runs them on the links.

// suspicionTimeout is how long a member suspected by confirmations other
// members besides the first stays suspect before it fails, in a cluster
// of members nodes (Lifeguard): SuspicionMaxMult × the least with none,
// falling with the logarithm of the confirmations to the least,
// SuspicionMult × max(1, log10(members)) × ProbeTimeout, once
// IndirectChecks of them came. The least is counted in probe timeouts,
// not intervals: a suspicion comes of a whole probe round without an
// answer, direct or indirect, each confirmation of another one (the
// members that probed for the first suspecter confirm half a probe
// timeout after it), and a member that hears of its suspicion refutes
// it within a round trip.
func suspicionTimeout(cfg Config, members, confirmations int) time.Duration {
	scale := max(1, math.Log10(float64(members)))
	least := time.Duration(float64(cfg.SuspicionMult) * scale * float64(cfg.ProbeTimeout))
	most := time.Duration(cfg.SuspicionMaxMult) * least
	if confirmations <= 0 || cfg.IndirectChecks <= 0 {
		return most
	}
	frac := math.Log(float64(confirmations)+1) / math.Log(float64(cfg.IndirectChecks)+1)
	return max(least, most-time.Duration(frac*float64(most-least)))
}

// probePartners returns the members this node checks in the probe slot
// slot, a round of a round-robin tournament that every node computes
// alike from the same member list, so that in each slot every member is
// checked by a partner instead of by whoever happens to pick it: a
// stopped member is probed within about one interval, however many
// members there are, where random targets leave it unprobed for a whole
// interval more than one time in three. ring is the aliases of the
// members this node has links to, and this node's own (self).
//
// The ring is shuffled anew for each pass (a pass is one round per
// other member), the same on every node: sorted by a hash of the pass
// number and the alias. In round r of a ring of odd size k, the member
// at place x is paired with the one at (2r - x) mod k; the one left
// over (x = r) is paired with the member at r+1, which so has two
// partners. An even ring pairs its last member with the one left over.
// Each pair meets once in a pass: a shuffled round robin, as SWIM asks.
//
// A pair needs one probe: whichever of the two comes to its slot first
// pings the other, whose Ack answers it, and the other, having heard
// from it in the slot, does not ping back (claimProbe). Members whose
// lists differ (a join, a failure not yet known everywhere) pair
// differently for a while: some get a redundant probe, and some none
// in a slot, until the lists agree again.
func probePartners(ring []string, self string, slot uint64) []string {
	var t partnerTable
	return slices.Clone(t.partners(ring, self, slot))
}

// partnerTable computes probePartners for one node, keeping the ring
// shuffled for the last pass, the partners of the last slot and its
// buffers, so that a slot allocates nothing and a slot asked again
// costs nothing: on an idle node each allocation soon touches a fresh
// page, and a page fault costs more than the rest of a wake-up on a
// virtual machine. forget must be called when the ring changes.
type partnerTable struct {
	shuffled bool // order is ring shuffled for pass; out[:n] is slot's
	pass     uint64
	slot     uint64
	order    []string
	keys     []placedAlias
	out      [2]string
	n        int
}

// forget drops the shuffled ring: the members changed.
func (t *partnerTable) forget() { t.shuffled = false }

// partners returns self's partners in slot, as probePartners does, in a
// slice that the next call reuses.
func (t *partnerTable) partners(ring []string, self string, slot uint64) []string {
	k := uint64(len(ring))
	if k < 2 {
		return nil
	}
	rounds := k // odd: k rounds, each with one member left over
	fixed := k  // even: the member at place k-1 stays put
	if k%2 == 0 {
		rounds, fixed = k-1, k-1
	}
	pass, r := slot/rounds, slot%rounds
	if t.shuffled && t.slot == slot && len(t.order) == len(ring) {
		return t.out[:t.n]
	}
	if !t.shuffled || t.pass != pass || len(t.order) != len(ring) {
		t.order, t.keys = shuffleRing(t.order[:0], t.keys[:0], ring, pass)
		t.shuffled, t.pass = true, pass
	}
	order := t.order
	at := uint64(slices.Index(order, self))
	if at >= k {
		return nil
	}
	partner := func(x uint64) uint64 {
		if x == fixed {
			return r
		}
		y := (2*r + rounds - x) % rounds // x < rounds here
		if y != x {
			return y
		}
		if fixed < k {
			return fixed
		}
		return (x + 1) % k // the odd ring's member left over
	}
	out := append(t.out[:0], order[partner(at)])
	if fixed == k && at == (r+1)%k {
		out = append(out, order[r]) // its second partner
	}
	t.slot, t.n = slot, len(out)
	return out
}

// placedAlias is an alias and its key in a shuffled ring.
type placedAlias struct {
	key   uint64
	alias string
}

// shuffledRing returns ring ordered by a hash of pass and each alias
// (FNV-1a), the same order on every node for the same pass and members.
func shuffledRing(ring []string, pass uint64) []string {
	order, _ := shuffleRing(nil, nil, ring, pass)
	return order
}

// shuffleRing is shuffledRing into order and keys, which it returns
// grown as needed.
func shuffleRing(order []string, keys []placedAlias, ring []string, pass uint64) ([]string, []placedAlias) {
	for _, alias := range ring {
		h := uint64(14695981039346656037)
		for b := pass; ; b >>= 8 {
			h = (h ^ (b & 0xff)) * 1099511628211
			if b < 0x100 {
				break
			}
		}
		for j := 0; j < len(alias); j++ {
			h = (h ^ uint64(alias[j])) * 1099511628211
		}
		keys = append(keys, placedAlias{h, alias})
	}
	slices.SortFunc(keys, func(a, b placedAlias) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		return strings.Compare(a.alias, b.alias)
	})
	for _, p := range keys {
		order = append(order, p.alias)
	}
	return order, keys
}

// roundPhase is how far a probe round has got.
type roundPhase int

const (
	roundDirect   roundPhase = iota // the Ping is out; its Ack is awaited
	roundIndirect                   // indirect probes are out too
)

// probeRound is one probe of a member, from the Ping to the Ack (direct
// or relayed) or the suspicion.
type probeRound struct {
	target     memberInfo
	sent       time.Time // when the Ping was queued
	phase      roundPhase
	indirectAt time.Time // when it went indirect
	// checkAt, for a probe of the node's slot, is when the node's timer
	// is set for anyway (the slot's end, or the next slot's for a probe
	// made at the slot's end): its probe timeout is looked at then, or at
	// any wake-up before, not at a timer of its own, so that an idle node
	// wakes once per interval for its timer, not twice (docs/cluster.md,
	// "Probe rounds"). Zero for other probes, whose timeout sets the
	// timer.
	checkAt time.Time
}

// relay is a probe this node makes for another member that asked for it
// (an indirect probe): the Ack goes back to requester with its seq. A
// relay is a probe of this node's own, too: a target that answers
// nothing, Ack or other frame, within 2 × ProbeTimeout of the relay's
// Ping is suspected here as well, which confirms the requester's
// suspicion (Lifeguard) within a probe timeout after it begins (the
// requester suspects a probe timeout after it asked, at the earliest),
// before its least suspicion ends.
type relay struct {
	requester string
	seq       uint64
	target    memberInfo
	sent      time.Time // when the relay's Ping was queued
	until     time.Time // the end of its round
}

// probeRounds is the bookkeeping of the probes this node has out: its
// own rounds and the probes it relays, keyed by the seq of the Ping it
// sent. It is not safe for concurrent use (probe.go locks it).
type probeRounds struct {
	seq    uint64
	open   map[uint64]*probeRound
	relays map[uint64]relay
}

func newProbeRounds() *probeRounds {
	return &probeRounds{open: make(map[uint64]*probeRound), relays: make(map[uint64]relay)}
}

// start opens a round that probes target at now and returns the seq of
// its Ping; checkAt is set for the probe of a slot (see probeRound).
func (r *probeRounds) start(target memberInfo, now, checkAt time.Time) uint64 {
	r.seq++
	r.open[r.seq] = &probeRound{target: target, sent: now, checkAt: checkAt}
	return r.seq
}

// startRelay records a Ping to target sent at now for requester's
// indirect probe (its seq is theirs), whose round ends at until, and
// returns the seq of the Ping; false when limit relays are out already.
func (r *probeRounds) startRelay(requester string, seq uint64, target memberInfo, now, until time.Time, limit int) (uint64, bool) {
	if len(r.relays) >= limit {
		return 0, false
	}
	r.seq++
	r.relays[r.seq] = relay{requester: requester, seq: seq, target: target, sent: now, until: until}
	return r.seq, true
}

// acked closes the round or the relay of seq. For a relay it returns the
// requester and its seq, to send the Ack on.
func (r *probeRounds) acked(seq uint64) (relayTo relay, isRelay bool) {
	delete(r.open, seq)
	if rl, ok := r.relays[seq]; ok {
		delete(r.relays, seq)
		return rl, true
	}
	return relay{}, false
}

// roundActions is what the rounds ask of the node at a moment.
type roundActions struct {
	indirect []uint64     // rounds whose target missed the direct probe
	suspect  []memberInfo // targets that answered no probe in time
}

// due moves the rounds on at now: a round whose target was heard from
// after its Ping (heard gives when a member's link last carried a frame,
// an Ack or any other) is over; one without an answer for ProbeTimeout
// goes indirect, one without any for 3 × ProbeTimeout, and for one
// ProbeTimeout since it went indirect, ends in suspicion. So does a
// relay whose round ended with its target not heard from. It returns
// what to do and when next to look (zero when nothing is out).
func (r *probeRounds) due(now time.Time, timeout time.Duration, heard func(memberInfo) time.Time) (roundActions, time.Time) {
	var a roundActions
	for seq, pr := range r.open {
		switch {
		case heard(pr.target).After(pr.sent):
			delete(r.open, seq)
		case pr.phase == roundDirect && !now.Before(pr.sent.Add(timeout)):
			pr.phase, pr.indirectAt = roundIndirect, now
			a.indirect = append(a.indirect, seq)
		case pr.phase == roundIndirect && !now.Before(pr.suspectAt(timeout)):
			a.suspect = append(a.suspect, pr.target)
			delete(r.open, seq)
		}
	}
	for seq, rl := range r.relays {
		if !now.Before(rl.until) {
			if !heard(rl.target).After(rl.sent) {
				a.suspect = append(a.suspect, rl.target)
			}
			delete(r.relays, seq)
		}
	}
	slices.Sort(a.indirect)
	return a, r.next(timeout)
}

// suspectAt returns when a round gone indirect ends in suspicion: 3 ×
// timeout after its Ping, and at least a timeout after it went
// indirect, so that the members asked have that long to answer.
func (pr *probeRound) suspectAt(timeout time.Duration) time.Time {
	at := pr.sent.Add(3 * timeout)
	if late := pr.indirectAt.Add(timeout); late.After(at) {
		return late
	}
	return at
}

// next returns when a round or relay is next due: a direct probe's
// timeout (not a slot's: see probeRound), the end of a round, the end of
// a relay; zero when nothing is out.
func (r *probeRounds) next(timeout time.Duration) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, pr := range r.open {
		switch {
		case pr.phase == roundIndirect:
			consider(pr.suspectAt(timeout))
		case !pr.checkAt.IsZero():
			at := pr.checkAt
			if due := pr.sent.Add(timeout); due.After(at) {
				at = due
			}
			consider(at)
		default:
			consider(pr.sent.Add(timeout))
		}
	}
	for _, rl := range r.relays {
		consider(rl.until)
	}
	return next
}

// restart closes every open round and forgets every relay: this node
// did not run for a while, so the silence of their targets proves
// nothing. It returns the targets of its own rounds, to probe again.
func (r *probeRounds) restart() []memberInfo {
	var again []memberInfo
	for seq, pr := range r.open {
		again = append(again, pr.target)
		delete(r.open, seq)
	}
	clear(r.relays)
	return again
}

// suspect applies a claim by from that the run inc of member alias, at
// epoch, answered no probe. A claim about another run, an older epoch or
// a member not linked is ignored. It reports whether the member turned
// suspect here with this claim (then its suspicion is news to pass on),
// and whether from was not among its suspecters yet: a further claim of
// the same epoch by another member confirms the suspicion (Lifeguard),
// which shortens its timeout.
func (t *memberTable) suspect(alias string, inc, epoch uint64, from string, now time.Time) (turned, added bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.records[alias]
	if rec == nil || rec.state == StateFailed || rec.info.Incarnation != inc || epoch < rec.epoch {
		return false, false
	}
	if epoch > rec.epoch && rec.state == StateSuspect {
		// A suspicion of a later epoch than the one suspected: it
		// starts anew.
		t.transitionLocked(alias, StateAlive, rec.info, 0, nil, true, time.Time{}, now)
	}
	rec.epoch = epoch
	turned = rec.state == StateAlive
	if turned {
		t.transitionLocked(alias, StateSuspect, rec.info, 0, nil, true, time.Time{}, now)
	}
	added = !rec.suspecters[from]
	rec.suspecters[from] = true
	return turned, added
}

// refute applies news that the run inc of member alias is alive at
// epoch: a suspicion of an older epoch ends. It reports whether the news
// was new (a later epoch than known).
func (t *memberTable) refute(alias string, inc, epoch uint64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.records[alias]
	if rec == nil || rec.state == StateFailed || rec.info.Incarnation != inc || epoch <= rec.epoch {
		return false
	}
	rec.epoch = epoch
	if rec.state == StateSuspect {
		t.transitionLocked(alias, StateAlive, rec.info, 0, nil, true, time.Time{}, now)
	}
	return true
}

// epochOf returns the liveness epoch known for the run of m.
func (t *memberTable) epochOf(m memberInfo) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rec := t.records[m.Alias]; rec != nil && rec.info.Incarnation == m.Incarnation {
		return rec.epoch
	}
	return 0
}

// overdue returns the suspects whose suspicion timeout (timeout of the
// confirmations beyond the first suspecter) has passed at now, and the
// end of the soonest other suspicion (zero if none). Their state is left
// to the caller, which fails their links.
func (t *memberTable) overdue(now time.Time, timeout func(confirmations int) time.Duration) ([]memberInfo, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var due []memberInfo
	var next time.Time
	for _, rec := range t.records {
		if rec.state != StateSuspect {
			continue
		}
		end := rec.since.Add(timeout(len(rec.suspecters) - 1))
		switch {
		case !now.Before(end):
			due = append(due, rec.info)
		case next.IsZero() || end.Before(next):
			next = end
		}
	}
	return due, next
}

// postpone moves the start of every suspicion d later: this node did not
// run for d, and refutations may wait unread in its sockets.
func (t *memberTable) postpone(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rec := range t.records {
		if rec.state == StateSuspect {
			rec.since = rec.since.Add(d)
		}
	}
}
