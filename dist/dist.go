// Package dist carries messages between the processes of cluster
// members, as Erlang's distribution does: it implements proc.Remote over
// a cluster node's application messages (cluster.Node.Send and Handle)
// and its membership events.
//
// Messages to one member go into that member's bounded outbox; one
// goroutine per member (its flusher) packs what has queued into frames of
// kind "dist.msg.v1", many messages a frame, and sends them in order. A
// PID crosses the wire as (node, serial), the node being the sender, the
// receiver or a NodeRef of the frame's table, and the receiver translates
// it into its own node slot (proc.Nodes), so a PID can be passed on to a
// third node. Monitors of remote processes, their down notices and kills
// travel in the same frames, in order with the messages.
//
// Dist also offers a generic request/answer between members (Ask,
// Request, HandleRequest): one bounded table of pending requests, each
// with a deadline, and answers given to one member at a bounded rate.
//
// docs/cluster.md, "Processes across the cluster", states the guarantees.
package dist

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/proc"
)

// Cluster is what dist needs of a cluster node; *cluster.Node is one.
type Cluster interface {
	Alias() string
	Members() []cluster.Member
	Send(ctx context.Context, to, kind string, payload []byte) error
	Handle(kind string, h cluster.MessageHandler)
	MaxMessageSize() int
}

// Defaults of Config.
const (
	// DefaultOutboxLimit is how many messages wait in the outbox toward
	// one member before senders wait for room.
	DefaultOutboxLimit = 8192
	// DefaultOutboxBytes is how many bytes of message data wait there
	// before senders wait.
	DefaultOutboxBytes = 4 << 20
	// DefaultMaxPending is the most requests (Ask) waiting for answers.
	DefaultMaxPending = 1024
	// DefaultRequestTimeout is the deadline of a request without one.
	DefaultRequestTimeout = 5 * time.Second
	// DefaultAnswerRate is how many requests a second one member gets
	// answered; DefaultAnswerBurst how many at once.
	DefaultAnswerRate  = 200
	DefaultAnswerBurst = 100
)

// Config sets up a Dist. Zero fields take their defaults.
type Config struct {
	Node  Cluster
	Sched *proc.Scheduler
	// OutboxLimit and OutboxBytes bound one member's outbox.
	OutboxLimit int
	OutboxBytes int
	// MaxPending bounds the requests waiting for answers.
	MaxPending int
	// AnswerRate and AnswerBurst bound the requests one member gets
	// answered: a token bucket per member.
	AnswerRate  float64
	AnswerBurst int
}

func (c *Config) fill() {
	if c.OutboxLimit <= 0 {
		c.OutboxLimit = DefaultOutboxLimit
	}
	if c.OutboxBytes <= 0 {
		c.OutboxBytes = DefaultOutboxBytes
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.AnswerRate <= 0 {
		c.AnswerRate = DefaultAnswerRate
	}
	if c.AnswerBurst <= 0 {
		c.AnswerBurst = DefaultAnswerBurst
	}
}

// Errors of requests and remote operations.
var (
	// ErrBusy: the table of pending requests is full.
	ErrBusy = errors.New("too many requests waiting for answers")
	// ErrTimeout: no answer came before the deadline.
	ErrTimeout = errors.New("no answer in time")
	// ErrNoConnection: the member is not linked, or its link broke or it
	// left before it answered.
	ErrNoConnection = errors.New("no connection to that member")
	// ErrUnsupported: the member does not know the frame kind (it runs
	// another version of Iridium).
	ErrUnsupported = errors.New("the member does not speak this version of distribution")
	// ErrRefused: the member answered with a refusal (its text follows).
	ErrRefused = errors.New("refused")
	// ErrClosed: the Dist was closed.
	ErrClosed = errors.New("distribution closed")
)

// Stats counts what Dist dropped or refused.
type Stats struct {
	Sent, Received  uint64 // messages (records) sent and received
	Frames          uint64 // frames sent
	DroppedNoNode   uint64 // messages to a node that is gone or unknown
	DroppedTooLarge uint64 // messages over the frame limit
	DroppedLinkDown uint64 // messages lost when a send to the member failed
	DroppedOwed     uint64 // down notices owed to a member whose outbox was full
	Refused         uint64 // frames from members refused as malformed
	Stale           uint64 // frames addressed to an earlier run of this node
	LastRefusal     string // the last refusal, sent or received
}

// Dist is the distribution layer of one cluster node. Its methods are
// safe for concurrent use.
type Dist struct {
	cfg   Config
	node  Cluster
	sched *proc.Scheduler
	nodes *proc.Nodes
	alias string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	self atomic.Uint64 // this node's incarnation, once known

	mu       sync.Mutex
	outboxes map[string]*outbox // by member alias
	members  map[string]uint64  // alias -> incarnation of the members seen linked
	monitors map[monitorKey]int // remote monitors held by local processes
	buckets  map[string]*bucket // answer rate per member
	closed   bool

	req requests

	dirtyMu sync.Mutex
	dirty   []*outbox // outboxes with records that Flush has not sent

	handlersMu sync.RWMutex
	answerers  map[string]Answerer

	stats struct {
		sent, received, frames, noNode, tooLarge, linkDown, owed, refused, stale atomic.Uint64
		mu                                                                       sync.Mutex
		last                                                                     string
	}
}

// monitorKey is one remote monitor: a local watcher of a remote target.
type monitorKey struct{ watcher, target proc.PID }

// New makes the distribution layer of cfg.Node for cfg.Sched, registers
// its frame handlers with the node (call it before the node starts) and
// makes itself the scheduler's Remote. Close stops it.
func New(cfg Config) *Dist {
	cfg.fill()
	d := &Dist{
		cfg: cfg, node: cfg.Node, sched: cfg.Sched, nodes: cfg.Sched.Nodes(), alias: cfg.Node.Alias(),
		outboxes: make(map[string]*outbox), members: make(map[string]uint64),
		monitors: make(map[monitorKey]int), buckets: make(map[string]*bucket),
		answerers: make(map[string]Answerer),
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.req.init(cfg.MaxPending)
	d.registerHandlers()
	d.registerBuiltins()
	cfg.Sched.SetRemote(d)
	return d
}

// Close stops the flushers, fails the pending requests and sends the
// reason-3 down notices of every remote monitor; the scheduler has no
// Remote afterwards.
func (d *Dist) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	boxes := d.outboxes
	d.outboxes = map[string]*outbox{}
	d.mu.Unlock()
	d.sched.DropRemote(d)
	d.cancel()
	for _, b := range boxes {
		b.stop()
	}
	d.wg.Wait()
	d.req.failAll(ErrClosed)
	d.downAll(func(proc.PID) bool { return true })
}

// Stats returns the counts so far.
func (d *Dist) Stats() Stats {
	s := Stats{
		Sent: d.stats.sent.Load(), Received: d.stats.received.Load(), Frames: d.stats.frames.Load(),
		DroppedNoNode: d.stats.noNode.Load(), DroppedTooLarge: d.stats.tooLarge.Load(),
		DroppedLinkDown: d.stats.linkDown.Load(), DroppedOwed: d.stats.owed.Load(), Refused: d.stats.refused.Load(), Stale: d.stats.stale.Load(),
	}
	d.stats.mu.Lock()
	s.LastRefusal = d.stats.last
	d.stats.mu.Unlock()
	return s
}

func (d *Dist) noteRefusal(text string) {
	d.stats.mu.Lock()
	d.stats.last = text
	d.stats.mu.Unlock()
}

// Self returns this node's NodeRef.
func (d *Dist) Self() proc.NodeRef {
	return proc.NodeRef{Alias: d.alias, Incarnation: d.selfIncarnation()}
}

// selfIncarnation returns this node's incarnation, read from the member
// list once it is known.
func (d *Dist) selfIncarnation() uint64 {
	if inc := d.self.Load(); inc != 0 {
		return inc
	}
	for _, m := range d.node.Members() {
		if m.Local {
			d.self.Store(m.Incarnation)
			return m.Incarnation
		}
	}
	return 0
}
