// Package repl is Iridium's interactive shell: it hosts a VM, assembles
// each line typed into it, appends the code to its program and runs it at
// once, and takes commands that start with "!". It runs interactively on a
// terminal (line editing, history, completion, colour, Ctrl-C) or reads a
// script from any reader (no prompt, errors named by line number).
//
// The commands are one table (see commands.go) that also drives !help and
// Tab completion; the cluster commands are entries of that table too, and
// work once Options.Cluster is set.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chzyer/readline"

	"github.com/iridium-vm/iridium/internal/sorted"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// Options configure a Shell. The zero value of a field means its default.
type Options struct {
	// Stdin is read for input lines. Interactive shells read it through
	// readline.
	Stdin io.Reader
	// Stdout receives program output and results; Stderr errors and
	// warnings. Default: discarded.
	Stdout, Stderr io.Writer
	// Interactive is true when Stdin and Stdout are a terminal: a banner,
	// a prompt, line editing, history, completion and Ctrl-C handling.
	// Otherwise the shell is scripted: no banner, no prompt, errors on
	// Stderr as "line N: message".
	Interactive bool
	// Color colours the prompt, results, warnings and errors.
	Color bool
	// FailFast stops a scripted shell at the first line that fails.
	FailFast bool
	// DataDir is where an interactive shell keeps its history (the file
	// "history"); it is made (0700) if missing. Empty: no history file.
	DataDir string
	// Version is shown in the banner.
	Version string
	// StackLimit and HeapLimit are passed to every VM (see vm.Config).
	StackLimit, HeapLimit int
	// HeapBudget, if not nil, bounds the heaps of all the shell's VMs
	// together (see vm.Config).
	HeapBudget *vm.HeapBudget
	// MaxJobs is the most spawned programs that may run at once; !spawn
	// past it fails. Default DefaultMaxJobs.
	MaxJobs int
	// LoadFirst is an assembly file that Run loads and runs, as
	// !load_file does, before it reads the first line (iridium -i FILE).
	LoadFirst string
	// Cluster backs !start_cluster, !join_cluster and !cluster_members.
	// Nil: those commands say that clustering is not available.
	Cluster ClusterNode
	// Terminal, for an interactive shell on a terminal that is not this
	// process's (an SSH session), is that terminal. Nil: this process's.
	Terminal Terminal
	// Sessions backs !sessions. Nil: the command says there is no list.
	Sessions SessionLister
	// Jobs is the node's job table, shared by its shells; closing the
	// shell kills only the jobs it started. Nil: the shell makes a table
	// of its own (capped by MaxJobs), on Procs or, without it, on a
	// scheduler of its own; its jobs all die with the shell.
	Jobs *jobs.Table
	// JobOwner names this shell as the owner of the jobs it starts, in
	// !jobs. Default "local".
	JobOwner string
	// Remote backs !spawn_on, !spawn_all, !cluster_jobs and the job names
	// ALIAS:ID; it should share Jobs. Nil: those commands say that remote
	// spawn is not available.
	Remote RemoteSpawner
	// Procs is the node's scheduler of processes, shared by its shells:
	// the jobs of Jobs run on it, and the shell is a process of it; Jobs
	// should run on it. Nil: the scheduler of Jobs.
	Procs *proc.Scheduler
	// Dist reaches the processes of other members: !ps ALIAS, !kill of
	// their PIDs, the aliases shown with their PIDs. Nil: none.
	Dist Distribution
	// Names looks up the names registered on other members:
	// !registered ALIAS, !send NAME@ALIAS. Nil: none.
	Names NameFinder
}

// Distribution is what the process commands need of the cluster's
// distribution layer (cmd/iridium adapts package dist); a PID of another
// node goes through the scheduler itself.
type Distribution interface {
	// ListProcesses lists the processes of member alias, with PIDs of
	// this node; more counts those left out.
	ListProcesses(ctx context.Context, alias string) (list []proc.Info, more int, err error)
	// KillRemote asks the node of pid to end it, and waits for its
	// answer.
	KillRemote(ctx context.Context, pid proc.PID) error
	// Alias names the member of a node slot, "" if none.
	Alias(slot int) string
}

// RemoteSpawner runs programs on other members of the cluster and
// follows them: what the shell's remote spawn commands need.
// *jobs.Service is one.
type RemoteSpawner interface {
	// Self returns this node's alias, or "" while it is in no cluster.
	Self() string
	// SpawnOn runs a program on member alias as a job entered here as
	// ALIAS:ID.
	SpawnOn(ctx context.Context, alias string, spec jobs.RemoteSpec) (*jobs.Job, error)
	// SpawnAll runs a program on every other member, each bounded by
	// timeout.
	SpawnAll(ctx context.Context, spec jobs.RemoteSpec, timeout time.Duration) ([]jobs.MemberResult, error)
	// ClusterJobs lists the jobs of every member, and the members that
	// did not answer.
	ClusterJobs(ctx context.Context) ([]jobs.JobRow, []string, error)
	// KillOn stops job id of member alias.
	KillOn(ctx context.Context, alias string, id int) error
	// WaitOn waits until job id of member alias has stopped, asking every
	// poll, and returns its end state.
	WaitOn(ctx context.Context, alias string, id int, poll time.Duration) (string, error)
}

// terminalWidth is the width the shell's own messages fit in on a
// terminal; tables and listings are as wide as their content.
const terminalWidth = 80

// DefaultMaxJobs is the default of Options.MaxJobs: enough to try things
// side by side, few enough that spinning jobs leave the shell usable.
const DefaultMaxJobs = 16

// ErrQuit is returned by Execute for !quit.
var ErrQuit = errors.New("quit")

// ErrFailed is returned by Run when a scripted shell had a line that
// failed.
var ErrFailed = errors.New("an input line failed")

// errInterrupted is the cause given to the foreground context by Ctrl-C.
var errInterrupted = errors.New("interrupted")

// Shell is one REPL: a VM, the program and symbol table built from the
// lines typed so far, spawned programs, and the input and output. Execute,
// Run and Close are for one goroutine; Notify and Interrupt may be called
// from any.
type Shell struct {
	opts     Options
	con      *console
	in       lineSource
	asm      *asm.Assembler
	vm       *vm.VM
	jobs     *jobs.Table
	owner    *jobs.Owner // of the jobs this shell starts
	ownsJobs bool        // jobs was made for this shell alone
	commands []command
	history  []string

	procMu   sync.Mutex
	procs    *proc.Scheduler // Options.Procs, or the scheduler of the jobs
	inbox    *proc.Mailbox   // the shell as a process: made on first use
	lineNo   int             // the number of input lines read so far
	failures int

	labelHintGiven bool // forwardLabelHint has been shown

	mu         sync.Mutex
	foreground context.CancelCauseFunc // cancels the command being executed
	words      sorted.Strings          // labels, for completion
	wordsFrom  int                     // how many of the assembler's symbols words has
	askingPath bool                    // the next line read is a file path
	closeOnce  sync.Once
}

// New returns a Shell ready to Run. An interactive shell sets up readline
// on Stdin and Stdout; a data directory or history file that cannot be
// made is a warning, not an error.
func New(opts Options) (*Shell, error) {
	if opts.Stdin == nil {
		opts.Stdin = strings.NewReader("")
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.MaxJobs <= 0 {
		opts.MaxJobs = DefaultMaxJobs
	}
	if opts.JobOwner == "" {
		opts.JobOwner = "local"
	}
	s := &Shell{opts: opts, asm: asm.New(), jobs: opts.Jobs, owner: jobs.NewOwner(opts.JobOwner)}
	if s.jobs == nil && opts.Procs != nil {
		s.jobs, s.ownsJobs = jobs.NewTableOn(opts.Procs, opts.MaxJobs), true
	} else if s.jobs == nil {
		s.jobs, s.ownsJobs = jobs.NewTable(opts.MaxJobs), true
	}
	s.commands = append(append(coreCommands(), clusterCommands()...), remoteCommands()...)
	s.commands = append(append(s.commands, processCommands()...), nameCommands()...)
	s.commands = append(s.commands, sessionCommands()...)
	if !opts.Interactive {
		s.con = newConsole(opts.Stdout, opts.Stderr, opts.Color)
		s.in = newScriptSource(opts.Stdin)
	} else if err := s.openTerminal(); err != nil {
		return nil, err
	}
	s.vm = vm.New(s.vmConfig(s.con))
	return s, nil
}

func (s *Shell) vmConfig(out io.Writer) vm.Config {
	return vm.Config{Stdout: out, StackLimit: s.opts.StackLimit, HeapLimit: s.opts.HeapLimit, HeapBudget: s.opts.HeapBudget}
}

// openTerminal sets up readline, with the history file in the data
// directory when there is one.
func (s *Shell) openTerminal() error {
	histFile, warning := prepareHistory(s.opts.DataDir)
	stdin := readline.NewCancelableStdin(s.opts.Stdin)
	cfg := &readline.Config{
		HistoryFile:       histFile,
		HistorySearchFold: true,
		AutoComplete:      completer{s},
		Stdin:             stdin,
		Stdout:            s.opts.Stdout,
		Stderr:            s.opts.Stderr,
	}
	con := newConsole(s.opts.Stdout, s.opts.Stderr, s.opts.Color)
	useTerminal(cfg, s.opts.Terminal)
	in, err := newTerminalSource(cfg, con, stdin)
	if err != nil {
		stdin.Close()
		return fmt.Errorf("start the terminal: %w", err)
	}
	s.con = con
	s.con.editor = in.rl
	s.con.reading = in.rl.Terminal.IsReading
	s.con.width = terminalWidth
	s.in = in
	if warning != nil {
		s.warn(warning)
	}
	return nil
}

// maxHistoryFile bounds the history file read at start: readline reads it
// whole, and keeps its last 500 lines.
const maxHistoryFile = 4 << 20

// prepareHistory makes the data directory and the history file, private
// to the user, and returns the file's path; "" and why when it cannot.
func prepareHistory(dataDir string) (string, error) {
	if dataDir == "" {
		return "", nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("history will not be kept: %w", err)
	}
	path := filepath.Join(dataDir, "history")
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return "", fmt.Errorf("history will not be kept: %s is not a regular file", path)
	}
	// Without blocking: opening a FIFO to write would wait for a reader.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return "", fmt.Errorf("history will not be kept: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	switch {
	case err != nil:
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("%s is not a regular file", path)
	case fi.Size() > maxHistoryFile:
		// readline reads the whole file before the first prompt.
		err = fmt.Errorf("%s is %d bytes, over the limit of %d: remove it or cut it down", path, fi.Size(), maxHistoryFile)
	}
	if err != nil {
		return "", fmt.Errorf("history will not be kept: %w", err)
	}
	return path, nil
}

func (s *Shell) prompt() string {
	if !s.opts.Interactive {
		return ""
	}
	return s.con.promptText(">>> ")
}

// Run reads and executes lines until the end of the input, !quit or the
// cancellation of ctx, then closes the shell. It returns nil, ErrFailed
// when a scripted shell had a failed line, or ctx's cause.
func (s *Shell) Run(ctx context.Context) error {
	defer s.Close()
	if s.opts.Interactive {
		s.banner()
	}
	if s.opts.Interactive && s.opts.Terminal == nil {
		stop := s.catchInterrupts()
		defer stop()
	}
	if s.opts.LoadFirst != "" {
		if err := s.loadFirst(ctx); err != nil {
			return err
		}
	}
	if !s.opts.Interactive {
		if whole, err := s.runIfProgram(ctx); whole {
			return err
		}
	}
	for {
		if s.opts.Interactive {
			s.con.endLine() // the prompt starts a line
		}
		line, err := s.readLine(ctx, s.prompt())
		switch {
		case errors.Is(err, errLineInterrupted):
			s.con.print(s.con.notice, "(To leave, type !quit or press Ctrl-D.)")
			continue
		case errors.Is(err, io.EOF):
			return s.result()
		case errors.Is(err, errLineTooLong):
			// err stands for the line: it fails as a line that runs would.
		case err != nil:
			return err
		default:
			err = s.Execute(ctx, line)
		}
		switch {
		case errors.Is(err, ErrQuit):
			return s.result()
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case err != nil:
			if s.report(err) && s.opts.FailFast && !s.opts.Interactive {
				return ErrFailed
			}
		}
	}
}

func (s *Shell) result() error {
	if s.failures > 0 && !s.opts.Interactive {
		return ErrFailed
	}
	return nil
}

func (s *Shell) banner() {
	s.con.print(s.con.notice, fmt.Sprintf("Iridium %s. Type assembly to run it at once; !help lists the commands,\n"+
		"!help instructions the instructions. !quit or Ctrl-D leaves.", s.opts.Version))
}

// loadFirst runs Options.LoadFirst as !load_file would. A failure is
// reported like a failed line; it ends a scripted shell run with
// --fail-fast, or one cancelled.
func (s *Shell) loadFirst(ctx context.Context) error {
	err := s.Execute(ctx, "!load_file "+s.opts.LoadFirst)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case s.opts.Interactive:
		s.report(err)
		return nil
	}
	s.failures++
	s.con.printErr(nil, "-i: "+shownError(err))
	if s.opts.FailFast {
		return ErrFailed
	}
	return nil
}

// catchInterrupts turns Ctrl-C (SIGINT) into Interrupt for as long as the
// shell runs. At the prompt readline sees Ctrl-C as a key; while a
// command runs, the terminal sends SIGINT.
func (s *Shell) catchInterrupts() (stop func()) {
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt)
	go func() {
		for {
			select {
			case <-sig:
				s.Interrupt()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
	}
}

// readLine reads one input line and counts it; a line too long to keep
// counts too.
func (s *Shell) readLine(ctx context.Context, prompt string) (string, error) {
	line, err := s.in.readLine(ctx, prompt)
	if err == nil || errors.Is(err, errLineTooLong) {
		s.lineNo++
	}
	return line, err
}

// report shows a line's error: "line N: ..." in a script, in red on a
// terminal. An interruption by Ctrl-C is a warning, not a failure; report
// says whether the line failed.
func (s *Shell) report(err error) (failed bool) {
	if errors.Is(err, errInterrupted) {
		if s.opts.Interactive {
			s.con.printErr(nil, "") // past the "^C" the terminal echoed
		}
		s.warn(err)
		return false
	}
	s.failures++
	msg := shownError(err) // it may quote what was typed, or a peer
	if s.opts.Interactive {
		s.con.printErr(s.con.failure, "error: "+msg)
	} else {
		s.con.printErr(nil, fmt.Sprintf("line %d: %s", s.lineNo, msg))
	}
	return true
}

// warn shows a warning; it does not fail the line.
func (s *Shell) warn(err error) {
	msg := shownError(err)
	if s.opts.Interactive {
		s.con.printErr(s.con.warning, "warning: "+msg)
		return
	}
	s.con.printErr(nil, fmt.Sprintf("line %d: warning: %s", s.lineNo, msg))
}

// Execute runs one input line: a command if it starts with "!", else
// assembly that is appended to the program and run. It returns the line's
// error (ErrQuit for !quit) and leaves the shell usable whatever happens.
func (s *Shell) Execute(ctx context.Context, line string) error {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	s.history = append(s.history, line)
	ctx, done := s.startForeground(ctx)
	defer done()
	if strings.HasPrefix(line, "!") {
		return s.runCommand(ctx, line)
	}
	return s.runAssembly(ctx, line)
}

// startForeground gives the line a context that Interrupt cancels.
func (s *Shell) startForeground(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	s.mu.Lock()
	s.foreground = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		s.foreground = nil
		s.mu.Unlock()
		cancel(nil)
	}
}

// Interrupt stops what the shell is executing (a program, !wait, ...),
// as Ctrl-C does. It does nothing at the prompt.
func (s *Shell) Interrupt() { s.InterruptProgram() }

// Notify prints a one-line message at once, from any goroutine: a spawned
// program ending, a cluster event. On a terminal it goes on a line of its
// own above the prompt and the line being edited, which are drawn again
// under it. A script gets it on standard error, so that standard output
// holds only what its lines print. msg may quote text from outside raw (a
// peer's alias, a remote job's error): Notify escapes it (see shownLine).
func (s *Shell) Notify(msg string) {
	msg = shownLine(msg)
	if !s.opts.Interactive {
		s.con.printAside(s.con.notice, msg)
		return
	}
	s.con.print(s.con.notice, msg)
}

// notifyFailure is Notify for a message that says something failed (a job
// that faulted or was lost): in the failure colour, on standard error.
func (s *Shell) notifyFailure(msg string) {
	msg = shownLine(msg)
	if !s.opts.Interactive {
		s.con.printAside(s.con.failure, msg)
		return
	}
	s.con.printErr(s.con.failure, msg)
}

// Close kills the spawned programs of this shell that still run, waits
// for them, and releases the terminal. Run calls it; calling it again
// does nothing.
func (s *Shell) Close() error {
	s.closeOnce.Do(func() {
		s.closeMailbox()
		if s.ownsJobs {
			s.jobs.Close()
		} else {
			s.jobs.KillOwner(s.owner)
		}
		s.con.endLine()
		s.in.close()
	})
	return nil
}
