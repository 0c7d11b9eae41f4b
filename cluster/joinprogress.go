package cluster

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// Bounds of the dials a Join makes in the background.
const (
	// maxParallelJoins bounds the Join messages a joining node sends at once.
	maxParallelJoins = 8
	// joinProgressEvery is the least time between two EventJoinProgress.
	joinProgressEvery = time.Second
	// maxUnreachableNamed bounds the aliases EventJoinDone names.
	maxUnreachableNamed = 8
)

// JoinProgress is how the background linking after a Join goes: see
// EventJoinProgress and EventJoinDone.
type JoinProgress struct {
	Through string // alias of the member the node joined through
	Linked  int    // members linked so far
	Total   int    // members the node set out to link
	// Unreachable counts the members that could not be linked (only in
	// EventJoinDone); UnreachableNames names the first few of them
	// (at most 8, raw as the peer listed them).
	Unreachable      int
	UnreachableNames []string
}

// joinSet holds the members a Join is still linking in the background.
// Its context ends with the node, or when Leave starts. It has a lock of
// its own, taken under no other; appendJoining takes memberTable.mu
// under it.
type joinSet struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pending map[string]joiningMember // by alias
	drained chan struct{}            // closed when pending empties
}

// joiningMember is a member being linked after a Join.
type joiningMember struct {
	info  memberInfo
	since time.Time
}

func newJoinSet(parent context.Context) *joinSet {
	ctx, cancel := context.WithCancel(parent)
	return &joinSet{ctx: ctx, cancel: cancel, pending: make(map[string]joiningMember), drained: make(chan struct{})}
}

// add marks m as being linked unless it is already; it reports whether it did.
func (s *joinSet) add(m memberInfo, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[m.Alias]; ok {
		return false
	}
	if len(s.pending) == 0 {
		s.drained = make(chan struct{})
	}
	s.pending[m.Alias] = joiningMember{info: m, since: now}
	return true
}

// done ends the linking of alias.
func (s *joinSet) done(alias string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[alias]; !ok {
		return
	}
	delete(s.pending, alias)
	if len(s.pending) == 0 {
		close(s.drained)
	}
}

// WaitLinked waits until no member is being linked in the background
// after a Join (each is linked, or given up), or ctx ends, or the node
// stops. A program that must have every member linked before it goes
// on (a script run after --join) calls it after Join.
func (n *Node) WaitLinked(ctx context.Context) error {
	s := n.joining
	s.mu.Lock()
	drained := s.drained
	idle := len(s.pending) == 0
	s.mu.Unlock()
	if idle {
		return nil
	}
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrClosed
	}
}

// appendJoining appends the members being linked that known does not
// report as known already, in state StateJoining.
func (s *joinSet) appendJoining(ms []Member, known func(alias string) bool) []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	for alias, j := range s.pending {
		if known(alias) {
			continue
		}
		m := publicMember(j.info)
		m.State, m.Since = StateJoining, j.since
		ms = append(ms, m)
	}
	return ms
}

// joinTally counts the outcome of the background dials of one Join and
// sends the progress events.
type joinTally struct {
	n       *Node
	through memberInfo
	total   int

	mu          sync.Mutex
	linked      int
	unreachable []string
	lastShown   time.Time
}

// note counts one dial's outcome and, at most once per
// joinProgressEvery, sends EventJoinProgress.
func (t *joinTally) note(alias string, err error) {
	t.mu.Lock()
	if err != nil {
		t.unreachable = append(t.unreachable, alias)
	} else {
		t.linked++
	}
	now := time.Now()
	show := now.Sub(t.lastShown) >= joinProgressEvery && t.linked+len(t.unreachable) < t.total
	if show {
		t.lastShown = now
	}
	p := t.progressLocked()
	t.mu.Unlock()
	if show {
		t.n.events.push(Event{Kind: EventJoinProgress, Member: publicMember(t.through), Time: now, Join: p})
	}
}

// progressLocked returns the tally as JoinProgress; t.mu is held.
func (t *joinTally) progressLocked() JoinProgress {
	p := JoinProgress{Through: t.through.Alias, Linked: t.linked, Total: t.total, Unreachable: len(t.unreachable)}
	p.UnreachableNames = append([]string(nil), t.unreachable[:min(len(t.unreachable), maxUnreachableNamed)]...)
	return p
}

// finish sends EventJoinDone.
func (t *joinTally) finish() {
	t.mu.Lock()
	p := t.progressLocked()
	t.mu.Unlock()
	t.n.events.push(Event{Kind: EventJoinDone, Member: publicMember(t.through), Time: time.Now(), Join: p})
}

// linkInBackground sends Join to every member the seed listed and we
// have no link to, at most maxParallelJoins at once, each within
// DialTimeout+HandshakeTimeout, on goroutines the node owns; Close and
// Leave stop them. Members stay listed as joining until their dial ends.
// Each Join carries the digest of the seed's view of the cluster.
func (n *Node) linkInBackground(seed memberInfo, members []memberInfo) {
	n.mu.Lock()
	self := n.self
	n.mu.Unlock()
	digest := membersDigest(append([]memberInfo{seed, self}, members...))
	tally := &joinTally{n: n, through: seed, lastShown: time.Now()}
	now := time.Now()
	var todo []memberInfo
	for _, m := range members {
		if m.Alias == n.cfg.Alias || n.links.isLinked(m) {
			continue
		}
		if net.ParseIP(m.Host) == nil { // gossiped names are not resolved
			tally.total++
			tally.unreachable = append(tally.unreachable, m.Alias)
			continue
		}
		if n.joining.add(m, now) {
			todo = append(todo, m)
		}
	}
	tally.total += len(todo)
	if tally.total == 0 {
		return
	}
	started := n.spawn(func() {
		n.dialAll(todo, digest, tally)
		tally.finish()
	})
	if !started {
		for _, m := range todo {
			n.joining.done(m.Alias)
		}
	}
}

// dialAll dials members, at most maxParallelJoins at once, and waits
// for them; a member not dialed because the node stops counts as
// unreachable.
func (n *Node) dialAll(members []memberInfo, digest []byte, tally *joinTally) {
	ctx := n.joining.ctx
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxParallelJoins)
	for _, m := range members {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			n.joining.done(m.Alias)
			tally.note(m.Alias, ctx.Err())
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			dialCtx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout+n.cfg.HandshakeTimeout)
			err := n.joinMember(dialCtx, m, dialSpec{digest: digest})
			cancel()
			n.joining.done(m.Alias)
			if err != nil {
				err = fmt.Errorf("member %q at %s: %w", m.Alias, m.addr(), err)
			}
			tally.note(m.Alias, err)
		}()
	}
	wg.Wait()
}
