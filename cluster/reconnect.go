package cluster

import (
	"context"
	"errors"
	"time"
)

// Backoff between reconnection attempts: it starts at the heartbeat
// probe interval and doubles up to maxRedialBackoff.
const maxRedialBackoff = 5 * time.Second

// startReconnect redials a member whose link failed, with exponential
// backoff, for Config.ReconnectFor, unless it is back or being redialed.
func (n *Node) startReconnect(m memberInfo) {
	if n.cfg.ReconnectFor < 0 {
		return
	}
	if !n.gossip.startRedial(m.Alias) {
		return
	}
	if !n.spawn(func() { n.redial(m) }) {
		n.gossip.endRedial(m.Alias)
	}
}

func (n *Node) redial(m memberInfo) {
	defer func() {
		ls := n.links
		ls.mu.Lock()
		n.gossip.endRedial(m.Alias)
		if ls.state == stateRunning && ls.byAlias[m.Alias] == nil {
			n.members.transition(m.Alias, 0, m, EventDropped, nil, false, time.Time{})
		}
		ls.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.ReconnectFor)
	defer cancel()
	backoff := n.cfg.ProbeInterval
	for {
		if !sleepCtx(ctx, backoff) || n.links.get(m.Alias) != nil {
			return
		}
		backoff = min(2*backoff, maxRedialBackoff)
		// The member is redialed at its address however many others
		// claim that address: only a handshake there says whose it is.
		// One that answers as another alias (errWrongAlias) proves the
		// address is not this member's (it published another's, or the
		// address changed hands): it is not redialed there again.
		err := n.redialOnce(ctx, m)
		if err == nil || errors.Is(err, errAlreadyConnected) || errors.Is(err, errWrongAlias) ||
			errors.Is(err, ErrDuplicateAlias) || errors.Is(err, ErrClosed) {
			return
		}
	}
}

// redialOnce makes one Join attempt to m.
func (n *Node) redialOnce(ctx context.Context, m memberInfo) error {
	if n.links.currentState() != stateRunning {
		return ErrClosed
	}
	return n.joinMember(ctx, m, dialSpec{redial: true})
}
