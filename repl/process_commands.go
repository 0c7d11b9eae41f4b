package repl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// processCommands are the commands of the node's processes. The shell is
// a process too, without a VM: a PID that processes send to, and an
// inbox. PIDs are written <N> (proc.PID's form), and every command takes
// them back so.
func processCommands() []command {
	return []command{
		{name: "!self", help: "print this shell's PID, to which processes can send", run: (*Shell).cmdSelf},
		{name: "!send", args: "PID|NAME[@ALIAS] VALUE", help: "send VALUE (an integer, or a PID like <7>) to the process PID, of this node or another (<2.7>), or to the one registered as NAME here or on member ALIAS", min: 2, max: 2, run: (*Shell).cmdSend},
		{name: "!inbox", help: "print, and take, the messages sent to this shell", run: (*Shell).cmdInbox},
		{name: "!ps", args: "[ALIAS]", help: "list the node's processes (or member ALIAS's): PID, program, state, reductions, mailbox, dropped messages, memory", max: 1, run: (*Shell).cmdPs},
	}
}

// scheduler returns the node's scheduler (that of the shell's jobs, if
// the shell was given none), and the shell's mailbox on it.
func (s *Shell) scheduler() (*proc.Scheduler, *proc.Mailbox) {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	if s.procs == nil {
		s.procs = s.opts.Procs
		if s.procs == nil {
			s.procs = s.jobs.Scheduler()
		}
	}
	if s.inbox == nil {
		s.inbox = s.procs.Attach("shell " + s.opts.JobOwner)
	}
	return s.procs, s.inbox
}

// closeMailbox ends the shell as a process, if it became one.
func (s *Shell) closeMailbox() {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	if s.inbox != nil {
		s.inbox.Close()
	}
}

// isPIDArg reports whether a command's argument is a PID (<N>) rather
// than a job's id, for !kill and !wait.
func isPIDArg(arg string) bool { return strings.HasPrefix(arg, "<") }

func pidArg(cmd, arg string) (proc.PID, error) {
	pid, err := proc.ParsePID(arg)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", cmd, err)
	}
	return pid, nil
}

func (s *Shell) cmdSelf(context.Context, []string) error {
	_, mb := s.scheduler()
	s.con.print(s.con.result, mb.PID().String())
	return nil
}

func (s *Shell) cmdSend(ctx context.Context, args []string) error {
	to, named, err := s.sendTarget(ctx, args[0])
	if err != nil {
		return err
	}
	_, mb := s.scheduler()
	if isPIDArg(args[1]) {
		pid, err := pidArg("!send", args[1])
		if err != nil {
			return err
		}
		err = mb.SendContext(ctx, to, vm.Message{Kind: vm.MsgPID, Value: int32(pid)})
	} else {
		v, perr := strconv.ParseInt(args[1], 0, 32)
		if perr != nil {
			return fmt.Errorf("!send: %q is neither a 32-bit integer nor a PID like <7>", termtext.Clip(args[1], 40))
		}
		err = mb.SendContext(ctx, to, vm.Message{Kind: vm.MsgInt, Value: int32(v)})
	}
	if err != nil {
		return fmt.Errorf("!send: %w", err)
	}
	if named {
		s.done(fmt.Sprintf("sent to %v (%s)", to, args[0]))
	}
	return nil
}

func (s *Shell) cmdInbox(context.Context, []string) error {
	_, mb := s.scheduler()
	msgs := mb.Take()
	if len(msgs) == 0 {
		s.con.print(nil, "(no messages)")
		return nil
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(messageText(m) + "\n")
	}
	s.con.print(nil, strings.TrimSuffix(b.String(), "\n"))
	return nil
}

// messageText shows a message as !inbox lists it: its sender, then what
// it carries.
func messageText(m vm.Message) string {
	from := proc.PID(m.From).String()
	if m.From == 0 {
		from = "(none)"
	}
	switch m.Kind {
	case vm.MsgPID:
		return from + ": pid " + proc.PID(m.Value).String()
	case vm.MsgDown:
		return from + ": down (" + proc.Reason(m.Value).String() + ")"
	case vm.MsgBytes:
		return fmt.Sprintf("%s: %d bytes %q", from, len(m.Bytes), termtext.Clip(string(m.Bytes), 60))
	}
	return from + ": " + strconv.Itoa(int(m.Value))
}

func (s *Shell) cmdPs(ctx context.Context, args []string) error {
	sched, _ := s.scheduler()
	list, more, header := sched.Processes(), 0, ""
	if len(args) == 1 {
		if s.opts.Dist == nil {
			return errors.New("!ps ALIAS: this node is in no cluster (!join_cluster)")
		}
		var err error
		if list, more, err = s.opts.Dist.ListProcesses(ctx, args[0]); err != nil {
			return fmt.Errorf("!ps %s: %w", termtext.Cut(args[0], maxShownText), err)
		}
		header = "processes of " + shownText(args[0]) + " (their PIDs as this node writes them):\n"
	}
	rows := [][]string{{"PID", "PROGRAM", "STATE", "REDUCTIONS", "MAILBOX", "DROPPED", "MEMORY"}}
	for _, in := range list {
		rows = append(rows, []string{in.PID.String(), termtext.Clip(in.Program, 40), termtext.Clip(in.State, 16),
			strconv.FormatUint(in.Reductions, 10), strconv.Itoa(in.Mailbox), strconv.FormatUint(in.Dropped, 10),
			strconv.FormatInt(in.Memory, 10)})
	}
	s.con.print(nil, listing(header, rows, more))
	return nil
}

// killProcess is !kill <N>: for the first process of a job of this
// node, !kill of that job.
func (s *Shell) killProcess(ctx context.Context, arg string) error {
	pid, err := pidArg("!kill", arg)
	if err != nil {
		return err
	}
	if j := s.jobs.ByPID(pid); j != nil {
		return s.killJob(ctx, j)
	}
	if pid.Node() != 0 {
		return s.killRemoteProcess(ctx, pid)
	}
	sched, _ := s.scheduler()
	if err := sched.Kill(pid); err != nil {
		return fmt.Errorf("!kill: %w", err)
	}
	if _, err := sched.Wait(ctx, pid); err != nil && !errors.Is(err, proc.ErrNoProcess) {
		return fmt.Errorf("!kill: %w", err)
	}
	return nil
}

// killRemoteProcess is !kill <S.N>: the member of slot S ends its process
// N if it was started for this node (by !spawn_on, or spawned by one).
func (s *Shell) killRemoteProcess(ctx context.Context, pid proc.PID) error {
	if s.opts.Dist == nil {
		return fmt.Errorf("!kill %v: this node is in no cluster", pid)
	}
	if err := s.opts.Dist.KillRemote(ctx, pid); err != nil {
		return fmt.Errorf("!kill %v: %w", pid, err)
	}
	s.done(fmt.Sprintf("%v (on %s) killed", pid, shownText(s.opts.Dist.Alias(pid.Node()))))
	return nil
}

// waitProcess is !wait <N>: for the first process of a job of this
// node, !wait of that job; it fails if the process faulted.
func (s *Shell) waitProcess(ctx context.Context, arg string) error {
	pid, err := pidArg("!wait", arg)
	if err != nil {
		return err
	}
	if j := s.jobs.ByPID(pid); j != nil {
		return s.waitJobs(ctx, []*jobs.Job{j})
	}
	sched, _ := s.scheduler()
	exit, err := sched.Wait(ctx, pid)
	if err != nil {
		return fmt.Errorf("!wait: %w", err)
	}
	if exit.Err != nil {
		return fmt.Errorf("!wait: %v faulted: %s", pid, termtext.Escape(exit.Err.Error(), false))
	}
	s.done(fmt.Sprintf("%v ended (%v)", pid, exit.Reason))
	return nil
}

// faultNotifier shows the fault messages of processes as failures.
type faultNotifier struct{ s *Shell }

func (f faultNotifier) Write(p []byte) (int, error) {
	f.s.notifyFailure(termtext.Escape(strings.TrimSuffix(string(p), "\n"), false))
	return len(p), nil
}
