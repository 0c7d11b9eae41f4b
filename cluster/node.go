package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/iridium-vm/iridium/internal/pending"
)

// nodeState is where a Node is in its life.
type nodeState int

const (
	stateNew     nodeState = iota // made by New, not listening
	stateRunning                  // listening and linking
	stateLeaving                  // Leave is telling peers goodbye
	stateClosed                   // Close ran; final
)

// Node is one member of an Iridium cluster. Its methods are safe for
// concurrent use. Close must be called once the node was started.
type Node struct {
	cfg        Config
	frames     frameCodec
	preAuth    frameCodec // for frames from a peer not yet authenticated
	refusals   refusalLog
	transport  Transport
	events     *eventQueue
	version    uint32 // ProtocolVersion; tests change it
	plainLinks bool   // links are not sealed (seal.go); tests and benchmarks set it
	ctx        context.Context
	cancel     context.CancelFunc
	// self describes this node on the wire. Host is empty when the node
	// listens on a wildcard address without an advertise host; then each
	// connection publishes its own local address. Port is set by Start.
	self memberInfo

	handlersMu sync.RWMutex
	handlers   map[string]handlerEntry // by message kind
	local      localQueue              // messages this node sends itself

	lifecycle sync.Mutex // serialises Start, Leave and Close
	wg        sync.WaitGroup

	// Each part below owns its state and lock. The lock order is
	// links, then members or gossip; mu is never taken under another.
	links      *linkSet       // the node's state and links (linkset.go)
	probes     *prober        // SWIM probes and this node's epoch (probe.go)
	members    *memberTable   // the member table (member.go)
	gossip     *gossip        // dials this node makes on its own (gossip.go)
	joining    *joinSet       // members a Join links in the background (joinprogress.go)
	handshakes *pending.Table // inbound connections in their handshake, for eviction

	// mu guards where the node listens and how it shows itself.
	mu          sync.Mutex
	listener    net.Listener
	learnedHost string    // local address seen on a connection
	started     time.Time // when Start bound the listener
}

// New checks cfg, fills its defaults and returns a node that does not
// listen yet.
func New(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.NodeID == "" {
		id, err := newUUID()
		if err != nil {
			return nil, err
		}
		cfg.NodeID = id
	}
	if len(cfg.NodeID) > 64 {
		return nil, fmt.Errorf("%w: NodeID has %d bytes, the limit is 64", ErrBadConfig, len(cfg.NodeID))
	}
	transport := cfg.Transport
	switch {
	case transport != nil:
	case cfg.TLS != nil:
		transport = TLSTransport{Config: cfg.TLS, SourceHost: cfg.BindHost}
	default:
		transport = TCPTransport{SourceHost: cfg.BindHost}
	}
	if len(cfg.CookieKey) == 0 {
		cfg.CookieKey = DeriveCookieKey(cfg.Cookie)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := newEventQueue(cfg.OnEvent)
	n := &Node{
		cfg:        cfg,
		frames:     newFrameCodec(cfg.MaxFrameSize),
		transport:  transport,
		events:     events,
		version:    ProtocolVersion,
		ctx:        ctx,
		cancel:     cancel,
		preAuth:    newFrameCodec(min(PreAuthMaxFrameSize, cfg.MaxFrameSize)),
		handshakes: pending.New(cfg.MaxPendingConns, cfg.MaxPendingPerSource),
		links:      newLinkSet(),
		members: newMemberTable(func(kind EventKind, m Member, err error) {
			events.push(Event{Kind: kind, Member: m, Err: err, Time: time.Now()})
		}),
		gossip:   newGossip(),
		joining:  newJoinSet(ctx),
		probes:   newProber(),
		handlers: make(map[string]handlerEntry),
		local:    localQueue{ch: make(chan localMessage, localQueueLen)},
	}
	n.self = memberInfo{
		Alias:       cfg.Alias,
		NodeID:      cfg.NodeID,
		Incarnation: uint64(time.Now().UnixNano()),
		Host:        publishedHost(cfg),
	}
	return n, nil
}

// publishedHost is the host the node publishes, or "" when it must be taken
// from each connection (wildcard bind without an advertise host).
func publishedHost(cfg Config) string {
	if cfg.AdvertiseHost != "" {
		return cfg.AdvertiseHost
	}
	if isWildcard(cfg.BindHost) {
		return ""
	}
	return cfg.BindHost
}

func isWildcard(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

// Alias returns the node's alias.
func (n *Node) Alias() string { return n.cfg.Alias }

// NodeID returns the node's ID (Config.NodeID or the one New made).
func (n *Node) NodeID() string { return n.cfg.NodeID }

// Start binds the cluster listener and starts accepting peers. It returns
// the address the listener is bound to. ctx bounds only the start itself;
// the node runs until Leave or Close. Starting a running node returns
// ErrAlreadyRunning, a closed one ErrClosed, a taken port ErrPortInUse.
func (n *Node) Start(ctx context.Context) (addr string, err error) {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	state := n.links.currentState()
	n.mu.Lock()
	current := net.JoinHostPort(n.cfg.BindHost, strconv.Itoa(n.self.Port)) // as Start returned it
	n.mu.Unlock()
	switch state {
	case stateRunning, stateLeaving:
		return current, fmt.Errorf("%w: node %q listens on %s", ErrAlreadyRunning, n.cfg.Alias, current)
	case stateClosed:
		return "", ErrClosed
	}
	bind := net.JoinHostPort(n.cfg.BindHost, strconv.Itoa(n.cfg.BindPort))
	ln, err := n.transport.Listen(ctx, bind)
	if errors.Is(err, syscall.EADDRINUSE) {
		return "", fmt.Errorf("start cluster listener on %s: %w: %w", bind, ErrPortInUse, err)
	}
	if err != nil {
		return "", fmt.Errorf("start cluster listener on %s: %w", bind, err)
	}
	_, portText, err := net.SplitHostPort(ln.Addr().String())
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil {
		ln.Close()
		return "", fmt.Errorf("start cluster listener on %s: listener reports address %q", bind, ln.Addr())
	}
	// The bind host as asked, not as the listener reports it: a socket on
	// 0.0.0.0 reports [::] when it is dual-stack.
	addr = net.JoinHostPort(n.cfg.BindHost, portText)
	n.mu.Lock()
	n.self.Port = port
	n.listener, n.started = ln, time.Now()
	n.mu.Unlock()
	n.links.mu.Lock()
	n.links.state = stateRunning
	n.links.mu.Unlock()
	n.wg.Add(4)
	go func() { defer n.wg.Done(); n.probeLoop() }()
	go func() { defer n.wg.Done(); n.events.run() }()
	go func() { defer n.wg.Done(); n.acceptLoop(ln) }()
	go func() { defer n.wg.Done(); n.deliverLocal() }()
	return addr, nil
}

// Running reports whether the node listens for peers.
func (n *Node) Running() bool {
	return n.links.currentState() == stateRunning
}

// localHostLocked is the host shown for the local node. Caller holds mu.
func (n *Node) localHostLocked() string {
	switch {
	case n.self.Host != "":
		return n.self.Host
	case n.learnedHost != "":
		return n.learnedHost
	}
	return n.cfg.BindHost
}

// Close stops the node without telling peers (they see the link close):
// it closes the listener and every connection and waits for every
// goroutine of the node. Use Leave to go away gracefully. Close is final
// and may be called more than once.
func (n *Node) Close() error {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	return n.closeLocked()
}

// closeLocked is Close; the caller holds lifecycle.
func (n *Node) closeLocked() error {
	ls := n.links
	ls.mu.Lock()
	if ls.state == stateClosed {
		ls.mu.Unlock()
		return nil
	}
	started := ls.state != stateNew
	ls.state = stateClosed
	links := ls.appendAllLocked(make([]*link, 0, len(ls.byAlias)+len(ls.standby)))
	conns := make([]net.Conn, 0, len(ls.handshaking))
	for c := range ls.handshaking {
		conns = append(conns, c)
	}
	ls.mu.Unlock()
	n.mu.Lock()
	ln := n.listener
	n.mu.Unlock()

	n.cancel()
	var err error
	if ln != nil {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = fmt.Errorf("close cluster listener: %w", cerr)
		}
	}
	for _, l := range links {
		l.close()
	}
	for _, c := range conns {
		c.Close()
	}
	if started {
		n.events.stop()
	}
	n.wg.Wait()
	return err
}

// spawn runs f in a goroutine that Close waits for, unless the node is
// closed; it reports whether f runs. The caller must not hold links.mu.
func (n *Node) spawn(f func()) bool {
	n.links.mu.Lock()
	defer n.links.mu.Unlock()
	if n.links.state == stateClosed {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
	return true
}

// withNodeContext returns a context that ends with ctx or with the node.
func (n *Node) withNodeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(n.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// acceptLoop accepts connections until the listener closes, handing each
// to its own goroutine. The pending table (see admitPending) bounds the
// connections in their handshake.
func (n *Node) acceptLoop(ln net.Listener) {
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if !sleepCtx(n.ctx, backoff) { // e.g. out of file descriptors
				return
			}
			continue
		}
		backoff = 0
		p, err := n.admitPending(conn)
		if err != nil { // ErrClosed, its only error
			conn.Close()
			return
		}
		if !n.spawn(func() { n.serveInbound(p) }) {
			n.handshakes.Done(p)
			conn.Close()
			return
		}
	}
}

// sleepCtx waits for d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
