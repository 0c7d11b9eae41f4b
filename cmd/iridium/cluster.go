package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/dist"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/names"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/repl"
)

// clusterNode is the REPL's cluster node. The node is made on first use,
// so that the node id and cookie files appear only for someone who
// clusters, and made anew after a leave, since a node that left cannot
// start again.
type clusterNode struct {
	opts   *options
	notify func(notice) // tells the shells and the log, without breaking an edited line

	// spawn is the remote spawn service: it gets the node's messages and
	// events. Nil: none.
	spawn *jobs.Service
	// procs is the node's scheduler: its processes reach other members'
	// through dist, made with each cluster node.
	procs *proc.Scheduler
	dist  atomic.Pointer[dist.Dist]
	names atomic.Pointer[names.Service] // the registered names over dist

	mu   sync.Mutex
	node *cluster.Node
	lock *cluster.NodeIDLock // held while node exists
}

// get returns the node, making it if there is none. What making it has to
// say is said after the lock is released: no lock is held while writing
// to a terminal.
func (c *clusterNode) get() (*cluster.Node, error) {
	c.mu.Lock()
	node, notes, err := c.makeLocked()
	c.mu.Unlock()
	for _, note := range notes {
		c.notify(plainNotice(note))
	}
	return node, err
}

// makeLocked returns the node, making it if there is none, and the notes
// to show when it was made; c.mu is held.
func (c *clusterNode) makeLocked() (*cluster.Node, []string, error) {
	if c.node != nil {
		return c.node, nil, nil
	}
	cfg, cookieFrom, lock, err := clusterConfig(c.opts)
	if err != nil {
		return nil, nil, err
	}
	cfg.OnEvent = func(e cluster.Event) {
		c.notify(eventNotice(e))
		spawnEvent(c.spawn, e)
		if d := c.dist.Load(); d != nil {
			d.HandleEvent(e)
		}
	}
	node, err := cluster.New(cfg)
	if err != nil {
		lock.Release()
		return nil, nil, err
	}
	if c.procs != nil {
		d := dist.New(dist.Config{Node: node, Sched: c.procs})
		c.dist.Store(d)
		c.names.Store(names.New(d, c.procs))
	}
	registerSpawn(c.spawn, node, c.Dist)
	c.node, c.lock = node, lock
	notes := []string{fmt.Sprintf("cluster: this node is \"%s\"; the cookie comes from %s (every node of a cluster needs the same one)", cfg.Alias, cookieFrom)}
	return node, notes, nil
}

// clusterConfig builds the node's configuration from the flags and the
// data directory. cookieFrom says where the cookie came from.
//
// The node ID, which lets a restarted node replace its old entry, is kept
// per alias (under nodes/ in the data directory), so that several nodes
// with their own aliases can share a data directory, as several terminals
// of one user do. Without --node-alias, the alias is the data directory's
// own node ID. The node ID file stays locked by this process (see
// cluster.LockNodeID) until the returned lock is released, so that a
// second process with the same data directory and alias refuses to start
// a node rather than take this one's place.
//
// The cookie comes from --cookie, else --cookie-file, else the
// environment variable IRIDIUM_COOKIE, else the data directory's cookie
// file, made on first use. A cookie that is easy to guess is refused
// (cluster.CheckCookie).
func clusterConfig(o *options) (cfg cluster.Config, cookieFrom string, lock *cluster.NodeIDLock, err error) {
	cfg = cluster.DefaultConfig()
	idDir := o.dataDir
	if o.nodeAlias != "" {
		idDir = filepath.Join(o.dataDir, "nodes", hex.EncodeToString([]byte(o.nodeAlias)))
	}
	cfg.NodeID, lock, err = cluster.LockNodeID(idDir)
	if err != nil {
		return cfg, "", nil, fmt.Errorf("node id: %w", err)
	}
	defer func() {
		if err != nil {
			lock.Release()
			lock = nil
		}
	}()
	cfg.Alias = o.nodeAlias
	if cfg.Alias == "" {
		cfg.Alias = cfg.NodeID
	}
	cfg.BindHost, cfg.BindPort, cfg.AdvertiseHost = o.bindHost, o.bindPort, o.advertiseHost
	cfg.ProbeInterval, cfg.ProbeTimeout, cfg.SuspicionMult = o.probeInterval, o.probeTimeout, o.suspicionMult
	cfg.DialTimeout, cfg.HandshakeTimeout, cfg.WriteTimeout = o.dialTimeout, o.handshakeTimeout, o.writeTimeout
	cfg.ReconnectFor, cfg.MaxFrameSize = o.reconnectFor, o.maxFrameSize
	cfg.MaxMembers, cfg.MaxPendingConns = o.maxMembers, o.maxPendingConns
	if cfg.Cookie, cookieFrom, err = clusterCookie(o); err != nil {
		return cfg, "", nil, fmt.Errorf("cookie: %w", err)
	}
	if err = checkCookie(cfg.Cookie, cookieFrom); err != nil {
		return cfg, "", nil, err
	}
	if o.tlsCert != "" || o.tlsKey != "" || o.tlsCA != "" {
		if cfg.TLS, err = cluster.TLSConfig(o.tlsCert, o.tlsKey, o.tlsCA); err != nil {
			return cfg, "", nil, err
		}
	}
	return cfg, cookieFrom, lock, nil
}

// checkClusterFiles reads the files the cluster flags name (--cookie-file,
// --tls-cert, --tls-key, --tls-ca) and checks them as !start_cluster
// would (the cookie file's kind, size and mode; the TLS files' PEM), so
// that a mistake in them stops the program at start-up, before it opens
// a port or makes a file, rather than at the first !start_cluster.
func checkClusterFiles(o *options) error {
	if o.cookieFile != "" {
		if _, err := cluster.ReadCookieFile(o.cookieFile); err != nil {
			return fmt.Errorf("--cookie-file: %w", err)
		}
	}
	if o.tlsCert != "" || o.tlsKey != "" || o.tlsCA != "" {
		if o.tlsCert == "" || o.tlsKey == "" || o.tlsCA == "" {
			return errors.New("--tls-cert, --tls-key and --tls-ca go together: give all three, or none")
		}
		if _, err := cluster.TLSConfig(o.tlsCert, o.tlsKey, o.tlsCA); err != nil {
			return err
		}
	}
	return nil
}

// cookieEnv is the environment variable that may hold the cluster cookie.
const cookieEnv = "IRIDIUM_COOKIE"

// clusterCookie returns the cookie and says where it came from.
func clusterCookie(o *options) ([]byte, string, error) {
	switch {
	case o.cookie != "":
		return []byte(o.cookie), "--cookie", nil
	case o.cookieFile != "":
		cookie, err := cluster.ReadCookieFile(o.cookieFile)
		return cookie, "--cookie-file " + o.cookieFile, err
	case os.Getenv(cookieEnv) != "":
		return []byte(os.Getenv(cookieEnv)), "$" + cookieEnv, nil
	}
	return cluster.LoadOrCreateCookie(o.dataDir)
}

// releaseLock gives up the node ID lock once the node is gone.
func (c *clusterNode) releaseLock() {
	c.mu.Lock()
	lock := c.lock
	c.lock = nil
	c.mu.Unlock()
	lock.Release()
}

// Start implements repl.ClusterNode.
func (c *clusterNode) Start(ctx context.Context) (string, bool, error) {
	node, err := c.get()
	if err != nil {
		return "", false, err
	}
	addr, err := node.Start(ctx)
	if errors.Is(err, cluster.ErrAlreadyRunning) {
		return addr, true, nil
	}
	return addr, false, err
}

// Join implements repl.ClusterNode.
func (c *clusterNode) Join(ctx context.Context, host string, port int) ([]repl.ClusterMember, error) {
	node, err := c.get()
	if err != nil {
		return nil, err
	}
	members, err := node.Join(ctx, host, port)
	return replMembers(members), err
}

// waitLinked waits until the node has linked (or given up) the members a
// join links in the background, or ctx ends.
func (c *clusterNode) waitLinked(ctx context.Context) error {
	c.mu.Lock()
	node := c.node
	c.mu.Unlock()
	if node == nil {
		return cluster.ErrNotRunning
	}
	return node.WaitLinked(ctx)
}

// Leave implements repl.ClusterNode.
func (c *clusterNode) Leave(ctx context.Context) error {
	c.mu.Lock()
	node := c.node
	c.node = nil
	c.mu.Unlock()
	if node == nil {
		return cluster.ErrNotRunning
	}
	defer c.releaseLock()
	if !node.Running() {
		node.Close()
		return cluster.ErrNotRunning
	}
	if c.spawn != nil {
		defer c.spawn.LeftCluster()
	}
	defer c.closeDist()
	return node.Leave(ctx)
}

// Dist returns the distribution layer of the cluster node, nil when there
// is none.
func (c *clusterNode) Dist() *dist.Dist { return c.dist.Load() }

// closeDist closes the distribution layer of the node that went: the
// monitors of other members' processes get reason 3.
func (c *clusterNode) closeDist() {
	if sv := c.names.Swap(nil); sv != nil {
		sv.Close()
	}
	if d := c.dist.Swap(nil); d != nil {
		d.Close()
	}
}

// Members implements repl.ClusterNode.
func (c *clusterNode) Members() []repl.ClusterMember {
	c.mu.Lock()
	node := c.node
	c.mu.Unlock()
	if node == nil {
		return nil
	}
	return replMembers(node.Members())
}

// shutdown leaves the cluster if the node is in one, so that peers see a
// leave rather than a failure, and closes the node.
func (c *clusterNode) shutdown() {
	c.mu.Lock()
	node := c.node
	c.node = nil
	c.mu.Unlock()
	if node == nil {
		return
	}
	defer c.releaseLock()
	defer c.closeDist()
	if node.Running() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if node.Leave(ctx) == nil {
			return
		}
	}
	node.Close()
}

func replMembers(members []cluster.Member) []repl.ClusterMember {
	out := make([]repl.ClusterMember, len(members))
	for i, m := range members {
		out[i] = repl.ClusterMember{Alias: m.Alias, Addr: m.Addr(), State: m.State.String(), Local: m.Local, LastSeen: m.LastSeen, Since: m.Since}
	}
	return out
}

// distShell is repl.Distribution over the distribution layer of the
// cluster node, which is made anew with each node.
type distShell struct{ c *clusterNode }

func (d distShell) ListProcesses(ctx context.Context, alias string) ([]proc.Info, int, error) {
	dl := d.c.Dist()
	if dl == nil {
		return nil, 0, cluster.ErrNotRunning
	}
	return dl.ListProcesses(ctx, alias)
}

func (d distShell) KillRemote(ctx context.Context, pid proc.PID) error {
	dl := d.c.Dist()
	if dl == nil {
		return cluster.ErrNotRunning
	}
	return dl.KillRemote(ctx, pid)
}

func (d distShell) Alias(slot int) string {
	if dl := d.c.Dist(); dl != nil {
		return dl.Alias(slot)
	}
	return ""
}
