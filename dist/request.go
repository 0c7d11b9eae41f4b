package dist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/proc"
)

// Answerer answers a request of its kind from the member from (an
// authenticated alias) with the answer's body, or an error whose text the
// asker gets as a refusal (ErrRefused). body is untrusted: check it. It
// runs on the goroutine that delivers from's frames: keep it short.
type Answerer func(from string, body []byte) ([]byte, error)

// Limits of requests.
const (
	// MaxRequestKind is the longest request kind, in bytes.
	MaxRequestKind = 64
	// MaxRequestBody is the most bytes a request's or an answer's body
	// holds.
	MaxRequestBody = 256 << 10
	// maxRefusalText bounds the text of a refusal on the wire.
	maxRefusalText = 512
)

// HandleRequest makes a answer the requests of kind (a short name such as
// "names.whereis.v1"; see MaxRequestKind). A nil a removes it. A request
// of a kind without an Answerer is refused.
func (d *Dist) HandleRequest(kind string, a Answerer) {
	d.handlersMu.Lock()
	defer d.handlersMu.Unlock()
	if a == nil {
		delete(d.answerers, kind)
		return
	}
	d.answerers[kind] = a
}

func (d *Dist) answerer(kind string) Answerer {
	d.handlersMu.RLock()
	defer d.handlersMu.RUnlock()
	return d.answerers[kind]
}

// Ask sends a request of kind with body to the member alias and arranges
// for done to be called once, from any goroutine and perhaps before Ask
// returns, with the answer's body or an error: ErrTimeout after timeout
// (DefaultRequestTimeout if 0), ErrNoConnection when the member is not
// linked or goes, ErrRefused (wrapped with the member's text),
// ErrUnsupported, or that too much waits to go to the member. Ask never waits:
// it may be called on a scheduler thread. An error from Ask itself
// (ErrBusy when MaxPending requests wait, a bad kind or body, ErrClosed)
// means done will not be called.
func (d *Dist) Ask(alias, kind string, body []byte, timeout time.Duration, done func(answer []byte, err error)) error {
	if len(kind) == 0 || len(kind) > MaxRequestKind {
		return fmt.Errorf("request kind %q: 1 to %d bytes", termtext.Cut(kind, 80), MaxRequestKind)
	}
	if len(body) > MaxRequestBody {
		return fmt.Errorf("request %s: %d bytes, the limit is %d", kind, len(body), MaxRequestBody)
	}
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	box, err := d.outboxFor(alias)
	if err != nil {
		return err
	}
	id, err := d.req.add(alias, timeout, done)
	if err != nil {
		return err
	}
	payload := encodeFrame(&reqFrame{ID: id, Kind: kind, Body: body})
	if err := box.control(kindReq, payload); err != nil {
		d.req.finish(id, nil, fmt.Errorf("ask %s of %q: %w", kind, alias, err))
	}
	return nil
}

// Request is Ask that waits for the answer, until ctx is done; ctx's
// deadline, if sooner than DefaultRequestTimeout, is the request's.
func (d *Dist) Request(ctx context.Context, alias, kind string, body []byte) ([]byte, error) {
	timeout := DefaultRequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(dl), time.Millisecond))
	}
	type result struct {
		body []byte
		err  error
	}
	ch := make(chan result, 1)
	if err := d.Ask(alias, kind, body, timeout, func(b []byte, err error) { ch <- result{b, err} }); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.body, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// WirePID is a PID as it crosses the wire in a request or answer: the
// node run it belongs to (Alias "" is this node) and its serial.
type WirePID struct {
	Alias       string `codec:"alias"`
	Incarnation uint64 `codec:"inc"`
	Serial      uint32 `codec:"serial"`
}

// ExportPID returns pid as it crosses the wire: its node named by alias
// and incarnation. PID 0, or one of an unknown slot, is the zero WirePID.
func (d *Dist) ExportPID(pid proc.PID) WirePID {
	if pid == 0 {
		return WirePID{}
	}
	if pid.Node() == 0 {
		self := d.Self()
		return WirePID{Alias: self.Alias, Incarnation: self.Incarnation, Serial: pid.Serial()}
	}
	ref, _, ok := d.nodes.Ref(pid.Node())
	if !ok {
		return WirePID{}
	}
	return WirePID{Alias: ref.Alias, Incarnation: ref.Incarnation, Serial: pid.Serial()}
}

// ImportPID returns the PID of this node that w names: of this node, or
// in the slot of its node's run. It is 0 for the zero WirePID, a bad
// serial, or a run this node does not know as a member (so a member
// cannot fill the slot table with runs that do not exist).
func (d *Dist) ImportPID(w WirePID) proc.PID {
	if w.Serial == 0 || w.Alias == "" {
		return 0
	}
	ref := proc.NodeRef{Alias: w.Alias, Incarnation: w.Incarnation}
	if ref == d.Self() {
		return proc.MakePID(0, w.Serial)
	}
	slot := d.slotOf(ref)
	if slot == 0 {
		return 0
	}
	return proc.MakePID(slot, w.Serial)
}

// requests is the table of requests waiting for answers.
type requests struct {
	mu      sync.Mutex
	max     int
	next    uint64
	pending map[uint64]*pendingReq
}

type pendingReq struct {
	alias string
	done  func([]byte, error)
	timer *time.Timer
}

func (r *requests) init(max int) {
	r.max, r.pending = max, make(map[uint64]*pendingReq)
}

// add enters a request to alias; its timer fails it after timeout.
func (r *requests) add(alias string, timeout time.Duration, done func([]byte, error)) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		return 0, ErrClosed
	}
	if len(r.pending) >= r.max {
		return 0, fmt.Errorf("ask %q: %w (%d)", alias, ErrBusy, r.max)
	}
	r.next++
	id := r.next
	p := &pendingReq{alias: alias, done: done}
	p.timer = time.AfterFunc(timeout, func() {
		r.finish(id, nil, fmt.Errorf("ask %q: %w (%v)", alias, ErrTimeout, timeout))
	})
	r.pending[id] = p
	return id, nil
}

// finish calls the done of request id, if it still waits, with the
// answer or err.
func (r *requests) finish(id uint64, body []byte, err error) {
	r.mu.Lock()
	p := r.pending[id]
	delete(r.pending, id)
	r.mu.Unlock()
	if p == nil {
		return
	}
	p.timer.Stop()
	p.done(body, err)
}

// answered finishes request id with an answer from alias; an answer from
// another member than asked is ignored.
func (r *requests) answered(alias string, id uint64, body []byte, err error) {
	r.mu.Lock()
	p := r.pending[id]
	r.mu.Unlock()
	if p == nil || p.alias != alias {
		return
	}
	r.finish(id, body, err)
}

// failMember fails every request to alias with err.
func (r *requests) failMember(alias string, err error) {
	r.failWhere(func(p *pendingReq) bool { return p.alias == alias }, err)
}

// failAll fails every request with err; no request is entered after it.
func (r *requests) failAll(err error) {
	r.failWhere(func(*pendingReq) bool { return true }, err)
	r.mu.Lock()
	r.pending = nil
	r.mu.Unlock()
}

func (r *requests) failWhere(match func(*pendingReq) bool, err error) {
	r.mu.Lock()
	var ids []uint64
	for id, p := range r.pending {
		if match(p) {
			ids = append(ids, id)
		}
	}
	r.mu.Unlock()
	for _, id := range ids {
		r.finish(id, nil, err)
	}
}

// bucket is a token bucket: the requests one member gets answered.
type bucket struct {
	tokens float64
	last   time.Time
}

// allowAnswer reports whether a request from alias may be answered now.
func (d *Dist) allowAnswer(alias string) bool {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.buckets[alias]
	if b == nil {
		b = &bucket{tokens: float64(d.cfg.AnswerBurst), last: now}
		d.buckets[alias] = b
	}
	b.tokens = min(float64(d.cfg.AnswerBurst), b.tokens+now.Sub(b.last).Seconds()*d.cfg.AnswerRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refusalError turns an answer's refusal text into an error.
func refusalError(alias, text string) error {
	if text == "" {
		return nil
	}
	return fmt.Errorf("%q: %w: %s", alias, ErrRefused, text)
}

// errText is err's text, cut for the wire.
func errText(err error) string {
	return termtext.Cut(err.Error(), maxRefusalText)
}

var errRateLimited = errors.New("rate limited: too many requests from this member, try again later")
