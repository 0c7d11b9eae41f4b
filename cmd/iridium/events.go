package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/termtext"
)

// notice is one message of the node for its shells and its log. Text
// from outside in it (a peer's alias, an error that quotes a peer) is
// raw: each place that shows it escapes it there, a shell with its
// Notify (internal/termtext), the daemon's log with slog's quoting.
type notice struct {
	text  string      // the line a shell shows
	level slog.Level  // for the log
	msg   string      // for the log: the node's own words, no outside text
	attrs []slog.Attr // for the log: what it is about
	// key, if set, names what the notice is about (an event's kind and
	// member): repeats of one key are folded (fold.go).
	key string
}

// log writes the notice to logger: the node's words and the attributes,
// which the handler quotes (see newLogger).
func (n notice) log(ctx context.Context, logger *slog.Logger) {
	logger.LogAttrs(ctx, n.level, n.msg, n.attrs...)
}

// plainNotice is a notice that is one line of text, logged as it is.
func plainNotice(text string) notice {
	return notice{text: text, level: slog.LevelInfo, msg: text}
}

// eventQueueSize is how many messages an asynchronous subscriber may fall
// behind before messages to it are dropped (and counted).
const eventQueueSize = 64

// eventHub passes the node's messages (cluster events, for one) to every
// open shell and to the daemon's log. Publishing never waits for a remote
// session: each has a bounded queue of its own, so that a client that
// does not read cannot hold up the cluster or the other sessions.
type eventHub struct {
	folder *repeatFolder // folds repeated notices before they are sent

	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// subscriber is one receiver of the hub's messages.
type subscriber struct {
	deliver func(notice)
	queue   chan notice // nil: delivered by publish itself
	done    chan struct{}

	mu      sync.Mutex
	dropped int
}

func newEventHub() *eventHub {
	h := &eventHub{subs: make(map[*subscriber]struct{})}
	h.folder = newRepeatFolder(h.send)
	return h
}

// close stops the hub's timers (those of folded notices).
func (h *eventHub) close() { h.folder.close() }

// subscribe makes deliver receive every message published until the
// returned function is called. A synchronous subscriber is called by
// publish itself, in order with the publisher's own output (the node's own
// terminal, as before there were sessions); an asynchronous one from a
// goroutine of its own. The returned function delivers what is queued,
// then stops.
func (h *eventHub) subscribe(deliver func(notice), async bool) (unsubscribe func()) {
	sub := &subscriber{deliver: deliver}
	if async {
		sub.queue = make(chan notice, eventQueueSize)
		sub.done = make(chan struct{})
		go sub.run()
	}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, sub)
			h.mu.Unlock()
			if sub.queue != nil {
				close(sub.queue)
				<-sub.done
			}
		})
	}
}

// publish passes msg to every subscriber, unless it repeats a notice
// shown often in the last second: it is then counted and shown folded.
func (h *eventHub) publish(msg notice) { h.folder.pass(msg) }

// send passes msg to every subscriber.
func (h *eventHub) send(msg notice) {
	h.mu.Lock()
	subs := make([]*subscriber, 0, len(h.subs))
	for sub := range h.subs {
		if sub.queue == nil {
			subs = append(subs, sub)
			continue
		}
		select {
		case sub.queue <- msg: // under h.mu, so never after close
		default:
			sub.mu.Lock()
			sub.dropped++
			sub.mu.Unlock()
		}
	}
	h.mu.Unlock()
	for _, sub := range subs {
		sub.deliver(msg)
	}
}

func (s *subscriber) run() {
	defer close(s.done)
	for msg := range s.queue {
		s.mu.Lock()
		dropped := s.dropped
		s.dropped = 0
		s.mu.Unlock()
		if dropped > 0 {
			s.deliver(notice{text: fmt.Sprintf("(%d messages were dropped while this session did not read)", dropped),
				level: slog.LevelWarn, msg: "messages dropped while a session did not read", attrs: []slog.Attr{slog.Int("dropped", dropped)}})
		}
		s.deliver(msg)
	}
}

// Bounds, in bytes, of what an event notice repeats of an event's text;
// cluster validation keeps them smaller, and a shell or log escapes them.
const (
	maxEventField = 256  // an alias, address or node ID
	maxEventError = 2048 // an error's text
)

// eventNotice is the notice of a cluster event. A shell shows it as a
// line such as `cluster: "n2" (10.0.0.2:4000) failed: ...`; the log gets
// the event's fields as attributes (alias, addr, node_id, err), raw, for
// slog to quote.
func eventNotice(e cluster.Event) notice {
	n := notice{level: slog.LevelInfo}
	switch e.Kind {
	case cluster.EventFailed, cluster.EventLinkClosed, cluster.EventRefused, cluster.EventDropped:
		n.level = slog.LevelWarn
	}
	errText := ""
	if e.Err != nil {
		errText = termtext.Cut(e.Err.Error(), maxEventError)
	}
	if e.Kind == cluster.EventJoinProgress || e.Kind == cluster.EventJoinDone {
		return joinNotice(e)
	}
	if summary, ok := e.Err.(*cluster.RefusalSummary); ok {
		n.text = "cluster: " + errText
		n.msg = "cluster: connections refused"
		n.attrs = []slog.Attr{slog.Int("count", summary.Count), slog.String("summary", errText)}
		return n
	}
	// Repeats are told apart by kind and member, not by port: a peer
	// that connects again and again does so from new ports.
	n.key = e.Kind.String() + "\x00" + e.Member.Alias + "\x00" + e.Member.Host
	alias := termtext.Cut(e.Member.Alias, maxEventField)
	addr := termtext.Cut(e.Member.Addr(), maxEventField)
	who := addr
	if alias != "" {
		who = `"` + alias + `" (` + addr + ")"
	}
	n.text = "cluster: " + who + " " + e.Kind.String()
	n.msg = "cluster: member " + e.Kind.String()
	if alias != "" {
		n.attrs = append(n.attrs, slog.String("alias", alias))
	}
	n.attrs = append(n.attrs, slog.String("addr", addr))
	if e.Member.NodeID != "" {
		n.attrs = append(n.attrs, slog.String("node_id", termtext.Cut(e.Member.NodeID, maxEventField)))
	}
	if e.Err != nil {
		n.text += ": " + errText
		n.attrs = append(n.attrs, slog.String("err", errText))
	}
	return n
}

// joinNotice is the notice of the background linking after a join: a
// line such as `cluster: joined through "n1": linked to 37 of 254
// members`, and at the end the members that could not be reached, the
// first few by name.
func joinNotice(e cluster.Event) notice {
	p := e.Join
	through := termtext.Cut(p.Through, maxEventField)
	n := notice{level: slog.LevelInfo, msg: "cluster: linking to the members of the cluster joined"}
	n.text = fmt.Sprintf(`cluster: joined through "%s": linked to %d of %d members`, through, p.Linked, p.Total)
	n.attrs = []slog.Attr{slog.String("through", through), slog.Int("linked", p.Linked), slog.Int("total", p.Total)}
	if e.Kind != cluster.EventJoinDone {
		return n
	}
	n.msg = "cluster: linked to the members of the cluster joined"
	if p.Unreachable == 0 {
		return n
	}
	n.level = slog.LevelWarn
	names := make([]string, len(p.UnreachableNames))
	for i, name := range p.UnreachableNames {
		names[i] = termtext.Cut(name, maxEventField)
	}
	list := strings.Join(names, ", ")
	if more := p.Unreachable - len(names); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	n.text += fmt.Sprintf("; %d unreachable: %s", p.Unreachable, list)
	n.attrs = append(n.attrs, slog.Int("unreachable", p.Unreachable), slog.String("unreachable_names", strings.Join(names, ", ")))
	return n
}
