package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/iridium-vm/iridium/vm"
)

// killWait bounds how long a kill request waits for the job to stop
// before it answers.
const killWait = 5 * time.Second

// refuse answers a request with why it was refused.
func (s *Service) refuse(to string, req uint64, why string) {
	s.send(to, KindReply, &replyMsg{Req: req, Err: wireText(why, maxErrorText)})
}

// offMessage is the refusal of every request while remote spawn is off.
func (s *Service) offMessage() string {
	return fmt.Sprintf("remote spawn is off on %s (--remote-spawn=off)", s.tr.Self())
}

// memberOwnerLocked returns the owner of the jobs run for member; s.mu
// is held.
func (s *Service) memberOwnerLocked(member string) *Owner {
	o := s.owners[member]
	if o == nil {
		o = &Owner{name: member, member: true}
		s.owners[member] = o
	}
	return o
}

// serveSpawn runs a program for member from, under this node's limits.
func (s *Service) serveSpawn(from string, m *spawnMsg) {
	if !s.cfg.RemoteSpawn {
		s.refuse(from, m.Req, s.offMessage())
		return
	}
	p, err := vm.DecodeProgram(m.Code)
	if err != nil {
		s.refuse(from, m.Req, "the program does not load: "+err.Error())
		return
	}
	s.mu.Lock()
	if err := s.admitRemoteLocked(from); err != nil {
		s.mu.Unlock()
		s.refuse(from, m.Req, s.tr.Self()+" "+err.Error())
		return
	}
	owner := s.memberOwnerLocked(from)
	s.mu.Unlock()

	var id int // set by Started, before the program runs
	var job *Job
	stopClock := func() bool { return false }
	ob := &outbox{batch: s.batchSize(), stop: make(chan struct{})}
	ob.send = func(ctx context.Context, text []byte, dropped uint64) error {
		err := s.sendCtx(ctx, from, KindOutput, &outputMsg{ID: id, Text: text, Dropped: dropped}, s.cfg.ReplyTimeout)
		if err != nil && !isBusy(err) {
			job.Kill() // the caller cannot be reached: stop its program
		}
		return err
	}
	_, err = s.t.Start(context.Background(), Spec{
		File: m.File, Owner: owner, Program: p, Config: s.cfg.VM, Output: ob,
		Started: func(j *Job) {
			id, job = j.ID, j
			reply := &replyMsg{Req: m.Req, ID: j.ID, Serial: j.PID().Serial()}
			if s.cfg.SelfRun != nil {
				reply.Run = s.cfg.SelfRun()
			}
			if err := s.send(from, KindReply, reply); err != nil {
				j.Kill() // the caller will not hear of it
			}
			stopClock = limitTime(j, s.cfg.RemoteJobTimeLimit, s.tr.Self())
			s.goWait(func() { ob.tick(s.ctx) })
		},
		Ended: func(j *Job) {
			stopClock()
			s.remoteEnded(from, j, ob)
		},
	})
	if err != nil {
		s.releaseRemote(from)
		if errors.Is(err, ErrTooMany) {
			s.refuse(from, m.Req, fmt.Sprintf("%s: %d programs run there already, the most at once (--max-jobs)", s.tr.Self(), s.t.maxRunning))
			return
		}
		s.refuse(from, m.Req, err.Error())
	}
}

// batchSize is the most output text one message carries.
func (s *Service) batchSize() int {
	n := s.tr.MaxMessageSize() - wireOverhead
	if n > 32<<10 {
		n = 32 << 10
	}
	if n < 64 {
		n = 64
	}
	return n
}

// remoteEnded sends the rest of a job's output and its end to the member
// it ran for.
func (s *Service) remoteEnded(to string, j *Job, ob *outbox) {
	dropped := ob.finish(s.cfg.ReplyTimeout / 2)
	s.releaseRemote(to)
	state, err := j.Status()
	m := &endMsg{ID: j.ID, State: EndWord(state), RunNS: int64(j.RunTime()), Dropped: dropped}
	if err != nil {
		m.Err = wireText(err.Error(), maxErrorText)
	}
	for _, r := range j.Changed() {
		m.Regs = append(m.Regs, regMsg{Index: uint8(r.Index), Float: r.Float, Int: r.Int, F64: r.F64})
	}
	// The end must reach the caller, or its job shows running for good: a
	// queue that stays full means a link that is not read, which the
	// cluster drops after its write timeout (then the send fails at once
	// and the caller reports the job lost), so waiting long costs nothing
	// but this ended job's goroutine.
	s.sendWithin(to, KindEnd, m, 6*s.cfg.ReplyTimeout)
}

// serveKill stops a job of this node for member from: only a job that
// member started here. A member cannot stop the jobs of another member
// nor those of this node's shells (this node's own !kill can).
func (s *Service) serveKill(from string, m *killMsg) {
	if !s.cfg.RemoteSpawn {
		s.refuse(from, m.Req, s.offMessage())
		return
	}
	j, err := s.t.Lookup(strconv.Itoa(m.ID))
	if err != nil || j.Member != "" {
		s.refuse(from, m.Req, fmt.Sprintf("no job %d on %s", m.ID, s.tr.Self()))
		return
	}
	s.mu.Lock()
	mine := j.Owner != nil && j.Owner == s.owners[from]
	s.mu.Unlock()
	if !mine {
		s.refuse(from, m.Req, fmt.Sprintf("job %s:%d was not started by %s: a member may stop only the jobs it started", s.tr.Self(), m.ID, from))
		return
	}
	if state, _ := j.Status(); state != Running {
		s.refuse(from, m.Req, fmt.Sprintf("job %s:%d (%s) has already stopped (%s)", s.tr.Self(), m.ID, j.File, state))
		return
	}
	j.Kill()
	s.goWait(func() { // answer once it has stopped, off the cluster's deliverer
		ctx, cancel := context.WithTimeout(s.ctx, killWait)
		defer cancel()
		if err := j.Wait(ctx); err != nil {
			s.refuse(from, m.Req, fmt.Sprintf("job %s:%d did not stop within %v", s.tr.Self(), m.ID, killWait))
			return
		}
		s.sendWithin(from, KindReply, &replyMsg{Req: m.Req}, s.cfg.ReplyTimeout/2)
	})
}

// serveList sends this node's jobs (not those it started elsewhere) to
// member from, the newest ones that fit in a message.
func (s *Service) serveList(from string, m *listMsg) {
	var rows []jobInfoMsg
	for _, j := range s.t.List() {
		if j.Member != "" {
			continue
		}
		state, _ := j.Status()
		rows = append(rows, jobInfoMsg{ID: j.ID, Owner: wireText(j.Owner.String(), maxOwnerName), Member: j.Owner != nil && j.Owner.member,
			File: wireText(j.File, maxFileName), State: state.String(), RunNS: int64(j.RunTime())})
	}
	if len(rows) > maxTableJobs {
		rows = rows[len(rows)-maxTableJobs:]
	}
	for {
		payload := encode(&tableMsg{Req: m.Req, Jobs: rows})
		if len(payload) <= s.tr.MaxMessageSize() || len(rows) == 0 {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ReplyTimeout)
			defer cancel()
			s.tr.Send(ctx, from, KindTable, payload)
			return
		}
		rows = rows[len(rows)/2:]
	}
}

// JobRow is one job of the cluster, as !cluster_jobs shows it.
type JobRow struct {
	Name    string // ALIAS:ID
	Owner   string // a member's alias, or SHELL@ALIAS for a shell of member ALIAS
	File    string
	State   string
	RunTime time.Duration
}

// ClusterJobs asks every member for its job table and returns the jobs of
// all, this node's first, and the members that did not answer and why.
func (s *Service) ClusterJobs(ctx context.Context) ([]JobRow, []string, error) {
	self := s.tr.Self()
	if self == "" {
		return nil, nil, errNoCluster
	}
	type asked struct {
		member string
		p      *pending
		err    error
	}
	var reqs []asked
	for _, alias := range s.members() {
		msg := &listMsg{}
		p, err := s.request(ctx, alias, KindList, msg, func(req uint64) { msg.Req = req }, nil)
		reqs = append(reqs, asked{alias, p, err})
	}
	var rows []JobRow
	for _, j := range s.t.List() {
		if j.Member == "" {
			state, _ := j.Status()
			rows = append(rows, JobRow{Name: self + ":" + strconv.Itoa(j.ID), Owner: ownerName(j.Owner.String(), j.Owner != nil && j.Owner.member, self),
				File: j.File, State: state.String(), RunTime: j.RunTime()})
		}
	}
	var missing []string
	for _, r := range reqs {
		a := answer{err: r.err}
		if r.p != nil {
			a = s.await(ctx, r.p)
		}
		if a.err != nil {
			missing = append(missing, fmt.Sprintf("%s: %v", r.member, a.err))
			continue
		}
		for _, j := range a.table {
			rows = append(rows, JobRow{Name: r.member + ":" + strconv.Itoa(j.ID), Owner: ownerName(j.Owner, j.Member, r.member),
				File: j.File, State: j.State, RunTime: time.Duration(j.RunNS)})
		}
	}
	return rows, missing, nil
}

// ownerName shows who started a job on member: another member's alias,
// or the name of a shell of member, as NAME@MEMBER.
func ownerName(owner string, isMember bool, member string) string {
	if isMember {
		return owner
	}
	return owner + "@" + member
}

// WaitOn waits until job id on member alias has stopped, asking for its
// state every poll, and returns the state it ended in.
func (s *Service) WaitOn(ctx context.Context, alias string, id int, poll time.Duration) (string, error) {
	for {
		msg := &listMsg{}
		p, err := s.request(ctx, alias, KindList, msg, func(req uint64) { msg.Req = req }, nil)
		if err != nil {
			return "", err
		}
		a := s.await(ctx, p)
		if a.err != nil {
			return "", a.err
		}
		found := false
		for _, j := range a.table {
			if j.ID == id {
				found = true
				if j.State != Running.String() {
					return j.State, nil
				}
			}
		}
		if !found {
			return "", fmt.Errorf("no job %d on %s", id, alias)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", context.Cause(ctx)
		case <-t.C:
		}
	}
}
