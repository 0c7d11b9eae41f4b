package proc

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxNameLength is the longest name a process can be registered under,
// in bytes.
const MaxNameLength = 64

// LookupTimeout is the longest a WHEREIS of NAME@ALIAS waits for the
// member ALIAS to answer; then it gives 0, as for no such name.
const LookupTimeout = 2 * time.Second

// The errors of registered names; each comes wrapped with the name and,
// where there is one, the process that holds it.
var (
	ErrBadName   = errors.New("bad name")
	ErrNameTaken = errors.New("name taken")
	ErrNamed     = errors.New("process registered already")
)

// nameRule is what CheckName asks of a name, as its errors say it.
const nameRule = "a name is 1 to 64 printable ASCII bytes, without '@' or spaces"

// CheckName reports why name cannot name a process, or nil: a name is 1
// to MaxNameLength printable ASCII bytes, without '@' (which separates a
// member's alias in NAME@ALIAS) or spaces.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: it is empty; %s", ErrBadName, nameRule)
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("%w %q: %d bytes; %s", ErrBadName, clip(name), len(name), nameRule)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == '@' {
			return fmt.Errorf("%w %q: byte %d is %q; %s", ErrBadName, name, i+1, name[i:i+1], nameRule)
		}
	}
	return nil
}

// SplitName splits a reference to a registered name, NAME or
// NAME@ALIAS, into the name and the member's alias ("" for this node),
// and checks both are there and the name is good.
func SplitName(ref string) (name, alias string, err error) {
	name, alias, remote := strings.Cut(ref, "@")
	if err := CheckName(name); err != nil {
		return "", "", err
	}
	if remote && alias == "" {
		return "", "", fmt.Errorf("%w %q: no member's alias after '@'", ErrBadName, clip(ref))
	}
	return name, alias, nil
}

// NameLookup looks names up on other members, for a WHEREIS of
// NAME@ALIAS: the cluster's distribution layer implements it, and sets
// it with SetNameLookup.
type NameLookup interface {
	// LookupName asks the member alias for the process registered there
	// under name, and calls answer once, from any goroutine and perhaps
	// before it returns, with its PID as this node sees it (a slot of
	// this node's table of nodes), or 0: no such name, no such member,
	// or no answer. The scheduler gives 0 itself after LookupTimeout, and
	// then ignores a late answer.
	LookupName(alias, name string, answer func(PID))
}

// Name is a registered name and the process that holds it.
type Name struct {
	Name string
	PID  PID
}

// registry is the node's registered names, one process per name and one
// name per process, and the WHEREIS lookups in flight. It keeps them in
// maps, so that a process pays nothing for them until it uses them.
type registry struct {
	mu     sync.Mutex
	byName map[string]*process
	byProc map[*process]string
	waits  map[*process]*nameWait
	// used counts the entries of byProc and waits, so that a process
	// ending takes no lock when there are none.
	used atomic.Int64
	// lookup reaches the names of other members; nil without a cluster.
	lookup atomic.Pointer[NameLookup]
}

// SetNameLookup makes l look up the names of other members, for WHEREIS
// of NAME@ALIAS; nil (the default) makes such a WHEREIS give 0 at once,
// as for a member that does not exist.
func (s *Scheduler) SetNameLookup(l NameLookup) {
	if l == nil {
		s.names.lookup.Store(nil)
		return
	}
	s.names.lookup.Store(&l)
}

// register gives p the name; it fails for a bad or taken name, a process
// with a name, or one that has ended.
func (r *registry) register(p *process, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if q := r.byName[name]; q != nil {
		return fmt.Errorf("%w: %q is held by %v", ErrNameTaken, name, q.pid)
	}
	if held, ok := r.byProc[p]; ok {
		return fmt.Errorf("%w: %v is %q, and a process has one name", ErrNamed, p.pid, held)
	}
	// An ended process is forgotten after its state changes (finish,
	// Mailbox.Close), so this check leaves no name behind.
	if p.state.Load() == stateEnded {
		return fmt.Errorf("%v: %w", p.pid, ErrNoProcess)
	}
	if r.byName == nil {
		r.byName, r.byProc = make(map[string]*process), make(map[*process]string)
	}
	r.byName[name], r.byProc[p] = p, name
	r.used.Add(1)
	return nil
}

// forget removes the name of p, which has ended, and its lookup in
// flight, if it has them.
func (r *registry) forget(p *process) {
	if r.used.Load() == 0 {
		return
	}
	r.mu.Lock()
	if name, ok := r.byProc[p]; ok {
		delete(r.byName, name)
		delete(r.byProc, p)
		r.used.Add(-1)
	}
	w := r.takeWait(p)
	r.mu.Unlock()
	if w == nil {
		return
	}
	p.mu.Lock()
	pending := w.pending
	w.pending = false
	p.mu.Unlock()
	if pending {
		w.timer.Stop()
		p.s.timers.Add(-1)
	}
}

// whereis returns the PID registered under name, or 0.
func (r *registry) whereis(name string) PID {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.byName[name]; p != nil {
		return p.pid
	}
	return 0
}

// wait returns p's lookup in flight or answered, or nil.
func (r *registry) wait(p *process) *nameWait {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waits[p]
}

// setWait records w as p's lookup.
func (r *registry) setWait(p *process, w *nameWait) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waits == nil {
		r.waits = make(map[*process]*nameWait)
	}
	r.waits[p] = w
	r.used.Add(1)
}

// takeWait removes p's lookup and returns it, or nil; r.mu is held.
func (r *registry) takeWait(p *process) *nameWait {
	w, ok := r.waits[p]
	if ok {
		delete(r.waits, p)
		r.used.Add(-1)
	}
	return w
}

// Whereis returns the PID of the process registered on this node under
// name, or 0 if there is none.
func (s *Scheduler) Whereis(name string) PID { return s.names.whereis(name) }

// Registered lists this node's registered names, by name.
func (s *Scheduler) Registered() []Name {
	s.names.mu.Lock()
	out := make([]Name, 0, len(s.names.byName))
	for name, p := range s.names.byName {
		out = append(out, Name{Name: name, PID: p.pid})
	}
	s.names.mu.Unlock()
	slices.SortFunc(out, func(a, b Name) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Register registers the mailbox under name, as REG does a process.
func (mb *Mailbox) Register(name string) error { return mb.p.s.names.register(mb.p, name) }

// Register implements vm.Runtime.
func (p *process) Register(name string) error { return p.s.names.register(p, name) }

// nameWait is a process's WHEREIS of NAME@ALIAS: a lookup in flight, or
// its answer not yet taken. Its fields are guarded by the process's mu.
type nameWait struct {
	pending bool // asked, no answer yet
	done    bool // answered: pid is the answer
	pid     PID
	timer   *time.Timer // gives 0 after LookupTimeout
}

// Whereis implements vm.Runtime. A lookup on another member makes the
// process wait as RECV does: it returns done false with p.mu held (see
// Receive), and the answer, or LookupTimeout, makes the process runnable
// to run the WHEREIS again, which then takes the answer.
func (p *process) Whereis(ref string) (int32, bool, error) {
	name, alias, err := SplitName(ref)
	r := &p.s.names
	switch {
	case err != nil:
		return 0, true, err
	case alias == "":
		return int32(r.whereis(name)), true, nil
	}
	p.mu.Lock()
	if w := r.wait(p); w != nil {
		if w.done {
			return p.takeAnswer(), true, nil
		}
		return 0, false, nil // pending; p.mu held
	}
	lookup := r.lookup.Load()
	if lookup == nil {
		p.mu.Unlock()
		return 0, true, nil // no cluster: no such member
	}
	w := &nameWait{pending: true}
	r.setWait(p, w)
	p.s.timers.Add(1) // a wake-up to come: no deadlock meanwhile
	w.timer = time.AfterFunc(LookupTimeout, func() { p.answer(w, 0) })
	p.mu.Unlock()
	(*lookup).LookupName(alias, name, func(pid PID) { p.answer(w, pid) })
	p.mu.Lock()
	if w.done { // answered at once
		return p.takeAnswer(), true, nil
	}
	return 0, false, nil // p.mu held
}

// takeAnswer removes the answered lookup, unlocks p.mu and returns the
// answer.
func (p *process) takeAnswer() int32 {
	r := &p.s.names
	r.mu.Lock()
	w := r.takeWait(p)
	r.mu.Unlock()
	p.mu.Unlock()
	return int32(w.pid)
}

// answer is the answer of the lookup w, or its time-out: the first of
// them is kept and wakes the process.
func (p *process) answer(w *nameWait, pid PID) {
	p.mu.Lock()
	if !w.pending {
		p.mu.Unlock()
		return
	}
	w.pending, w.done, w.pid = false, true, pid
	wake := p.state.Load() == stateWaiting && !p.outWait
	if wake {
		p.state.Store(stateRunnable)
		p.s.active.Add(1)
	}
	p.mu.Unlock()
	w.timer.Stop()
	p.s.timers.Add(-1) // after the process counts active: see deactivate
	if wake {
		p.s.ready(p, nil, false)
	}
}
