package repl

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/iridium-vm/iridium/vm"
)

// jobState is where a spawned program is in its life.
type jobState int

const (
	jobRunning jobState = iota
	jobFinished
	jobFaulted
	jobKilled
)

func (s jobState) String() string {
	switch s {
	case jobRunning:
		return "running"
	case jobFinished:
		return "finished"
	case jobFaulted:
		return "faulted"
	}
	return "killed"
}

// errKilled is the cause given to a job's context by !kill and on exit.
var errKilled = errors.New("killed")

// job is a program spawned on a VM of its own.
type job struct {
	id     int
	file   string
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the program has stopped and been announced

	// Set once, before done is closed.
	state jobState
	err   error
	// waited is set by !wait, so that a plain !wait reports each job once.
	waited bool
}

// jobTable holds the spawned programs of one REPL: at most maxRunning
// running at once, and at most keepJobs in all, older ended jobs being
// forgotten once nothing is left to report about them.
type jobTable struct {
	mu         sync.Mutex
	next       int
	maxRunning int
	jobs       map[int]*job
	wg         sync.WaitGroup
}

// keepJobs is how many jobs the table keeps before it forgets ended ones.
const keepJobs = 100

func newJobTable(maxRunning int) *jobTable {
	return &jobTable{next: 1, maxRunning: maxRunning, jobs: map[int]*job{}}
}

// spawner is what a job needs from the REPL: a VM configuration, where its
// output goes, and how it announces its end.
type spawner struct {
	cfg      vm.Config // Stdout is set per job
	out      *console
	announce func(j *job)
}

// start runs p on a new VM on its own goroutine, after started has been
// called with the new job. ctx's values are kept but not its
// cancellation: a job lives until it ends, is killed, or the REPL closes
// the table.
func (t *jobTable) start(ctx context.Context, file string, p *vm.Program, sp spawner, started func(*job)) error {
	t.mu.Lock()
	if n := t.runningLocked(); n >= t.maxRunning {
		t.mu.Unlock()
		if n == 1 {
			return errors.New("1 program runs already, the most at once: !kill or !wait for it first")
		}
		return fmt.Errorf("%d programs run already, the most at once: !kill or !wait for one first", n)
	}
	t.forgetLocked()
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	j := &job{id: t.next, file: file, cancel: cancel, done: make(chan struct{})}
	t.next++
	t.jobs[j.id] = j
	t.wg.Add(1)
	t.mu.Unlock()
	started(j)
	go t.run(ctx, j, p, sp)
	return nil
}

// runningLocked counts the running jobs; t.mu is held.
func (t *jobTable) runningLocked() int {
	n := 0
	for _, j := range t.jobs {
		if j.state == jobRunning {
			n++
		}
	}
	return n
}

// forgetLocked drops the oldest ended jobs past keepJobs, except faulted
// ones no !wait has reported yet; t.mu is held.
func (t *jobTable) forgetLocked() {
	if len(t.jobs) < keepJobs {
		return
	}
	ids := make([]int, 0, len(t.jobs))
	for id := range t.jobs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		if len(t.jobs) < keepJobs {
			return
		}
		if j := t.jobs[id]; isClosed(j.done) && (j.state != jobFaulted || j.waited) {
			delete(t.jobs, id)
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (t *jobTable) run(ctx context.Context, j *job, p *vm.Program, sp spawner) {
	defer t.wg.Done()
	defer j.cancel(nil)
	out := &lineWriter{dst: sp.out}
	cfg := sp.cfg
	cfg.Stdout = out
	m := vm.New(cfg)
	m.Load(p)
	err := m.Run(ctx)
	m.Reset() // give the heap back to the node-wide budget now
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	state := jobFinished
	switch {
	case errors.Is(err, errKilled):
		state = jobKilled
	case err != nil:
		state = jobFaulted
	}
	t.mu.Lock()
	j.state, j.err = state, err
	t.mu.Unlock()
	sp.announce(j)
	close(j.done)
}

// status returns a job's state and error under the lock.
func (t *jobTable) status(j *job) (jobState, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return j.state, j.err
}

// get returns the job with the id.
func (t *jobTable) get(id int) (*job, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.jobs[id]
	if !ok {
		return nil, fmt.Errorf("no job %d (!jobs lists them)", id)
	}
	return j, nil
}

// list returns every job, oldest first.
func (t *jobTable) list() []*job {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*job, 0, len(t.jobs))
	for _, j := range t.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].id < out[b].id })
	return out
}

// unwaited returns the jobs !wait has not waited for, oldest first.
func (t *jobTable) unwaited() []*job {
	var out []*job
	for _, j := range t.list() {
		t.mu.Lock()
		if !j.waited {
			out = append(out, j)
		}
		t.mu.Unlock()
	}
	return out
}

// markWaited records that !wait has seen the job end.
func (t *jobTable) markWaited(j *job) {
	t.mu.Lock()
	j.waited = true
	t.mu.Unlock()
}

// wait waits for the job to stop, or for ctx.
func wait(ctx context.Context, j *job) error {
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// closeAll kills every running job and waits for all of them.
func (t *jobTable) closeAll() {
	for _, j := range t.list() {
		j.cancel(errKilled)
	}
	t.wg.Wait()
}
