package repl

import (
	"context"
	"errors"
	"fmt"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/proc"
)

// NameFinder looks up the registered names of other members, for
// !registered ALIAS and !send NAME@ALIAS (cmd/iridium adapts package
// names). Its PIDs are this node's: another member's in its slot.
type NameFinder interface {
	// Whereis returns the PID registered under name on the member alias,
	// 0 if there is none.
	Whereis(ctx context.Context, alias, name string) (proc.PID, error)
	// Registered lists the names of the member alias; more counts those
	// left out.
	Registered(ctx context.Context, alias string) (list []proc.Name, more int, err error)
}

// nameCommands are the commands of registered names: a process (the
// shell too) registered under a name is found by it, on this node or,
// as NAME@ALIAS, on another member.
func nameCommands() []command {
	return []command{
		{name: "!register", args: "NAME", help: "register this shell's process under NAME (1-64 printable bytes, no '@' or spaces) until the shell ends", min: 1, max: 1, run: (*Shell).cmdRegister},
		{name: "!registered", args: "[ALIAS]", help: "list the registered names of this node (or of member ALIAS) and their PIDs", max: 1, run: (*Shell).cmdRegistered},
	}
}

func (s *Shell) cmdRegister(_ context.Context, args []string) error {
	_, mb := s.scheduler()
	if err := mb.Register(args[0]); err != nil {
		return fmt.Errorf("!register: %w", err)
	}
	s.done(fmt.Sprintf("%v registered as %q", mb.PID(), args[0]))
	return nil
}

func (s *Shell) cmdRegistered(ctx context.Context, args []string) error {
	sched, _ := s.scheduler()
	list, more, header := sched.Registered(), 0, ""
	if len(args) == 1 {
		if s.opts.Names == nil {
			return errors.New("!registered ALIAS: this node is in no cluster (!join_cluster)")
		}
		var err error
		if list, more, err = s.opts.Names.Registered(ctx, args[0]); err != nil {
			return fmt.Errorf("!registered %s: %w", termtext.Cut(args[0], maxShownText), err)
		}
		header = "names of " + shownText(args[0]) + " (their PIDs as this node writes them):\n"
	}
	if len(list) == 0 && more == 0 {
		s.con.print(nil, header+"(no names registered)")
		return nil
	}
	rows := [][]string{{"NAME", "PID"}}
	for _, n := range list {
		rows = append(rows, []string{n.Name, n.PID.String()})
	}
	s.con.print(nil, listing(header, rows, more))
	return nil
}

// sendTarget is the process !send sends to: a PID (<7>, <2.7>, 7), or a
// name registered on this node (NAME) or on member ALIAS (NAME@ALIAS).
// named says it was a name.
func (s *Shell) sendTarget(ctx context.Context, arg string) (pid proc.PID, named bool, err error) {
	if isPIDArg(arg) {
		pid, err := pidArg("!send", arg)
		return pid, false, err
	}
	if pid, err := proc.ParsePID(arg); err == nil {
		return pid, false, nil
	}
	name, alias, err := proc.SplitName(arg)
	if err != nil {
		return 0, true, fmt.Errorf("!send: %q is neither a PID like <7> nor a name: %w", termtext.Clip(arg, 40), err)
	}
	sched, _ := s.scheduler()
	switch {
	case alias == "":
		pid = sched.Whereis(name)
	case s.opts.Names == nil:
		return 0, true, fmt.Errorf("!send %s: this node is in no cluster (!join_cluster)", termtext.Cut(arg, maxShownText))
	default:
		if pid, err = s.opts.Names.Whereis(ctx, alias, name); err != nil {
			return 0, true, fmt.Errorf("!send %s: %w", termtext.Cut(arg, maxShownText), err)
		}
	}
	if pid == 0 {
		return 0, true, fmt.Errorf("!send: no process is registered as %q", arg)
	}
	return pid, true, nil
}
