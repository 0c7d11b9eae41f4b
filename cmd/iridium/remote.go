package main

import (
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/remote"
)

// remoteOptions are the flags of remote access, daemon mode and --join.
type remoteOptions struct {
	enabled        bool // -r
	bindHost       string
	bindPort       int
	authorizedKeys string
	maxSessions    int
	authTimeout    time.Duration
	idleTimeout    time.Duration
	daemon         bool
	join           []joinAddr
	logFormat      string
}

// joinAddr is one --join HOST:PORT.
type joinAddr struct {
	host string
	port int
}

func (j joinAddr) String() string { return net.JoinHostPort(j.host, strconv.Itoa(j.port)) }

func defineRemoteFlags(fs *flag.FlagSet, r *remoteOptions) {
	for _, name := range flagNames("enable-remote-access") {
		fs.BoolVar(&r.enabled, name, false, "serve this node's shell over SSH (public-key login; see docs/remote.md)")
	}
	for _, name := range flagNames("ssh-host") {
		fs.StringVar(&r.bindHost, name, remote.DefaultBindHost, "the `HOST` the SSH port listens on (with -r)")
	}
	for _, name := range flagNames("ssh-port") {
		fs.IntVar(&r.bindPort, name, remote.DefaultBindPort, "the SSH `PORT`: the one people log in to with ssh, opened only with -r (0 picks a free one)")
	}
	fs.StringVar(&r.authorizedKeys, "authorized-keys", "", "the OpenSSH authorized_keys file of the keys that may log in (default: authorized_keys in the data directory)")
	fs.IntVar(&r.maxSessions, "max-sessions", remote.DefaultMaxSessions, "the most SSH sessions open at once")
	fs.DurationVar(&r.authTimeout, "auth-timeout", remote.DefaultAuthTimeout, "how long an SSH client has to log in")
	fs.DurationVar(&r.idleTimeout, "idle-timeout", remote.DefaultIdleTimeout, "close an SSH connection with no traffic either way for this long (0: never)")
	fs.BoolVar(&r.daemon, "daemon", false, "run with no terminal shell: start the cluster listener, --join, serve SSH with -r, log to stderr")
	fs.BoolVar(&r.daemon, "daemon-mode", false, "the same as --daemon")
	fs.Func("join", "join the cluster of the node at `HOST:PORT` at start, retrying until one succeeds; a script (-e, or piped in) tries each once and does not run if none lets it in (repeatable)", func(v string) error {
		j, err := parseJoinAddr(v)
		if err == nil {
			r.join = append(r.join, j)
		}
		return err
	})
	fs.StringVar(&r.logFormat, "log-format", "text", "the daemon's log format on stderr: text or json")
}

// parseJoinAddr parses --join's HOST:PORT.
func parseJoinAddr(v string) (joinAddr, error) {
	host, port, err := cluster.ParseJoinAddr(v)
	if err != nil {
		return joinAddr{}, err
	}
	return joinAddr{host: host, port: port}, nil
}

// check checks the flags and fills in the defaults that depend on the
// data directory.
func (r *remoteOptions) check(dataDir string) error {
	if r.bindPort < 0 || r.bindPort > 65535 {
		return fmt.Errorf("--ssh-port %d: a port is 0 to 65535", r.bindPort)
	}
	if r.maxSessions <= 0 || r.authTimeout <= 0 || r.idleTimeout < 0 {
		return fmt.Errorf("--max-sessions and --auth-timeout must be positive, --idle-timeout not negative")
	}
	if r.logFormat != "text" && r.logFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", r.logFormat)
	}
	if r.authorizedKeys == "" {
		r.authorizedKeys = filepath.Join(dataDir, "authorized_keys")
	}
	return nil
}

// hostKeyPath is where the SSH host key is kept.
func hostKeyPath(dataDir string) string { return filepath.Join(dataDir, "ssh_host_ed25519_key") }

// remoteConfig is the SSH server's configuration from the flags.
func (r *remoteOptions) serverConfig(dataDir string) remote.Config {
	cfg := remote.DefaultConfig()
	cfg.Addr = net.JoinHostPort(r.bindHost, strconv.Itoa(r.bindPort))
	cfg.HostKeyPath = hostKeyPath(dataDir)
	cfg.AuthorizedKeysPath = r.authorizedKeys
	cfg.MaxSessions = r.maxSessions
	cfg.AuthTimeout = r.authTimeout
	cfg.IdleTimeout = r.idleTimeout
	if r.idleTimeout == 0 {
		cfg.IdleTimeout = -1
	}
	return cfg
}
