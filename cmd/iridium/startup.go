package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/remote"
)

// The start-up of a node (runDaemon, runShell) checks everything first and
// then makes things, in this order, so that a refused start leaves
// nothing behind (no SSH host key, node id or cookie file, no open port):
//
//  1. checkStart: the flags' files (checkClusterFiles, in run; the -i
//     file), the SSH server's configuration and keys (remote.Check), and
//     that the ports to listen on can be opened;
//  2. the cluster node, when the start needs one: it locks the node id
//     (the check that no other process runs this node) and makes the node
//     id and cookie files on first use;
//  3. the SSH server: it makes the host key on first use, then listens;
//  4. the cluster listener and the joins; the status socket.

// startError is a refused start: what did not start, and why.
type startError struct {
	what string // "remote access", "the cluster listener"
	err  error
}

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// checkStart checks, making nothing, what starting the node will need:
// the -i file; with -r, the SSH server's configuration and keys; when
// withCluster, the cookie given (checkGivenCookie); the ports it will
// listen on (the cluster's when withCluster, the SSH one with -r).
func (n *node) checkStart(withCluster bool) error {
	o := n.opts
	if o.interactFile != "" {
		if err := checkReadable(o.interactFile); err != nil {
			return &startError{"the shell", fmt.Errorf("-i: %w", err)}
		}
	}
	var ports []portUse
	if o.remote.enabled {
		if err := remote.Check(n.remoteConfig()); err != nil {
			return &startError{"remote access", err}
		}
		ports = append(ports, portUse{"remote access", "the SSH port", "-p (--ssh-port)", o.remote.bindHost, o.remote.bindPort})
	}
	if withCluster {
		if err := checkGivenCookie(o); err != nil {
			return &startError{"the cluster listener", err}
		}
		ports = append(ports, portUse{"the cluster listener", "the cluster port", "-P (--cluster-port)", o.bindHost, o.bindPort})
	}
	return checkPorts(ports)
}

// checkGivenCookie checks the cookie given by --cookie, --cookie-file or
// IRIDIUM_COOKIE as making the cluster node would, so that a guessable
// one is refused before the node id is made. Without one, the node makes
// or reads the data directory's cookie file, which needs no check first.
func checkGivenCookie(o *options) error {
	if o.cookie == "" && o.cookieFile == "" && os.Getenv(cookieEnv) == "" {
		return nil
	}
	cookie, from, err := clusterCookie(o)
	if err != nil {
		return fmt.Errorf("cookie: %w", err)
	}
	return checkCookie(cookie, from)
}

// checkReadable checks that path is a regular file this process can
// open, or a kind of file the shell itself refuses with a reason (a FIFO
// is not opened here: that would wait for a writer).
func checkReadable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory, not an assembly file", path)
	case !fi.Mode().IsRegular():
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// portUse is a port the start will listen on.
type portUse struct {
	what string // what listens there, as startError names it
	name string // "the cluster port"
	flag string // the flag that sets it
	host string
	port int // 0: a free one, which needs no check
}

func (p portUse) addr() string { return net.JoinHostPort(p.host, strconv.Itoa(p.port)) }

// checkPorts opens each port and closes them all again. They are held
// together, so that one port given twice is found too.
func checkPorts(ports []portUse) error {
	for i, p := range ports {
		for _, q := range ports[:i] {
			if p.port != 0 && p.port == q.port && hostsOverlap(p.host, q.host) {
				return &startError{p.what, fmt.Errorf("%s and %s are both %s: give them different ones with %s and %s",
					q.name, p.name, p.addr(), q.flag, p.flag)}
			}
		}
	}
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	for _, p := range ports {
		if p.port == 0 {
			continue
		}
		ln, err := net.Listen("tcp", p.addr())
		if errors.Is(err, syscall.EADDRINUSE) {
			return &startError{p.what, fmt.Errorf("%s %s is taken (by another node or program): stop that, or give this node another one with %s (0 picks a free one): %w",
				p.name, p.addr(), p.flag, err)}
		}
		if err != nil {
			return &startError{p.what, fmt.Errorf("%s %s cannot be opened: %w", p.name, p.addr(), err)}
		}
		held = append(held, ln)
	}
	return nil
}

// hostsOverlap reports whether listeners on hosts a and b would take the
// same port: the same host, or either of them every address.
func hostsOverlap(a, b string) bool {
	return a == b || isAnyHost(a) || isAnyHost(b)
}

func isAnyHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "" || ip != nil && ip.IsUnspecified()
}

// remoteConfig is the SSH server's configuration, its shells this node's.
func (n *node) remoteConfig() remote.Config {
	cfg := n.opts.remote.serverConfig(n.opts.dataDir)
	cfg.NewShell = n.newSessionShell
	return cfg
}

// joinCause is why joining the cluster failed, as --join shows it after
// the address: cluster.JoinError's cause, which does not name the address
// again.
func joinCause(err error) string {
	text := err.Error()
	var je *cluster.JoinError
	if errors.As(err, &je) {
		text = je.Cause()
	}
	return termtext.Clip(text, maxEventError)
}
