package remote

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Defaults of Config.
const (
	DefaultBindHost      = "127.0.0.1"
	DefaultBindPort      = 2244
	DefaultMaxSessions   = 16
	DefaultMaxHandshakes = 64
	// DefaultMaxHandshakesPerSource is a quarter of DefaultMaxHandshakes:
	// an address at its share replaces its own silent connections.
	DefaultMaxHandshakesPerSource = 16
	DefaultVersionTimeout         = 2 * time.Second
	DefaultAuthTimeout            = 10 * time.Second
	DefaultIdleTimeout            = 30 * time.Minute
	// DefaultMaxSessionInput bounds the input of one session: the REPL
	// keeps every line it runs (the program grows by each), about 9 times
	// the input's size in memory (8 MiB of script took the daemon from 26
	// to 96 MB). It is above the 8 MiB of a program piped whole
	// (repl.MaxProgramInput) and a line (repl.MaxLineSize, 1 MiB), so such
	// a program meets its own limit, and its message, first.
	DefaultMaxSessionInput = 10 << 20
	// DefaultLogEvery is the interval in which at most
	// DefaultLogsPerInterval refused connections are logged one by one;
	// the rest are logged as one summary at the end of the interval.
	DefaultLogEvery        = time.Minute
	DefaultLogsPerInterval = 5
)

// Config configures a Server. Use DefaultConfig and change what you need.
type Config struct {
	// Addr is the host:port the server listens on ("127.0.0.1:0" picks a
	// free port). Default 127.0.0.1:2244.
	Addr string
	// HostKeyPath is the file of the server's ed25519 host key, made
	// (0600) on first use and kept. Required.
	HostKeyPath string
	// AuthorizedKeysPath is the OpenSSH authorized_keys file of the keys
	// that may log in. It is read at start (no key there is an error) and
	// again whenever it changes. Required.
	AuthorizedKeysPath string
	// MaxSessions is the most sessions open at once over all
	// connections, and the most authenticated connections. Default 16.
	MaxSessions int
	// MaxHandshakes is the most connections still in their handshake at
	// once. When the table is full, a connection that has sent no version
	// line within its grace (200ms) is closed to make room, the oldest of
	// the address with the most first; one that has sent it is kept 2s
	// from then, and then closed only when no silent one may be.
	// While none may be closed, the server accepts nothing and new
	// connections wait in the kernel's backlog in arrival order, so idle
	// connections slow clients down but cannot lock them out. Default 64.
	MaxHandshakes int
	// MaxHandshakesPerSource is an address's share of MaxHandshakes: a
	// new connection from an address that has as many replaces that
	// address's oldest silent one, if one is past its grace. Default 16.
	MaxHandshakesPerSource int
	// VersionTimeout is how long a new connection has to send its SSH
	// version line, the first thing a client sends: a client that sends
	// nothing is closed after it, not after AuthTimeout. Default 2s.
	VersionTimeout time.Duration
	// AuthTimeout is how long a connection has from its accept to the
	// end of its authentication, and how long a new session has to ask
	// for a shell or a command. Default 10s.
	AuthTimeout time.Duration
	// IdleTimeout closes a connection that carried no byte either way for
	// this long. Default 30m; negative: never.
	IdleTimeout time.Duration
	// MaxSessionInput is the most bytes a shell or script session takes
	// from its client. A script is cut at the last whole line within it:
	// the lines before run, the session then ends with an error that
	// says so. A run (RunCommand) reads its program with a limit of its
	// own. Default 10 MiB.
	MaxSessionInput int64
	// LogEvery and LogsPerInterval bound the log lines of refused
	// connections (see the defaults).
	LogEvery        time.Duration
	LogsPerInterval int
	// Logger receives the server's log: start, sessions opened and
	// closed, refused connections. Nil: discarded.
	Logger *slog.Logger
	// NewShell makes the shell a session runs. Required.
	NewShell func(ShellIO) (Shell, error)
}

// DefaultConfig returns a Config with every default set.
func DefaultConfig() Config {
	return Config{
		Addr:                   net.JoinHostPort(DefaultBindHost, strconv.Itoa(DefaultBindPort)),
		MaxSessions:            DefaultMaxSessions,
		MaxHandshakes:          DefaultMaxHandshakes,
		MaxHandshakesPerSource: DefaultMaxHandshakesPerSource,
		VersionTimeout:         DefaultVersionTimeout,
		AuthTimeout:            DefaultAuthTimeout,
		IdleTimeout:            DefaultIdleTimeout,
		MaxSessionInput:        DefaultMaxSessionInput,
		LogEvery:               DefaultLogEvery,
		LogsPerInterval:        DefaultLogsPerInterval,
	}
}

// check fills in defaults and says what is missing.
func (c *Config) check() error {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = d.MaxSessions
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = d.MaxHandshakes
	}
	if c.MaxHandshakesPerSource <= 0 {
		c.MaxHandshakesPerSource = d.MaxHandshakesPerSource
	}
	c.MaxHandshakesPerSource = min(c.MaxHandshakesPerSource, c.MaxHandshakes)
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = d.AuthTimeout
	}
	if c.VersionTimeout <= 0 {
		c.VersionTimeout = d.VersionTimeout
	}
	c.VersionTimeout = min(c.VersionTimeout, c.AuthTimeout)
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.MaxSessionInput <= 0 {
		c.MaxSessionInput = DefaultMaxSessionInput
	}
	if c.LogEvery <= 0 {
		c.LogEvery = d.LogEvery
	}
	if c.LogsPerInterval <= 0 {
		c.LogsPerInterval = d.LogsPerInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	switch {
	case c.HostKeyPath == "":
		return errors.New("remote access: no host key path")
	case c.AuthorizedKeysPath == "":
		return errors.New("remote access: no authorized_keys path")
	case c.NewShell == nil:
		return errors.New("remote access: no shell maker")
	}
	return nil
}

// Shell is what a session runs: one REPL of its own.
type Shell interface {
	// Run reads and runs lines until the input ends, the shell quits or
	// ctx is cancelled, and returns the session's exit status.
	Run(ctx context.Context) int
	// Interrupt stops the program the shell is running, as Ctrl-C does,
	// and reports whether there was one (false at the prompt).
	Interrupt() bool
}

// ShellIO is what NewShell gets for one session.
type ShellIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Terminal is the session's pseudo-terminal; nil when the client asked
	// for none, or for an exec request of REPL lines: the shell is then
	// scripted.
	Terminal *Terminal
	// NoColor is set when the client sent NO_COLOR in its environment.
	NoColor bool
	// Session describes the session, as Server.Sessions does.
	Session SessionInfo
	// Run is set for an exec request of RunCommand: the shell is to run
	// the program that Stdin carries, not REPL lines.
	Run *RunRequest
}
