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
	DefaultMaxHandshakes = 8
	// DefaultMaxHandshakesPerSource is half of DefaultMaxHandshakes: one
	// address cannot fill the handshake table by itself.
	DefaultMaxHandshakesPerSource = 4
	DefaultVersionTimeout         = 2 * time.Second
	DefaultAuthTimeout            = 10 * time.Second
	DefaultIdleTimeout            = 30 * time.Minute
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
	// once. A new connection is never refused for it: when the table is
	// full, the oldest handshake of the address with the most is closed
	// to make room, so that idle connections cannot lock clients out.
	// Default 8.
	MaxHandshakes int
	// MaxHandshakesPerSource is the most connections in their handshake
	// from one IP address; a new one from an address that has as many
	// closes that address's oldest. Default 4.
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
