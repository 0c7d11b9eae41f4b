// Package jobs is the node's job table: the programs that run in the
// background as processes of the node's scheduler (package proc), shared
// by every shell of the node (the local terminal and each remote
// session), and the jobs this node started on other members of its
// cluster.
//
// A job records who started it (its Owner), writes its output to the
// writer it was started with, and announces its end to the callback it
// was started with. The table caps how many jobs run at once and forgets
// old ended jobs.
//
// Service is remote spawn: it runs programs other members send, and
// starts, follows, lists and stops programs on other members, as jobs
// named ALIAS:ID. It reaches the cluster through Transport, an interface
// of its own: this package imports nothing of package cluster. Its
// messages are described in docs/cluster.md.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// State is where a job is in its life.
type State int

// Job states. Every state but Running is final.
const (
	Running  State = iota
	Finished       // the program halted
	Faulted        // the program faulted; Job.Status gives the fault
	Killed         // stopped by Kill, KillOwner or Close
	Lost           // a job on another member that can no longer be heard from
)

// String is the state's word, as !jobs shows it ("running", "killed").
func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Finished:
		return "finished"
	case Faulted:
		return "faulted"
	case Killed:
		return "killed"
	case Lost:
		return "lost"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// ErrKilled is the cause a killed job's program is stopped with.
var ErrKilled = errors.New("killed")

// ErrTooMany is returned by Start when the table's running cap is reached.
var ErrTooMany = errors.New("too many jobs running")

// capError is ErrTooMany with the number of jobs running.
type capError int

func (n capError) Error() string {
	if n == 1 {
		return "1 program runs already, the most at once: !kill or !wait for it first"
	}
	return fmt.Sprintf("%d programs run already, the most at once: !kill or !wait for one first", int(n))
}

func (n capError) Is(target error) bool { return target == ErrTooMany }

// KeepJobs is how many jobs a table keeps before it forgets ended ones
// (the oldest first): those that no wait need report, and those whose end
// has been reported.
const KeepJobs = 100

// MaxKeptJobs bounds the jobs a table keeps, whatever happens: past it,
// the oldest ended jobs are forgotten even if they are faults or losses
// no wait has reported yet. Only running jobs count beyond it.
const MaxKeptJobs = 10 * KeepJobs

// Owner is who started a job: a shell, a remote session, or another
// member of the cluster. Owners are told apart by identity, not by name.
type Owner struct {
	name   string
	member bool // name is the alias of a member the job runs for
}

// NewOwner returns a new owner with a name to show.
func NewOwner(name string) *Owner { return &Owner{name: name} }

// String returns the owner's name.
func (o *Owner) String() string {
	if o == nil {
		return "-"
	}
	return o.name
}

// memberAlias returns the alias of the member the owner is, "" for any
// other owner: that member may kill the processes of its jobs
// (proc.StartOptions.Owner).
func (o *Owner) memberAlias() string {
	if o == nil || !o.member {
		return ""
	}
	return o.name
}

// Register is one register a program changed, as its end reports it.
type Register struct {
	Index int     // 0 to vm.NumRegisters-1
	Float bool    // a float register ($fN) rather than an integer one ($N)
	Int   int32   // the value of an integer register
	F64   float64 // the value of a float register
}

// String shows the register as "$N = V" or "$fN = V".
func (r Register) String() string {
	if r.Float {
		return vm.FloatRegisterLine(r.Index, r.F64)
	}
	return vm.RegisterLine(r.Index, r.Int)
}

// Job is one program running, or run, in the background. Its exported
// fields are set when it starts and never change.
type Job struct {
	// ID numbers the job on the node that runs it.
	ID int
	// Member is the alias of the member running the job, for a job this
	// node started elsewhere; "" for a job running here.
	Member string
	// File names the program, as given to the command that started it.
	File string
	// Owner started the job.
	Owner *Owner
	// Started is when the job started.
	Started time.Time

	t      *Table
	cancel func(cause error)
	done   chan struct{} // closed once the job has ended and been announced

	// Guarded by t.mu; final once done is closed.
	state   State
	err     error
	ended   time.Time
	changed []Register
	pid     proc.PID // its first process, for a job running here
	waited  bool     // !wait reported the job's end
	gone    bool     // forgotten, or replaced by a job of the same name
}

// Name is how commands name the job: "3" here, "n2:3" on member n2.
func (j *Job) Name() string {
	if j.Member == "" {
		return strconv.Itoa(j.ID)
	}
	return j.Member + ":" + strconv.Itoa(j.ID)
}

// PID returns the job's first process on the scheduler, for a job
// running here (set before Spec.Started is called); for a job on another
// member, its first process there as a PID of this node, or 0 if the
// member did not say.
func (j *Job) PID() proc.PID {
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	return j.pid
}

// Status returns the job's state and, for a fault or a loss, why.
func (j *Job) Status() (State, error) {
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	return j.state, j.err
}

// RunTime is how long the job ran, or has run so far.
func (j *Job) RunTime() time.Duration {
	j.t.mu.Lock()
	end := j.ended
	j.t.mu.Unlock()
	if end.IsZero() {
		return time.Since(j.Started)
	}
	return end.Sub(j.Started)
}

// Changed returns the registers the program left non-zero when it ended
// (each job starts with every register 0); nil while it runs.
func (j *Job) Changed() []Register {
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	return j.changed
}

// Done is closed once the job has ended and its end has been announced.
func (j *Job) Done() <-chan struct{} { return j.done }

// Kill asks the job to stop. A local job stops at once; a job on another
// member stops when that member says so (or is lost). Wait for Done.
func (j *Job) Kill() { j.cancel(ErrKilled) }

// Wait waits for the job to end, or for ctx; it returns ctx's cause then.
func (j *Job) Wait(ctx context.Context) error {
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// MarkWaited records that a wait reported the job's end, so that a fault
// is reported once and the job may be forgotten.
func (j *Job) MarkWaited() {
	j.t.mu.Lock()
	j.waited = true
	j.t.mu.Unlock()
}

// Table holds the jobs of a node. It is safe for use by many goroutines.
type Table struct {
	maxRunning int
	ownsSched  bool // sched is the table's own, stopped by Close

	mu      sync.Mutex
	sched   *proc.Scheduler // nil until first needed, for a table of NewTable
	nextID  int
	jobs    map[string]*Job // by Name
	order   []*Job          // oldest first; may hold gone jobs
	running int             // local jobs running
	closed  bool
	wg      sync.WaitGroup // local jobs' goroutines
}

// NewTable returns a table in which at most maxRunning local jobs run at
// once (at least 1), as processes of a scheduler of its own, made when
// first needed and stopped by Close.
func NewTable(maxRunning int) *Table {
	t := NewTableOn(nil, maxRunning)
	t.ownsSched = true
	return t
}

// NewTableOn returns a table in which at most maxRunning local jobs run
// at once (at least 1), as processes of sched. Close the table before
// sched.
func NewTableOn(sched *proc.Scheduler, maxRunning int) *Table {
	if maxRunning < 1 {
		maxRunning = 1
	}
	return &Table{maxRunning: maxRunning, sched: sched, nextID: 1, jobs: map[string]*Job{}}
}

// Scheduler returns the scheduler the table's local jobs run on.
func (t *Table) Scheduler() *proc.Scheduler {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.schedulerLocked()
}

// schedulerLocked returns the table's scheduler, made now if the table
// makes its own; t.mu is held.
func (t *Table) schedulerLocked() *proc.Scheduler {
	if t.sched == nil {
		t.sched = proc.New(proc.Config{})
	}
	return t.sched
}

// Spec says how to run a program as a local job.
type Spec struct {
	File    string
	Owner   *Owner
	Program *vm.Program
	// Config is the VM's configuration; its Stdout is replaced by Output.
	Config vm.Config
	// Output receives what the program prints. If it has a method
	// Flush() error, that is called when the program ends.
	Output io.Writer
	// Faults, if set, receives a line for each fault of a process the
	// program spawned (its first process's fault is the job's end).
	// Default: Output.
	Faults io.Writer
	// Started, if set, is called with the new job before its program
	// starts, so that it can be announced before any output.
	Started func(*Job)
	// Ended, if set, is called once the job has ended, on the job's
	// goroutine, before Done is closed.
	Ended func(*Job)
}

// Start runs spec's program as a new process of the table's scheduler
// (with every process it spawns, the job's program). ctx's values are
// kept but not its cancellation: a job lives until its first process
// ends, it is killed, or the table is closed. When the first process
// ends, the rest of the program is killed.
func (t *Table) Start(ctx context.Context, spec Spec) (*Job, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, errors.New("the job table is closed")
	}
	if t.running >= t.maxRunning {
		t.mu.Unlock()
		return nil, capError(t.running)
	}
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	j := t.addLocked(t.nextID, "", spec.File, spec.Owner, cancel)
	t.nextID++
	t.running++
	t.wg.Add(1)
	sched := t.schedulerLocked()
	t.mu.Unlock()
	out, faults := &gate{w: spec.Output}, &gate{w: spec.Faults}
	var faultsTo io.Writer = faults
	if spec.Faults == nil {
		faults, faultsTo = out, nil // in order with the output, through its queue
	}
	cfg := spec.Config
	cfg.Stdout = out
	h, err := sched.Start(spec.Program, proc.StartOptions{
		Name: filepath.Base(spec.File), VM: cfg, Faults: faultsTo, CallerReportsFault: true, Owner: spec.Owner.memberAlias(),
		Starting: func(pid proc.PID) {
			t.mu.Lock()
			j.pid = pid
			t.mu.Unlock()
			if spec.Started != nil {
				spec.Started(j)
			}
		},
	})
	if err != nil {
		t.unstart(j)
		cancel(nil)
		return nil, err
	}
	go t.watch(ctx, sched, j, h, []*gate{out, faults}, spec)
	return j, nil
}

// unstart takes back a job whose program could not start.
func (t *Table) unstart(j *Job) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j.gone = true
	if t.jobs[j.Name()] == j {
		delete(t.jobs, j.Name())
	}
	t.running--
	t.wg.Done()
}

// addLocked enters a new running job; t.mu is held.
func (t *Table) addLocked(id int, member, file string, owner *Owner, cancel func(error)) *Job {
	t.forgetLocked()
	j := &Job{ID: id, Member: member, File: file, Owner: owner, Started: time.Now(),
		t: t, cancel: cancel, done: make(chan struct{})}
	if old := t.jobs[j.Name()]; old != nil {
		old.gone = true
	}
	t.jobs[j.Name()] = j
	t.order = append(t.order, j)
	return j
}

// forgetLocked makes room for a new job; t.mu is held. Oldest first, it
// drops the ended jobs past KeepJobs that need no report, then, past
// MaxKeptJobs, ended jobs whatever their report. It walks the jobs in
// start order once or twice, and the table it walks is bounded: its cost
// does not grow with the number of jobs ever started.
func (t *Table) forgetLocked() {
	if len(t.order) < KeepJobs {
		return
	}
	t.dropLocked(KeepJobs, (*Job).reportedLocked)
	if len(t.jobs) >= MaxKeptJobs {
		t.dropLocked(MaxKeptJobs, func(*Job) bool { return true })
	}
}

// dropLocked forgets, oldest first, the ended jobs for which may is true
// until fewer than keep are left, and the entries of replaced jobs; t.mu
// is held.
func (t *Table) dropLocked(keep int, may func(*Job) bool) {
	kept := t.order[:0]
	for _, j := range t.order {
		if j.gone {
			continue
		}
		if len(t.jobs) >= keep && may(j) && isClosed(j.done) {
			delete(t.jobs, j.Name())
			j.gone = true
			continue
		}
		kept = append(kept, j)
	}
	clear(t.order[len(kept):]) // let the forgotten jobs go
	t.order = kept
}

// reportedLocked is whether the job's end needs no (more) report here: a
// wait reported it, it is no fault or loss, or it ran for another member,
// who was sent its end. t.mu is held.
func (j *Job) reportedLocked() bool {
	return j.waited || (j.state != Faulted && j.state != Lost) || (j.Owner != nil && j.Owner.member)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// watch waits for the end of the job's first process, or for a kill
// (ctx's cancellation), which ends every process of the program, and
// settles the job.
func (t *Table) watch(ctx context.Context, sched *proc.Scheduler, j *Job, h *proc.Handle, gates []*gate, spec Spec) {
	defer t.wg.Done()
	defer j.cancel(nil)
	stopped := false
	select {
	case <-h.Done():
	case <-ctx.Done():
		h.KillProgram()
		select {
		case <-h.Done():
		case <-sched.Stopped():
			stopped = true
		}
	case <-sched.Stopped():
		stopped = true
	}
	h.KillProgram() // the processes the first one spawned end with it
	quiet := true
	for _, g := range gates {
		idle := g.close() // and print no more, whether they have ended yet or not
		if idle == nil {
			continue
		}
		select {
		case <-idle:
		case <-ctx.Done(): // killed: a destination that does not read cannot hold it
			quiet = false
		}
	}
	state, err, changed := Killed, errors.New("the node's scheduler stopped"), []Register(nil)
	if !stopped {
		state, changed, err = ending(ctx, h)
	}
	if f, ok := spec.Output.(interface{ Flush() error }); ok && quiet {
		if ferr := f.Flush(); ferr != nil && err == nil {
			state, err = Faulted, fmt.Errorf("write output: %w", ferr)
		}
	}
	t.settle(j, state, err, changed, time.Now(), spec.Ended)
}

// ending returns how the job whose first process h has ended ended, and
// gives that process's heap back to the node-wide budget. ctx is the
// job's: the cause of its cancellation tells a time limit from a kill.
func ending(ctx context.Context, h *proc.Handle) (State, []Register, error) {
	state, err := Finished, error(nil)
	switch exit := h.Exit(); {
	case exit.Reason == proc.Killed:
		state, err = Killed, killReason(context.Cause(ctx))
	case exit.Err != nil:
		state, err = Faulted, exit.Err
	}
	changed := nonZero(h.VM())
	h.VM().Reset()
	return state, changed, err
}

// gate passes a job's output on until it is closed, then drops it: the
// processes a job's first one spawned may still print as they are killed.
// One goroutine writes through it at a time (the program's output queue,
// or the scheduler's lock on faults); no lock is held while it writes.
type gate struct {
	mu      sync.Mutex
	w       io.Writer
	closed  bool
	writing bool
	idle    chan struct{} // closed when the write in progress at close ends
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	if g.closed || g.w == nil {
		g.mu.Unlock()
		return len(p), nil
	}
	g.writing = true
	g.mu.Unlock()
	n, err := g.w.Write(p)
	g.mu.Lock()
	g.writing = false
	if g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
	g.mu.Unlock()
	return n, err
}

// close drops every later write, and returns a channel closed once the
// write in progress has ended, or nil if none is.
func (g *gate) close() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if !g.writing {
		return nil
	}
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	return g.idle
}

// settle records how a job ended, announces it and closes Done, unless
// the job has ended already.
func (t *Table) settle(j *Job, state State, err error, changed []Register, at time.Time, announce func(*Job)) {
	t.mu.Lock()
	if j.state != Running {
		t.mu.Unlock()
		return
	}
	j.state, j.err, j.changed, j.ended = state, err, changed, at
	if j.Member == "" {
		t.running--
	}
	t.mu.Unlock()
	if announce != nil {
		announce(j)
	}
	close(j.done)
}

// track enters a job that runs on another member, as member:id; kill asks
// that member to stop it. An entry of the same name is replaced.
func (t *Table) track(member string, id int, file string, owner *Owner, kill func(error)) *Job {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addLocked(id, member, file, owner, kill)
}

// setPID sets the PID of j, a job on another member.
func (t *Table) setPID(j *Job, pid proc.PID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j.pid = pid
}

// nonZero lists the registers of m that are not zero.
func nonZero(m *vm.VM) []Register {
	var out []Register
	for i, v := range m.Registers() {
		if v != 0 {
			out = append(out, Register{Index: i, Int: v})
		}
	}
	for i, v := range m.FloatRegisters() {
		if v != 0 || math.Signbit(v) {
			out = append(out, Register{Index: i, Float: true, F64: v})
		}
	}
	return out
}

// Lookup finds a job by name: "3" (or "%3") for a job of this node,
// "n2:3" for one this node started on member n2.
func (t *Table) Lookup(name string) (*Job, error) {
	key := strings.TrimPrefix(name, "%")
	if member, id, ok := strings.Cut(key, ":"); ok {
		if _, err := strconv.Atoi(id); err != nil || member == "" {
			return nil, fmt.Errorf("%q is not a job name (a number, or ALIAS:NUMBER, as !jobs shows)", name)
		}
	} else if _, err := strconv.Atoi(key); err != nil {
		return nil, fmt.Errorf("%q is not a job id (a number, as !jobs shows)", name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.jobs[key]
	if !ok {
		return nil, fmt.Errorf("no job %s (!jobs lists them)", key)
	}
	return j, nil
}

// List returns every job, oldest first.
func (t *Table) List() []*Job {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sortedLocked()
}

// sortedLocked returns the jobs in start order; t.mu is held.
func (t *Table) sortedLocked() []*Job {
	out := make([]*Job, 0, len(t.jobs))
	for _, j := range t.order {
		if !j.gone {
			out = append(out, j)
		}
	}
	return out
}

// Unwaited returns owner's jobs that no wait has reported, oldest first.
func (t *Table) Unwaited(owner *Owner) []*Job {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*Job
	for _, j := range t.sortedLocked() {
		if j.Owner == owner && !j.waited {
			out = append(out, j)
		}
	}
	return out
}

// KillOwner kills owner's running jobs and waits for them to end. Jobs
// on other members are asked to stop but not waited for.
func (t *Table) KillOwner(owner *Owner) {
	var local []*Job
	for _, j := range t.List() {
		if j.Owner != owner {
			continue
		}
		j.Kill()
		if j.Member == "" {
			local = append(local, j)
		}
	}
	for _, j := range local {
		<-j.done
	}
}

// Close kills every job, waits for the local ones, and refuses new ones;
// a table made by NewTable stops its scheduler then.
func (t *Table) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	for _, j := range t.List() {
		j.Kill()
	}
	t.wg.Wait()
	t.mu.Lock()
	sched := t.sched
	t.mu.Unlock()
	if t.ownsSched && sched != nil {
		sched.Close()
	}
}

// ByPID returns the local job whose first process is pid, or nil.
func (t *Table) ByPID(pid proc.PID) *Job {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.order) - 1; i >= 0; i-- { // the newest, should a PID come round again
		if j := t.order[i]; !j.gone && j.Member == "" && j.pid == pid {
			return j
		}
	}
	return nil
}
