package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// Transport is what remote spawn needs from the cluster: this node's
// alias, the members it can reach, and sending a message of a kind to one
// of them. Messages arrive through Service.Receive; a member failing or
// leaving through Service.MemberGone.
type Transport interface {
	// Self returns this node's alias, or "" while it is in no cluster.
	Self() string
	// Members returns the aliases of the other members alive now.
	Members() []string
	// Send queues a message for a member, waiting while the link's
	// queue is full until ctx ends. An error that wraps ctx's error means
	// "not now"; any other means "not at all".
	Send(ctx context.Context, to, kind string, payload []byte) error
	// MaxMessageSize is the largest payload Send takes.
	MaxMessageSize() int
}

// Defaults of ServiceConfig.
const (
	DefaultMaxRemoteJobs = 8
	DefaultReplyTimeout  = 10 * time.Second
)

// ServiceConfig configures a Service. Zero fields take their defaults.
type ServiceConfig struct {
	// Table is the node's job table: jobs run for other members are
	// entered there (and count against its cap), and so are the jobs
	// this node starts elsewhere, as ALIAS:ID. Required.
	Table *Table
	// Transport carries the messages. Required.
	Transport Transport
	// RemoteSpawn accepts programs from other members; when false they
	// are refused with a message that says so (--remote-spawn=off).
	RemoteSpawn bool
	// MaxRemoteJobs bounds the jobs other members may run here at once.
	// Default DefaultMaxRemoteJobs.
	MaxRemoteJobs int
	// MaxRemoteJobsPerMember bounds the jobs one member may run here at
	// once, so that one member cannot take every place of MaxRemoteJobs.
	// Default: half of MaxRemoteJobs, rounded up.
	MaxRemoteJobsPerMember int
	// RemoteJobTimeLimit, when positive, is how long a job run for
	// another member may run before it is killed. Default 0: no limit.
	RemoteJobTimeLimit time.Duration
	// VM sets the limits of the VMs that run programs for other members.
	VM vm.Config
	// ReplyTimeout bounds the wait for a member's answer to a request.
	// Default DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// Report, if set, is told of malformed messages from members, at most
	// about once a second.
	Report func(string)
	// SelfRun, if set, returns this node's run (its cluster incarnation),
	// sent with a spawn's answer so that the caller can address the
	// program's first process.
	SelfRun func() uint64
	// ImportPID, if set, makes a PID of this node for the process serial
	// of member alias's run, 0 if it cannot: a job started elsewhere gets
	// it as its PID.
	ImportPID func(alias string, run uint64, serial uint32) proc.PID
}

// Service runs programs sent by other members, and starts, follows and
// stops programs on other members for this node's shells. It is safe for
// use by many goroutines; Unknown and MemberGone never block, Receive
// waits at most ReplyTimeout for room on a link. Close stops every
// goroutine it started.
type Service struct {
	cfg ServiceConfig
	t   *Table
	tr  Transport
	// ctx ends with Close; every wait of the service ends with it.
	ctx    context.Context
	cancel context.CancelFunc

	goMu   sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup // the goroutines the service started

	mu         sync.Mutex
	nextReq    uint64
	pending    map[uint64]*pending
	tracked    map[string]*tracked // jobs started elsewhere, by name
	owners     map[string]*Owner   // the owners of jobs run here for members
	remoteBy   map[string]int      // jobs run here for members now, per member
	lastReport time.Time
	unreported int
}

// pending is a request waiting for its answer.
type pending struct {
	member, kind string
	spec         *RemoteSpec // for spawn requests
	reply        chan answer // buffered: the answer is sent once, never waited for
}

// answer is what came back for a request.
type answer struct {
	job   *Job         // a spawn's job
	table []jobInfoMsg // a list's table
	err   error
}

// tracked is a job started elsewhere for this node.
type tracked struct {
	job  *Job
	pr   *printer
	spec RemoteSpec
}

// NewService returns a service on cfg's table and transport.
func NewService(cfg ServiceConfig) *Service {
	if cfg.MaxRemoteJobs <= 0 {
		cfg.MaxRemoteJobs = DefaultMaxRemoteJobs
	}
	if cfg.MaxRemoteJobsPerMember <= 0 {
		cfg.MaxRemoteJobsPerMember = (cfg.MaxRemoteJobs + 1) / 2
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = DefaultReplyTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{cfg: cfg, t: cfg.Table, tr: cfg.Transport, ctx: ctx, cancel: cancel,
		pending: map[uint64]*pending{}, tracked: map[string]*tracked{}, owners: map[string]*Owner{},
		remoteBy: map[string]int{}}
}

// Close stops the service: its waits end, the requests waiting for an
// answer fail, and it waits for every goroutine it started (the output
// printers of jobs run elsewhere, the senders of answers and kills). It
// does not stop the jobs of the table. Close may be called more than once.
func (s *Service) Close() {
	s.goMu.Lock()
	s.closed = true
	s.goMu.Unlock()
	s.cancel()
	s.failPending(func(*pending) bool { return true }, errServiceClosed)
	s.wg.Wait()
}

// errServiceClosed is the answer of requests once the service is closed.
var errServiceClosed = errors.New("the remote spawn service is closed")

// goWait runs f on a goroutine that Close waits for, unless the service
// is closed.
func (s *Service) goWait(f func()) {
	s.goMu.Lock()
	defer s.goMu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// send encodes and sends a message, waiting at most ReplyTimeout for
// room on the link.
func (s *Service) send(to, kind string, m wireMsg) error {
	return s.sendWithin(to, kind, m, s.cfg.ReplyTimeout)
}

// sendWithin sends a message, waiting at most wait for room on the link.
func (s *Service) sendWithin(to, kind string, m wireMsg, wait time.Duration) error {
	return s.sendCtx(context.Background(), to, kind, m, wait)
}

// sendCtx sends a message, waiting for room on the link at most wait and
// while ctx and the service last.
func (s *Service) sendCtx(ctx context.Context, to, kind string, m wireMsg, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	return s.tr.Send(ctx, to, kind, encode(m))
}

// report tells of a bad message, at most about once a second.
func (s *Service) report(msg string) {
	if s.cfg.Report == nil {
		return
	}
	s.mu.Lock()
	if time.Since(s.lastReport) < time.Second {
		s.unreported++
		s.mu.Unlock()
		return
	}
	more := s.unreported
	s.lastReport, s.unreported = time.Now(), 0
	s.mu.Unlock()
	if more > 0 {
		msg += fmt.Sprintf(" (and %d more bad messages)", more)
	}
	s.cfg.Report(msg)
}

// Receive handles a message of one of Kinds from member from. It runs on
// the cluster's deliverer of that member's messages; it waits at most
// ReplyTimeout, for room to answer.
func (s *Service) Receive(from, kind string, payload []byte) {
	m, err := decode(kind, payload)
	if err != nil {
		s.report(fmt.Sprintf("remote spawn: dropped a message from %s: %v", from, err))
		return
	}
	switch m := m.(type) {
	case *spawnMsg:
		s.serveSpawn(from, m)
	case *killMsg:
		s.serveKill(from, m)
	case *listMsg:
		s.serveList(from, m)
	case *replyMsg:
		s.gotReply(from, m)
	case *tableMsg:
		s.gotTable(from, m)
	case *outputMsg:
		if tr := s.lookupTracked(from, m.ID); tr != nil {
			tr.pr.push(m.Text, m.Dropped)
		}
	case *endMsg:
		if tr := s.lookupTracked(from, m.ID); tr != nil {
			s.gotEnd(tr, m)
		}
	}
}

// Unknown handles a member's answer that it has no handler for a kind
// this node sent it: the requests of that kind to it fail, saying so.
func (s *Service) Unknown(from, kind string) {
	s.failPending(func(p *pending) bool { return p.member == from && p.kind == kind },
		fmt.Errorf("%s does not know %s messages (an Iridium without remote spawn?)", from, termtext.Cut(kind, 64)))
}

// MemberGone handles a member failing, leaving or closing its link: the
// jobs it ran for this node are lost, the requests to it fail, and the
// jobs this node ran for it are stopped. why is how it went ("failed").
func (s *Service) MemberGone(alias, why string) {
	err := fmt.Errorf("%s %s", alias, why)
	s.failPending(func(p *pending) bool { return p.member == alias }, err)
	s.mu.Lock()
	var lost []*tracked
	for _, tr := range s.tracked {
		if tr.job.Member == alias {
			lost = append(lost, tr)
		}
	}
	owner := s.owners[alias]
	delete(s.owners, alias)
	s.mu.Unlock()
	for _, tr := range lost {
		s.endTracked(tr, Lost, err, nil, time.Now(), 0)
	}
	if owner != nil {
		s.goWait(func() { s.t.KillOwner(owner) })
	}
}

// LeftCluster handles this node leaving its cluster: every member is
// gone for it.
func (s *Service) LeftCluster() {
	s.mu.Lock()
	members := map[string]bool{}
	for _, tr := range s.tracked {
		members[tr.job.Member] = true
	}
	for alias := range s.owners {
		members[alias] = true
	}
	for _, p := range s.pending {
		members[p.member] = true
	}
	s.mu.Unlock()
	for alias := range members {
		s.MemberGone(alias, "is out of reach: this node left the cluster")
	}
}

func (s *Service) failPending(match func(*pending) bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for req, p := range s.pending {
		if match(p) {
			delete(s.pending, req)
			p.reply <- answer{err: err}
		}
	}
}

// request sends a request and registers it for its answer.
func (s *Service) request(ctx context.Context, member, kind string, m wireMsg, setReq func(uint64), spec *RemoteSpec) (*pending, error) {
	s.mu.Lock()
	s.nextReq++
	req := s.nextReq
	p := &pending{member: member, kind: kind, spec: spec, reply: make(chan answer, 1)}
	s.pending[req] = p
	s.mu.Unlock()
	setReq(req)
	if err := s.sendCtx(ctx, member, kind, m, s.cfg.ReplyTimeout); err != nil {
		s.mu.Lock()
		delete(s.pending, req)
		s.mu.Unlock()
		return nil, fmt.Errorf("send to %s: %w", member, err)
	}
	return p, nil
}

// await waits for a request's answer, for ctx, or for the reply timeout.
func (s *Service) await(ctx context.Context, p *pending) answer {
	timer := time.NewTimer(s.cfg.ReplyTimeout)
	defer timer.Stop()
	select {
	case a := <-p.reply:
		return a
	case <-ctx.Done():
		return s.abandon(p, context.Cause(ctx))
	case <-timer.C:
		return s.abandon(p, fmt.Errorf("no answer from %s within %v", p.member, s.cfg.ReplyTimeout))
	case <-s.ctx.Done():
		return s.abandon(p, errServiceClosed)
	}
}

// abandon gives up on a request. An answer that came in the meantime is
// taken; a job it started is killed, since no one waits for it.
func (s *Service) abandon(p *pending, why error) answer {
	s.mu.Lock()
	for req, q := range s.pending {
		if q == p {
			delete(s.pending, req)
			s.mu.Unlock()
			return answer{err: why}
		}
	}
	s.mu.Unlock()
	a := <-p.reply // answered while we gave up: the answer is there
	if a.job != nil {
		a.job.Kill()
		s.startPrinting(a.job)
	}
	return answer{err: why}
}

// takePendingLocked removes and returns the request req if member sent
// it an answer of a kind it can have; s.mu is held.
func (s *Service) takePendingLocked(req uint64, member string, kinds ...string) *pending {
	p := s.pending[req]
	if p == nil || p.member != member {
		return nil
	}
	for _, k := range kinds {
		if p.kind == k {
			delete(s.pending, req)
			return p
		}
	}
	return nil
}

func (s *Service) gotReply(from string, m *replyMsg) {
	s.mu.Lock()
	p := s.takePendingLocked(m.Req, from, KindSpawn, KindKill)
	if p == nil {
		s.mu.Unlock()
		if m.ID != 0 { // a job started for a request given up: stop it
			s.killOn(from, m.ID)
		}
		return
	}
	defer s.mu.Unlock()
	switch {
	case m.Err != "":
		p.reply <- answer{err: fmt.Errorf("%s refused: %s", from, m.Err)}
	case p.kind == KindKill:
		p.reply <- answer{}
	case m.ID == 0:
		p.reply <- answer{err: fmt.Errorf("%s answered with no job", from)}
	default:
		j := s.trackLocked(from, m.ID, *p.spec)
		if s.cfg.ImportPID != nil && m.Serial != 0 {
			s.t.setPID(j, s.cfg.ImportPID(from, m.Run, m.Serial))
		}
		p.reply <- answer{job: j}
	}
}

// gotTable answers a list request with the rows of a member's table that
// are valid; the bad ones are dropped and reported.
func (s *Service) gotTable(from string, m *tableMsg) {
	s.mu.Lock()
	p := s.takePendingLocked(m.Req, from, KindList)
	s.mu.Unlock()
	if p == nil {
		return
	}
	if n, why := m.dropBadRows(); n > 0 {
		rows := "1 bad row"
		if n > 1 {
			rows = Count(uint64(n)) + " bad rows"
		}
		s.report(fmt.Sprintf("remote spawn: dropped %s of the job table from %s, kept %d (first: %s)",
			rows, from, len(m.Jobs), why))
	}
	p.reply <- answer{table: m.Jobs}
}

// trackLocked enters a job started on member; its printer waits for
// startPrinting. s.mu is held.
func (s *Service) trackLocked(member string, id int, spec RemoteSpec) *Job {
	name := member + ":" + strconv.Itoa(id)
	if old := s.tracked[name]; old != nil { // the member restarted and reused the id
		s.goWait(func() { s.endTracked(old, Lost, fmt.Errorf("%s restarted", member), nil, time.Now(), 0) })
	}
	j := s.t.track(member, id, spec.File, spec.Owner, func(error) { s.killOn(member, id) })
	label := "[" + name + "] "
	if spec.Plain {
		label = ""
	}
	pr := newPrinter(spec.Output, label)
	s.goWait(func() { pr.run(s.ctx) })
	s.tracked[name] = &tracked{job: j, pr: pr, spec: spec}
	return j
}

func (s *Service) lookupTracked(member string, id int) *tracked {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tracked[member+":"+strconv.Itoa(id)]
}

// startPrinting lets a tracked job's output through.
func (s *Service) startPrinting(j *Job) {
	s.mu.Lock()
	tr := s.tracked[j.Name()]
	s.mu.Unlock()
	if tr != nil && tr.job == j {
		tr.pr.start()
	}
}

func (s *Service) gotEnd(tr *tracked, m *endMsg) {
	regs := make([]Register, len(m.Regs))
	for i, r := range m.Regs {
		regs[i] = Register{Index: int(r.Index), Float: r.Float, Int: r.Int, F64: r.F64}
	}
	var err error
	if m.Err != "" {
		err = errors.New(m.Err)
	}
	s.endTracked(tr, endStates[m.State], err, regs, tr.job.Started.Add(time.Duration(m.RunNS)), m.Dropped)
}

// endTracked ends a tracked job after the output queued before its end.
func (s *Service) endTracked(tr *tracked, state State, err error, regs []Register, at time.Time, dropped uint64) {
	tr.pr.finish(dropped, func() {
		s.mu.Lock()
		if s.tracked[tr.job.Name()] == tr {
			delete(s.tracked, tr.job.Name())
		}
		s.mu.Unlock()
		s.t.settle(tr.job, state, err, regs, at, tr.spec.Ended)
	})
}

// killOn asks member to stop its job id, not waiting for the answer.
func (s *Service) killOn(member string, id int) {
	s.mu.Lock()
	s.nextReq++
	req := s.nextReq
	s.mu.Unlock()
	s.goWait(func() { s.send(member, KindKill, &killMsg{Req: req, ID: id}) })
}

// RemoteSpec says how to run a program on another member.
type RemoteSpec struct {
	File    string
	Owner   *Owner
	Program *vm.Program
	// Output receives the job's lines as they arrive, one Write a line,
	// each marked with the job's name ("[n2:3] ") unless Plain, and the
	// lines that stand for dropped ones. A line is as the member sent it
	// (cut to 4 KiB, not escaped): Output escapes it to show it.
	Output io.Writer
	Plain  bool
	// Started, if set, is called with the job before any of its output.
	Started func(*Job)
	// Ended, if set, is called after the job's last line, once it has
	// ended (done, fault, killed or lost).
	Ended func(*Job)
}

// errNoCluster is the answer while the node is in no cluster.
var errNoCluster = errors.New("this node is in no cluster (!start_cluster or !join_cluster first)")

// SpawnOn sends spec's program to member alias and runs it there as a job,
// entered here as ALIAS:ID. It fails, sending nothing, when the program is
// too large for a cluster message.
func (s *Service) SpawnOn(ctx context.Context, alias string, spec RemoteSpec) (*Job, error) {
	self := s.tr.Self()
	switch {
	case self == "":
		return nil, errNoCluster
	case alias == self:
		return nil, fmt.Errorf("%s is this node (!spawn runs a program here)", alias)
	case !s.isMember(alias):
		return nil, fmt.Errorf("no member \"%s\" is alive (!cluster_members lists them)", termtext.Cut(alias, 64))
	}
	code, err := spec.Program.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if max := s.tr.MaxMessageSize(); len(code)+len(spec.File)+wireOverhead > max {
		return nil, fmt.Errorf("the program is %s bytes of bytecode, %s with its message; a cluster message carries at most %s (--max-frame-size)",
			Count(uint64(len(code))), Count(uint64(len(code)+len(spec.File)+wireOverhead)), Count(uint64(max)))
	}
	msg := &spawnMsg{File: wireText(spec.File, maxFileName), Code: code}
	p, err := s.request(ctx, alias, KindSpawn, msg, func(req uint64) { msg.Req = req }, &spec)
	if err != nil {
		return nil, err
	}
	a := s.await(ctx, p)
	if a.err != nil {
		return nil, a.err
	}
	if spec.Started != nil {
		spec.Started(a.job)
	}
	s.startPrinting(a.job)
	return a.job, nil
}

// Self returns this node's alias, or "" while it is in no cluster.
func (s *Service) Self() string { return s.tr.Self() }

func (s *Service) isMember(alias string) bool { return slices.Contains(s.tr.Members(), alias) }

// members returns the other members, sorted.
func (s *Service) members() []string {
	ms := s.tr.Members()
	sort.Strings(ms)
	return ms
}

// KillOn asks member alias to stop its job id and waits for its answer.
func (s *Service) KillOn(ctx context.Context, alias string, id int) error {
	if s.tr.Self() == "" {
		return errNoCluster
	}
	msg := &killMsg{ID: id}
	p, err := s.request(ctx, alias, KindKill, msg, func(req uint64) { msg.Req = req }, nil)
	if err != nil {
		return err
	}
	return s.await(ctx, p).err
}
