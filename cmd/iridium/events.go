package main

import (
	"fmt"
	"sync"
)

// eventQueueSize is how many messages an asynchronous subscriber may fall
// behind before messages to it are dropped (and counted).
const eventQueueSize = 64

// eventHub passes the node's messages (cluster events, for one) to every
// open shell and to the daemon's log. Publishing never waits for a remote
// session: each has a bounded queue of its own, so that a client that
// does not read cannot hold up the cluster or the other sessions.
type eventHub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// subscriber is one receiver of the hub's messages.
type subscriber struct {
	deliver func(string)
	queue   chan string // nil: delivered by publish itself
	done    chan struct{}

	mu      sync.Mutex
	dropped int
}

func newEventHub() *eventHub {
	return &eventHub{subs: make(map[*subscriber]struct{})}
}

// subscribe makes deliver receive every message published until the
// returned function is called. A synchronous subscriber is called by
// publish itself, in order with the publisher's own output (the node's own
// terminal, as before there were sessions); an asynchronous one from a
// goroutine of its own. The returned function delivers what is queued,
// then stops.
func (h *eventHub) subscribe(deliver func(string), async bool) (unsubscribe func()) {
	sub := &subscriber{deliver: deliver}
	if async {
		sub.queue = make(chan string, eventQueueSize)
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

// publish passes msg to every subscriber.
func (h *eventHub) publish(msg string) {
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
			s.deliver(fmt.Sprintf("(%d messages were dropped while this session did not read)", dropped))
		}
		s.deliver(msg)
	}
}
