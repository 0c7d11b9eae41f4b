package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/remote"
	"github.com/iridium-vm/iridium/repl"
	"github.com/iridium-vm/iridium/vm"
)

// node is what every shell of this process shares: the cluster node, the
// messages to the shells (events) and the SSH server. Each shell (the
// node's own terminal, each SSH session) is made by newShell, and has a
// machine, program, registers and labels of its own.
type node struct {
	opts    *options
	events  *eventHub
	cluster *clusterNode
	jobs    *jobs.Table     // every shell's !spawn, !jobs, !kill and !wait; its local jobs are processes of procs
	spawn   *jobs.Service   // programs sent to and from other members
	heap    *vm.HeapBudget  // --max-heap-total: every VM's heap, all shells' and jobs' together
	started time.Time       // when the node was made, for iridium status
	procs   *proc.Scheduler // the node's processes: the jobs, those run for other members, and the shells themselves
	// processStatus lists the node's processes for iridium status
	// (listProcesses).
	processStatus func() []statusProcess

	mu     sync.Mutex
	server *remote.Server    // nil without -r
	local  *repl.SessionInfo // the node's own shell, if any
}

func newNode(o *options) *node {
	n := &node{opts: o, events: newEventHub(), heap: vm.NewHeapBudget(o.heapTotal), started: time.Now()}
	n.procs = proc.New(proc.Config{Threads: o.threads, MailboxLimit: o.mailboxLimit, Budget: n.heap})
	n.jobs = jobs.NewTableOn(n.procs, o.maxJobs)
	n.cluster = &clusterNode{opts: o, notify: n.events.publish, procs: n.procs}
	n.spawn = newSpawnService(o, n.jobs, n.cluster, n.heap)
	n.processStatus = n.listProcesses
	return n
}

// shellSpec says what kind of shell newShell makes.
type shellSpec struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	interactive    bool
	color          bool
	terminal       repl.Terminal // an SSH session's terminal; nil for this process's
	history        bool          // keep the history file of the data directory
	session        uint64        // the SSH session's id; 0 for the node's own shell
	asyncEvents    bool          // events reach the shell from a queue (an SSH session)
	events         bool          // the shell is told of events at all
	owner          string        // names the shell's jobs in !jobs; "" is "local"
	loadFirst      string        // -i FILE: run it before the first line
}

// newShell makes a shell of this node: the local terminal's, or an SSH
// session's. release stops the shell's events; call it after Run.
func (n *node) newShell(spec shellSpec) (sh *repl.Shell, release func(), err error) {
	o := n.opts
	dataDir := ""
	if spec.history {
		dataDir = o.dataDir
	}
	ropts := repl.Options{
		Stdin:       spec.stdin,
		Stdout:      spec.stdout,
		Stderr:      spec.stderr,
		Interactive: spec.interactive,
		Color:       spec.color,
		FailFast:    o.failFast,
		DataDir:     dataDir,
		Version:     version,
		StackLimit:  o.stackLimit,
		HeapLimit:   o.heapLimit,
		HeapBudget:  n.heap,
		MaxJobs:     o.maxJobs,
		Cluster:     n.cluster,
		Terminal:    spec.terminal,
		Jobs:        n.jobs,
		Remote:      n.spawn,
		JobOwner:    spec.owner,
		LoadFirst:   spec.loadFirst,
		Procs:       n.procs,
		Dist:        distShell{n.cluster},
		Names:       namesShell{n.cluster},
	}
	if n.opts.remote.enabled { // the node's own shell is made before the server starts
		ropts.Sessions = sessionList{n: n, own: spec.session}
	}
	sh, err = repl.New(ropts)
	if err != nil {
		return nil, nil, err
	}
	release = func() {}
	if spec.events {
		release = n.events.subscribe(func(msg notice) { sh.Notify(msg.text) }, spec.asyncEvents)
	}
	return sh, release, nil
}

// newSessionShell is the SSH server's NewShell: "run" runs the program on
// its input (programRun); a terminal session gets an interactive shell (colour when the client's TERM has it and neither
// NO_COLOR nor --no-color says no), any other a scripted one.
func (n *node) newSessionShell(sio remote.ShellIO) (remote.Shell, error) {
	if sio.Run != nil {
		return n.newProgramRun(sio), nil
	}
	spec := shellSpec{stdin: sio.Stdin, stdout: sio.Stdout, stderr: sio.Stderr, session: sio.Session.ID, asyncEvents: true,
		owner: fmt.Sprintf("ssh %d (%s)", sio.Session.ID, sio.Session.Key)}
	if sio.Terminal != nil {
		spec.interactive, spec.terminal, spec.events = true, sio.Terminal, true
		spec.color = sio.Terminal.ColorTerm() && !sio.NoColor && !n.opts.noColor
	}
	sh, release, err := n.newShell(spec)
	if err != nil {
		return nil, err
	}
	return &sessionShell{sh: sh, release: release}, nil
}

// sessionShell is a repl.Shell as the SSH server runs it.
type sessionShell struct {
	sh      *repl.Shell
	release func()
}

func (s *sessionShell) Run(ctx context.Context) int {
	defer s.release()
	status, _ := exitStatus(ctx, s.sh.Run(ctx))
	return status
}

// exitStatus is the exit status of a shell whose Run returned err;
// unexpected is set for an error other than a failed script line or an
// interruption, which the caller shows.
func exitStatus(ctx context.Context, err error) (status int, unexpected bool) {
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, repl.ErrFailed):
		return exitFailure, false
	case ctx.Err() != nil:
		return exitSignal, false
	}
	return exitFailure, true
}

func (s *sessionShell) Interrupt() bool { return s.sh.InterruptProgram() }

// startRemote starts the SSH server (-r), logging to logger.
func (n *node) startRemote(logger *slog.Logger) (addr string, err error) {
	cfg := n.remoteConfig()
	cfg.Logger = logger
	srv, err := remote.New(cfg)
	if err != nil {
		return "", err
	}
	addr, err = srv.Start()
	if err != nil {
		srv.Close()
		return "", err
	}
	n.mu.Lock()
	n.server = srv
	n.mu.Unlock()
	return addr, nil
}

func (n *node) remoteServer() *remote.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.server
}

// setLocal records the node's own shell for !sessions.
func (n *node) setLocal(kind string) {
	n.mu.Lock()
	n.local = &repl.SessionInfo{From: "local", Since: time.Now(), Kind: kind}
	n.mu.Unlock()
}

// close ends the SSH sessions, kills the jobs still running (those other
// members run here end as killed for them), leaves the cluster and stops
// the remote spawn service.
func (n *node) close() {
	if srv := n.remoteServer(); srv != nil {
		srv.Close()
	}
	n.jobs.Close()
	n.procs.Close()
	n.cluster.shutdown()
	n.spawn.Close()
	n.events.close()
}

// sessionList is one shell's view of the node's sessions.
type sessionList struct {
	n   *node
	own uint64 // the asking shell's session; 0: the node's own shell
}

// Sessions implements repl.SessionLister.
func (l sessionList) Sessions() []repl.SessionInfo {
	var out []repl.SessionInfo
	l.n.mu.Lock()
	local, srv := l.n.local, l.n.server
	l.n.mu.Unlock()
	if local != nil {
		si := *local
		si.Yours = l.own == 0
		out = append(out, si)
	}
	if srv == nil {
		return out
	}
	for _, s := range srv.Sessions() {
		out = append(out, repl.SessionInfo{ID: s.ID, Key: s.Key, From: s.From, Since: s.Since, Kind: s.Kind, Yours: s.ID == l.own})
	}
	return out
}

// joinAtStart joins the cluster of one of the --join nodes, trying them in
// turn with a growing pause between rounds until one succeeds or ctx ends,
// and reports each outcome. A refusal for a wrong cookie ends the tries:
// the cookie will not become right by waiting.
func (n *node) joinAtStart(ctx context.Context, report func(level slog.Level, msg string)) {
	addrs := n.opts.remote.join
	if len(addrs) == 0 {
		return
	}
	const first, most = 250 * time.Millisecond, 10 * time.Second
	pause := first
	for {
		for _, a := range addrs {
			_, err := n.cluster.Join(ctx, a.host, a.port)
			if err == nil {
				// Said once every listed member is linked or given up, as
				// the progress notices tell.
				if n.cluster.waitLinked(ctx) == nil {
					report(slog.LevelInfo, fmt.Sprintf("joined the cluster of %s: %d members", a, len(n.cluster.Members())))
				}
				return
			}
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, cluster.ErrBadCookie) {
				report(slog.LevelError, fmt.Sprintf("--join %s: %s; not retrying, as a wrong cookie stays wrong: give this node the cluster's cookie (--cookie-file, or IRIDIUM_COOKIE) and start it again", a, joinCause(err)))
				return
			}
			report(slog.LevelWarn, fmt.Sprintf("--join %s failed (retrying in %v): %s", a, pause, joinCause(err)))
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return
		}
		pause = min(2*pause, most)
	}
}

// newLogger is a logger that writes text or JSON lines to w; with
// noTime, without the time (lines shown on a terminal as they happen).
// Values may be text from outside (a peer's alias, an SSH client's
// version). Neither handler makes every such value inert on its own: the
// text handler quotes control characters but leaves a DEL in a value it
// need not quote, and the JSON handler leaves DEL and format characters
// such as U+202E as they are. So a string value with an unprintable
// character is escaped by printableValue first (termtext's escapes, as
// the shell shows them), then encoded by the handler.
func newLogger(format string, w io.Writer, noTime bool) *slog.Logger {
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if noTime && len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return printableValue(a)
	}}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// printableValue returns a with a string or error value that has an
// unprintable character escaped by termtext.Escape.
func printableValue(a slog.Attr) slog.Attr {
	var s string
	switch v := a.Value.Any().(type) {
	case string:
		s = v
	case error:
		s = v.Error()
	default:
		return a
	}
	if shown := termtext.Escape(s, false); shown != s {
		return slog.String(a.Key, shown)
	}
	return a
}

// notifyWriter passes each write (slog writes one record per call) to a
// shell's Notify once there is a shell, to stderr before.
type notifyWriter struct {
	mu     sync.Mutex
	notify func(string)
	stderr io.Writer
}

func (w *notifyWriter) set(notify func(string)) {
	w.mu.Lock()
	w.notify = notify
	w.mu.Unlock()
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	notify := w.notify
	w.mu.Unlock()
	if notify == nil {
		return w.stderr.Write(p)
	}
	notify(string(bytes.TrimSuffix(p, []byte("\n"))))
	return len(p), nil
}

// startLocal records the node's own shell, sends the SSH server's log to
// it when it is a terminal, and joins the --join nodes: in the background
// for a terminal, retrying; for a script, before it runs, one round with
// no retry, and an error that says why when no node let this one in (the
// script is not run: its lines are for the cluster). stop ends a join
// still retrying.
func (n *node) startLocal(ctx context.Context, sh *repl.Shell, interactive bool, logw *notifyWriter, stderr io.Writer) (stop func(), err error) {
	if !interactive {
		n.setLocal("script")
		return func() {}, n.joinOnce(ctx, stderr)
	}
	n.setLocal("terminal")
	logw.set(sh.Notify)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.joinAtStart(ctx, func(_ slog.Level, msg string) { sh.Notify(msg) })
	}()
	return func() {
		cancel()
		<-done
	}, nil
}

// errJoinedNone is joinOnce's error when no --join node let this one in.
var errJoinedNone = errors.New("joined no cluster, so the script did not run")

// joinOnce tries each --join node once, until one lets this node in, and
// shows why each one tried did not; none is errJoinedNone.
func (n *node) joinOnce(ctx context.Context, stderr io.Writer) error {
	for _, a := range n.opts.remote.join {
		_, err := n.cluster.Join(ctx, a.host, a.port)
		if err == nil {
			n.cluster.waitLinked(ctx) // the script finds every member linked
			return nil
		}
		fmt.Fprintf(stderr, "iridium: --join %s: %s\n", a, joinCause(err))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if len(n.opts.remote.join) == 0 {
		return nil
	}
	return errJoinedNone
}

// listProcesses lists the node's processes for iridium status.
func (n *node) listProcesses() []statusProcess {
	var out []statusProcess
	for _, in := range n.procs.Processes() {
		out = append(out, statusProcess{PID: in.PID.String(), State: in.State, Name: in.Program})
	}
	return out
}
