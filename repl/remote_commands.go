package repl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// remotePoll is how often !wait ALIAS:ID asks about a job this node did
// not start.
const remotePoll = 200 * time.Millisecond

// errNoRemote is the answer of the remote spawn commands while the shell
// has no remote spawn service.
var errNoRemote = errors.New("remote spawn is not available in this shell")

// remoteCommands returns the remote spawn entries of the command table.
func remoteCommands() []command {
	return []command{
		{name: "!spawn_on", args: "ALIAS PATH", help: "run an assembly or bytecode file on member ALIAS as job ALIAS:ID; its output and end come back here", min: 1, max: 1, rest: true, run: (*Shell).cmdSpawnOn},
		{name: "!spawn_all", args: "PATH [TIMEOUT]", help: "run a file on every alive member, this one included, and show one table of how it went (TIMEOUT default 30s)", min: 1, max: 2, complete: argPath, run: (*Shell).cmdSpawnAll},
		{name: "!cluster_jobs", help: "list the jobs of every member: job, who started it, file, state, run time", run: (*Shell).cmdClusterJobs},
	}
}

// remote returns the remote spawn service, or errNoRemote named after cmd.
func (s *Shell) remote(cmd string) (RemoteSpawner, error) {
	if s.opts.Remote == nil {
		return nil, fmt.Errorf("%s: %w", cmd, errNoRemote)
	}
	return s.opts.Remote, nil
}

// loadForRemote reads and assembles a program here, so that its errors
// are reported here with their positions and nothing is sent.
func loadForRemote(cmd, path string) (*vm.Program, error) {
	p, err := asm.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return p, nil
}

func (s *Shell) cmdSpawnOn(ctx context.Context, args []string) error {
	alias, path, _ := strings.Cut(args[0], " ")
	if path = strings.TrimSpace(path); path == "" {
		return errors.New("usage: !spawn_on ALIAS PATH")
	}
	svc, err := s.remote("!spawn_on")
	if err != nil {
		return err
	}
	p, err := loadForRemote("!spawn_on", path)
	if err != nil {
		return err
	}
	_, err = svc.SpawnOn(ctx, alias, jobs.RemoteSpec{
		File: path, Owner: s.owner, Program: p, Output: remoteOutput{s.con},
		Started: func(j *jobs.Job) {
			line := fmt.Sprintf("[job %s] %s started on %s", shownText(j.Name()), shownText(path), shownText(j.Member))
			if pid := j.PID(); pid != 0 {
				line += " as " + pid.String() // a PID of this node: !send, !kill, monitor
			}
			s.con.print(s.con.result, line)
		},
		Ended: s.announceRemote,
	})
	if err != nil {
		return fmt.Errorf("!spawn_on %s %s: %w", termtext.Cut(alias, maxShownText), termtext.Cut(path, maxShownText), err)
	}
	return nil
}

// announceRemote prints the end line of a job run elsewhere (Notify
// escapes what the member sent).
func (s *Shell) announceRemote(j *jobs.Job) {
	line := jobs.EndLine(j)
	if state, _ := j.Status(); state == jobs.Faulted || state == jobs.Lost {
		s.notifyFailure(line)
		return
	}
	s.Notify(line)
}

// parseTimeout reads a timeout given as a duration ("45s", "2m") or as
// seconds ("45").
func parseTimeout(arg string) (time.Duration, error) {
	d, err := time.ParseDuration(arg)
	if err != nil {
		n, nerr := strconv.Atoi(arg)
		if nerr != nil {
			return 0, fmt.Errorf("timeout %q: want seconds or a duration such as 45s", arg)
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 || d > time.Hour {
		return 0, fmt.Errorf("timeout %q: want more than 0 and at most an hour", arg)
	}
	return d, nil
}

func (s *Shell) cmdSpawnAll(ctx context.Context, args []string) error {
	timeout := jobs.DefaultSpawnAllTimeout
	if len(args) == 2 {
		var err error
		if timeout, err = parseTimeout(args[1]); err != nil {
			return fmt.Errorf("!spawn_all: %w", err)
		}
	}
	svc, err := s.remote("!spawn_all")
	if err != nil {
		return err
	}
	p, err := loadForRemote("!spawn_all", args[0])
	if err != nil {
		return err
	}
	results, err := svc.SpawnAll(ctx, jobs.RemoteSpec{File: args[0], Owner: s.owner, Program: p}, timeout)
	if err != nil {
		return fmt.Errorf("!spawn_all: %w", err)
	}
	rows := [][]string{{"MEMBER", "STATUS", "TIME", "REGISTERS", "OUTPUT"}}
	var failed []string
	for _, r := range results {
		status, when := r.Status, "-"
		if r.Err != "" {
			status += ": " + shownText(r.Err)
		}
		if r.Status != "done" {
			failed = append(failed, termtext.Cut(r.Member, maxShownText)+" "+r.Status)
		}
		if r.RunTime > 0 {
			when = jobs.RoundRunTime(r.RunTime).String()
		}
		regs := make([]string, len(r.Regs))
		for i, reg := range r.Regs {
			regs[i] = reg.String()
		}
		lines := make([]string, len(r.Lines))
		for i, l := range r.Lines {
			lines[i] = shownText(l)
		}
		if r.More > 0 {
			lines = append(lines, fmt.Sprintf("(%s more lines)", jobs.Count(uint64(r.More))))
		}
		if len(lines) == 0 {
			lines = []string{"-"}
		}
		rows = append(rows, []string{shownText(r.Member), status, when, orDash(strings.Join(regs, ", ")), lines[0]})
		for _, l := range lines[1:] {
			rows = append(rows, []string{"", "", "", "", l})
		}
	}
	s.con.print(nil, table(rows))
	if ctx.Err() != nil { // interrupted: the jobs still running were killed
		return fmt.Errorf("!spawn_all: %w", context.Cause(ctx))
	}
	if len(failed) > 0 {
		return fmt.Errorf("!spawn_all: %d of %d members did not finish: %s", len(failed), len(results), strings.Join(failed, ", "))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (s *Shell) cmdClusterJobs(ctx context.Context, _ []string) error {
	svc, err := s.remote("!cluster_jobs")
	if err != nil {
		return err
	}
	list, missing, err := svc.ClusterJobs(ctx)
	if err != nil {
		return fmt.Errorf("!cluster_jobs: %w", err)
	}
	if len(list) == 0 {
		s.con.print(nil, "(no jobs)")
	} else {
		rows := [][]string{{"JOB", "STARTED BY", "FILE", "STATE", "TIME"}}
		for _, j := range list {
			rows = append(rows, []string{shownText(j.Name), shownText(j.Owner), shownText(j.File), shownText(j.State), jobs.RoundRunTime(j.RunTime).String()})
		}
		s.con.print(nil, table(rows))
	}
	for _, m := range missing {
		s.warn(fmt.Errorf("no job table from %s", termtext.Cut(m, maxShownText)))
	}
	return nil
}

// remoteJob reads ALIAS:ID for a job this node did not start (one it
// started is in its own table). A name of this node's own jobs, as
// !cluster_jobs shows them, comes back as local, the plain id.
func (s *Shell) remoteJob(arg string) (alias string, id int, local string, ok bool) {
	if _, err := s.jobs.Lookup(arg); err == nil || s.opts.Remote == nil {
		return "", 0, arg, false
	}
	alias, num, found := strings.Cut(strings.TrimPrefix(arg, "%"), ":")
	id, err := strconv.Atoi(num)
	if !found || err != nil || id <= 0 || alias == "" {
		return "", 0, arg, false
	}
	if alias == s.opts.Remote.Self() {
		return "", 0, num, false
	}
	return alias, id, arg, true
}

// killRemote stops a job this node did not start on member alias.
func (s *Shell) killRemote(ctx context.Context, alias string, id int) error {
	if err := s.opts.Remote.KillOn(ctx, alias, id); err != nil {
		return fmt.Errorf("!kill %s:%d: %w", alias, id, err)
	}
	s.done(fmt.Sprintf("job %s:%d killed", alias, id))
	return nil
}

// waitRemote waits for a job this node did not start on member alias.
func (s *Shell) waitRemote(ctx context.Context, alias string, id int) error {
	state, err := s.opts.Remote.WaitOn(ctx, alias, id, remotePoll)
	if err != nil {
		return fmt.Errorf("!wait %s:%d: %w", alias, id, err)
	}
	if state == jobs.Faulted.String() {
		return fmt.Errorf("!wait: job %s:%d %s (its owner was told why)", alias, id, state)
	}
	s.done(fmt.Sprintf("job %s:%d %s", shownText(alias), id, shownText(state)))
	return nil
}
