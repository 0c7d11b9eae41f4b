package repl

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// processCommands are the commands of the node's processes. The shell is
// a process too, without a VM: a PID that processes send to, and an
// inbox. PIDs are written <N> (proc.PID's form), and every command takes
// them back so.
func processCommands() []command {
	return []command{
		{name: "!self", help: "print this shell's PID, to which processes can send", run: (*Shell).cmdSelf},
		{name: "!send", args: "PID VALUE", help: "send VALUE (an integer, or a PID like <7>) to the process PID", min: 2, max: 2, run: (*Shell).cmdSend},
		{name: "!inbox", help: "print, and take, the messages sent to this shell", run: (*Shell).cmdInbox},
		{name: "!proc", args: "[PATH]", help: "start an assembly or bytecode file as a process on the node's scheduler; prints its PID", max: 1, rest: true, complete: argPath, run: (*Shell).cmdProc},
		{name: "!ps", help: "list the node's processes: PID, program, state, reductions, mailbox, dropped messages, memory", run: (*Shell).cmdPs},
	}
}

// scheduler returns the node's scheduler, or one of the shell's own made
// on first use, and the shell's mailbox on it.
func (s *Shell) scheduler() (*proc.Scheduler, *proc.Mailbox) {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	if s.procs == nil {
		s.procs = s.opts.Procs
		if s.procs == nil {
			s.procs, s.ownsProcs = proc.New(proc.Config{Budget: s.opts.HeapBudget}), true
		}
	}
	if s.inbox == nil {
		s.inbox = s.procs.Attach("shell " + s.opts.JobOwner)
	}
	return s.procs, s.inbox
}

// closeProcesses ends the programs the shell started with !proc (as
// closing it kills its jobs: their output would have nowhere to go), its
// mailbox, and its own scheduler if it made one.
func (s *Shell) closeProcesses() {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	for _, h := range s.started {
		h.KillProgram()
	}
	if s.inbox != nil {
		s.inbox.Close()
	}
	if s.ownsProcs {
		s.procs.Close()
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

func (s *Shell) cmdSend(_ context.Context, args []string) error {
	to, err := pidArg("!send", args[0])
	if err != nil {
		return err
	}
	_, mb := s.scheduler()
	if isPIDArg(args[1]) {
		pid, err := pidArg("!send", args[1])
		if err != nil {
			return err
		}
		err = mb.SendPID(to, pid)
	} else {
		v, perr := strconv.ParseInt(args[1], 0, 32)
		if perr != nil {
			return fmt.Errorf("!send: %q is neither a 32-bit integer nor a PID like <7>", termtext.Clip(args[1], 40))
		}
		err = mb.Send(to, int32(v))
	}
	if err != nil {
		return fmt.Errorf("!send: %w", err)
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

func (s *Shell) cmdProc(ctx context.Context, args []string) error {
	path, err := s.pathArg(ctx, "!proc", args)
	if err != nil {
		return err
	}
	p, err := asm.LoadFile(path)
	if err != nil {
		return fmt.Errorf("!proc: %w", err)
	}
	sched, _ := s.scheduler()
	h, err := sched.Start(p, proc.StartOptions{
		Name:   termtext.Clip(filepath.Base(path), 40),
		VM:     s.vmConfig(&lineWriter{dst: s.con}),
		Faults: faultNotifier{s},
	})
	if err != nil {
		return fmt.Errorf("!proc %s: %w", termtext.Clip(path, 200), err)
	}
	s.remember(h)
	s.con.print(s.con.result, h.PID().String())
	return nil
}

// maxStarted bounds the processes a shell remembers having started, so
// that !wait finds how one ended even after it has left the table.
const maxStarted = 256

// remember keeps h for !wait; past maxStarted, the ended ones go first.
func (s *Shell) remember(h *proc.Handle) {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	if s.started == nil {
		s.started = make(map[proc.PID]*proc.Handle)
	}
	if len(s.started) >= maxStarted {
		for pid, old := range s.started {
			select {
			case <-old.Done():
				delete(s.started, pid)
			default:
			}
		}
	}
	if len(s.started) < maxStarted {
		s.started[h.PID()] = h
	}
}

// faultNotifier shows the fault messages of processes as failures.
type faultNotifier struct{ s *Shell }

func (f faultNotifier) Write(p []byte) (int, error) {
	f.s.notifyFailure(termtext.Escape(strings.TrimSuffix(string(p), "\n"), false))
	return len(p), nil
}

func (s *Shell) cmdPs(context.Context, []string) error {
	sched, _ := s.scheduler()
	rows := [][]string{{"PID", "PROGRAM", "STATE", "REDUCTIONS", "MAILBOX", "DROPPED", "MEMORY"}}
	for _, in := range sched.Processes() {
		rows = append(rows, []string{in.PID.String(), termtext.Clip(in.Program, 40), in.State,
			strconv.FormatUint(in.Reductions, 10), strconv.Itoa(in.Mailbox), strconv.FormatUint(in.Dropped, 10),
			strconv.FormatInt(in.Memory, 10)})
	}
	s.con.print(nil, table(rows))
	return nil
}

// killProcess is !kill <N>.
func (s *Shell) killProcess(ctx context.Context, arg string) error {
	pid, err := pidArg("!kill", arg)
	if err != nil {
		return err
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

// waitProcess is !wait <N>: it fails if the process faulted.
func (s *Shell) waitProcess(ctx context.Context, arg string) error {
	pid, err := pidArg("!wait", arg)
	if err != nil {
		return err
	}
	s.procMu.Lock()
	h := s.started[pid]
	delete(s.started, pid)
	s.procMu.Unlock()
	var exit proc.Exit
	if h != nil { // one this shell started: how it ended is known even once it has left the table
		select {
		case <-h.Done():
			exit = h.Exit()
		case <-ctx.Done():
			return fmt.Errorf("!wait: %w", context.Cause(ctx))
		}
	} else {
		sched, _ := s.scheduler()
		if exit, err = sched.Wait(ctx, pid); err != nil {
			return fmt.Errorf("!wait: %w", err)
		}
	}
	if exit.Err != nil {
		return fmt.Errorf("!wait: %v faulted: %s", pid, termtext.Escape(exit.Err.Error(), false))
	}
	s.done(fmt.Sprintf("%v ended (%v)", pid, exit.Reason))
	return nil
}
