package remote

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Request payloads (RFC 4254).
type (
	ptyRequest struct {
		Term                 string
		Cols, Rows, Wpx, Hpx uint32
		Modes                string
	}
	windowChange struct {
		Cols, Rows, Wpx, Hpx uint32
	}
	envRequest struct {
		Name, Value string
	}
	execRequest struct {
		Command string
	}
	signalRequest struct {
		Signal string
	}
	exitStatus struct {
		Status uint32
	}
)

// session is one session channel: the requests that set it up, then its
// shell.
type session struct {
	srv     *Server
	ch      ssh.Channel
	info    SessionInfo
	term    *Terminal // set by pty-req
	noColor bool      // the client sent NO_COLOR, the one variable taken
	shell   shellRef
}

// serveSession accepts nc, waits (up to AuthTimeout) for a shell or exec
// request, runs the shell and reports its exit status.
func (s *Server) serveSession(ctx context.Context, nc ssh.NewChannel, info SessionInfo) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	ss := &session{srv: s, ch: ch, info: info}
	start := time.NewTimer(s.cfg.AuthTimeout)
	defer start.Stop()
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				return
			}
			if command, kind, started := ss.setUp(req); started {
				ss.run(ctx, reqs, command, kind)
				return
			}
		case <-start.C:
			io.WriteString(ch.Stderr(), "iridium: no shell or exec request in time\r\n")
			return
		case <-ctx.Done():
			return
		}
	}
}

// setUp answers one request before the shell starts; started is true for
// "shell" and "exec", with the command text of an exec.
func (ss *session) setUp(req *ssh.Request) (command, kind string, started bool) {
	switch req.Type {
	case "pty-req":
		var p ptyRequest
		if ss.term != nil || ssh.Unmarshal(req.Payload, &p) != nil {
			req.Reply(false, nil)
			return "", "", false
		}
		ss.term = newTerminal(p.Term, int(p.Cols))
		req.Reply(true, nil)
	case "env":
		var e envRequest
		ok := ssh.Unmarshal(req.Payload, &e) == nil && e.Name == "NO_COLOR"
		if ok {
			ss.noColor = true
		}
		req.Reply(ok, nil)
	case "window-change":
		ss.windowChange(req)
	case "shell":
		req.Reply(true, nil)
		if ss.term != nil {
			return "", "terminal", true
		}
		return "", "script", true
	case "exec":
		var e execRequest
		if ssh.Unmarshal(req.Payload, &e) != nil {
			req.Reply(false, nil)
			return "", "", false
		}
		req.Reply(true, nil)
		return e.Command, "exec", true
	default: // subsystem, x11-req, auth-agent-req@openssh.com, ...
		req.Reply(false, nil)
	}
	return "", "", false
}

func (ss *session) windowChange(req *ssh.Request) {
	var w windowChange
	ok := ssh.Unmarshal(req.Payload, &w) == nil && ss.term != nil
	if ok {
		ss.term.resize(int(w.Cols))
	}
	if req.WantReply {
		req.Reply(ok, nil)
	}
}

// run makes the session's shell, runs it while answering the requests
// that may still come (window changes, signals), and sends its exit
// status.
func (ss *session) run(ctx context.Context, reqs <-chan *ssh.Request, command, kind string) {
	s := ss.srv
	runReq := ss.runRequest(command, kind)
	if runReq != nil {
		kind = RunCommand
	}
	s.setKind(ss.info.ID, kind)
	ss.info.Kind = kind
	out := newOutputPump(ss.ch, ss.ch.Stderr())
	// The REPL keeps what it runs, so the input is what bounds a
	// session's memory; an exec's command is bounded by its packet, and a
	// run reads its program with a limit of its own.
	input := newCappedInput(ss.ch, s.cfg.MaxSessionInput, kind == "script")
	var stdin io.Reader = input
	if kind == RunCommand {
		stdin = ss.ch
	}
	sio := ShellIO{Stdin: stdin, Stdout: out.stdout(), Stderr: out.stderr(), NoColor: ss.noColor, Session: ss.info}
	if ss.term != nil {
		// The client's terminal is raw: this side ends lines with CR LF,
		// and both streams go to the one terminal.
		sio.Stdout = crlfWriter{out.stdout()}
		sio.Stderr = crlfWriter{out.stdout()}
	}
	switch kind {
	case "terminal":
		sio.Terminal = ss.term
		in := newInputPump(input, &ss.shell)
		defer in.Close()
		sio.Stdin = in
	case "exec":
		sio.Stdin = strings.NewReader(command)
	case RunCommand:
		sio.Run, sio.Terminal = runReq, ss.term // the program is the session's input
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done sync.WaitGroup
	done.Add(1)
	go func() {
		defer done.Done()
		ss.serveRequests(ctx, reqs)
	}()
	s.cfg.Logger.Info("session opened", "session", ss.info.ID, "key", ss.info.Key, "fingerprint", ss.info.Fingerprint, "from", ss.info.From, "kind", kind)
	status := 1
	sh, err := s.cfg.NewShell(sio)
	if err != nil {
		io.WriteString(sio.Stderr, "iridium: "+err.Error()+"\n")
	} else {
		ss.shell.set(sh)
		status = sh.Run(ctx)
	}
	if input.overLimit() {
		io.WriteString(sio.Stderr, "iridium: "+input.limitError().Error()+"\n")
		status = max(status, 1)
	}
	out.close() // what the shell wrote is sent; later writes fail
	// Off the list before the log says so: a reader of the log who then
	// asks for the sessions must not find it (the deferred close in
	// serveConn covers the paths that never get here).
	s.closeSession(ss.info)
	s.cfg.Logger.Info("session closed", "session", ss.info.ID, "from", ss.info.From, "exit_status", status, "lasted", time.Since(ss.info.Since).Round(time.Millisecond).String())
	ss.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: uint32(status)}))
	ss.ch.CloseWrite()
	cancel()
	ss.ch.Close()
	done.Wait()
}

// serveRequests answers the session's requests once its shell runs.
func (ss *session) serveRequests(ctx context.Context, reqs <-chan *ssh.Request) {
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				return
			}
			switch req.Type {
			case "window-change":
				ss.windowChange(req)
			case "signal":
				var sig signalRequest
				if ssh.Unmarshal(req.Payload, &sig) == nil && sig.Signal == "INT" {
					ss.shell.interrupt()
				}
				if req.WantReply {
					req.Reply(false, nil)
				}
			default:
				if req.WantReply {
					req.Reply(false, nil)
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// shellRef holds the session's shell once it is made, for the goroutines
// that interrupt it (readline's reader, the request loop).
type shellRef struct {
	mu sync.Mutex
	sh Shell
}

func (r *shellRef) set(sh Shell) {
	r.mu.Lock()
	r.sh = sh
	r.mu.Unlock()
}

// interrupt interrupts the shell's running program, if any.
func (r *shellRef) interrupt() bool {
	r.mu.Lock()
	sh := r.sh
	r.mu.Unlock()
	return sh != nil && sh.Interrupt()
}

// ctrlC is the byte a raw terminal sends for Ctrl-C.
const ctrlC = 0x03

// maxTypeAhead bounds the input a terminal session holds that line
// editing has not read yet; past it, the session stops reading the client.
const maxTypeAhead = 64 << 10

// inputPump reads a terminal session's input all the time, also while a
// program runs and line editing reads nothing, so that a Ctrl-C typed
// then interrupts that program (and is dropped). At the prompt, Ctrl-C
// passes on to line editing, which drops the edited line. Other input
// waits, at most maxTypeAhead bytes of it, for line editing to read it.
type inputPump struct {
	shell *shellRef

	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	err    error // the input's read error, once the buffer is drained
	closed bool
}

func newInputPump(r io.Reader, shell *shellRef) *inputPump {
	p := &inputPump{shell: shell}
	p.cond = sync.NewCond(&p.mu)
	go p.pump(r)
	return p
}

// pump reads r until it fails or the pump is closed.
func (p *inputPump) pump(r io.Reader) {
	chunk := make([]byte, 4096)
	for {
		n, err := r.Read(chunk)
		kept := chunk[:0]
		for _, b := range chunk[:n] {
			if b == ctrlC && p.shell.interrupt() {
				continue
			}
			kept = append(kept, b)
		}
		p.mu.Lock()
		for len(p.buf)+len(kept) > maxTypeAhead && !p.closed {
			p.cond.Wait()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		p.buf = append(p.buf, kept...)
		if err != nil {
			p.err = err
		}
		p.cond.Broadcast()
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader for line editing.
func (p *inputPump) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && p.err == nil && !p.closed {
		p.cond.Wait()
	}
	if len(p.buf) == 0 {
		if p.closed {
			return 0, io.EOF
		}
		return 0, p.err
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	p.cond.Broadcast()
	return n, nil
}

// Close ends Read and lets the pump go once its read returns.
func (p *inputPump) Close() error {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}

// crlfWriter ends lines with CR LF, as a terminal in raw mode needs.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') < 0 {
		return c.w.Write(p)
	}
	out := make([]byte, 0, len(p)+8)
	for i, b := range p {
		if b == '\n' && (i == 0 || p[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, b)
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Terminal is a session's pseudo-terminal as the client described it: its
// type ($TERM) and its width, which window-change requests update.
type Terminal struct {
	term string

	mu       sync.Mutex
	width    int
	onResize []func()
}

// Terminal widths outside these bounds are taken as the nearest bound.
const minWidth, maxWidth, defaultWidth = 10, 1000, 80

func newTerminal(term string, width int) *Terminal {
	t := &Terminal{term: term, width: defaultWidth}
	if width > 0 {
		t.width = min(max(width, minWidth), maxWidth)
	}
	return t
}

// Term is the client's $TERM, such as "xterm-256color".
func (t *Terminal) Term() string { return t.term }

// Width is the terminal's width in columns.
func (t *Terminal) Width() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.width
}

// OnResize registers f to be called after each change of width.
func (t *Terminal) OnResize(f func()) {
	t.mu.Lock()
	t.onResize = append(t.onResize, f)
	t.mu.Unlock()
}

func (t *Terminal) resize(width int) {
	if width <= 0 {
		return
	}
	t.mu.Lock()
	t.width = min(max(width, minWidth), maxWidth)
	fs := append([]func(){}, t.onResize...)
	t.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// ColorTerm reports whether $TERM names a terminal that shows colour.
func (t *Terminal) ColorTerm() bool {
	return t.term != "" && t.term != "dumb"
}
