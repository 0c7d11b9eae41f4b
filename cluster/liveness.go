package cluster

import (
	"fmt"
	"time"
)

// livenessLoop is the node's one heartbeat timer. Every HeartbeatInterval,
// on the clock's multiples of it (see untilNextTick), it looks at every
// link: a link silent for FailureTimeout is dropped as failed; a link that
// wrote nothing for an interval (a link busy with other frames needs no
// Ping) gets the pre-encoded Ping frame, written here at once when the
// link is idle (no hop to the link's writer), else queued. Pings that
// wait unread in a quiet link's socket count as heard (see quiet.go).
// Members go from alive to suspect and back here too.
//
// Silence is measured from the later of the last frame received and the
// end of the last pause of this node. A tick that comes later than
// pauseThreshold means this process did not run (a stopped process, a
// suspended machine, heavy CPU starvation); frames may sit unread in the
// socket meanwhile, so the peer is not blamed for that time. Smaller
// delays count as jitter, so a node that is merely slow still detects
// failures.
func (n *Node) livenessLoop() {
	interval := n.cfg.HeartbeatInterval
	pauseThreshold := max(2*interval, n.cfg.FailureTimeout/2)
	lastTick := time.Now()
	resumed := lastTick
	timer := time.NewTimer(untilNextTick(lastTick, interval))
	defer timer.Stop()
	var links []*link
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		timer.Reset(untilNextTick(now, interval))
		if now.Sub(lastTick) > pauseThreshold {
			resumed = now
		}
		lastTick = now
		links = n.links.appendAll(links[:0])
		for _, l := range links {
			if l.readerWaits.Load() {
				// The reader waits for a slow handler: the member's
				// frames wait unread through this node's doing.
				l.lastSeen.Store(now.UnixNano())
				continue
			}
			// A look at the waiting Pings every other tick is enough: a
			// link heard within an interval and a half is neither
			// suspect nor failed by this tick, and the look costs a
			// system call.
			if now.Sub(time.Unix(0, l.lastSeen.Load())) >= interval*3/2 && l.heardWaiting(n.pingFrame) {
				l.lastSeen.Store(now.UnixNano())
			}
		}
		n.judgeMembers(now)
		for _, l := range links {
			heard := time.Unix(0, l.lastSeen.Load())
			if now.Sub(later(heard, resumed)) > n.cfg.FailureTimeout {
				n.dropLink(l, EventFailed, fmt.Errorf("nothing heard for %v", n.cfg.FailureTimeout))
				continue
			}
			// A ping is due unless the link wrote within this interval,
			// less a little for timer jitter.
			if now.Sub(time.Unix(0, l.lastSent.Load())) >= interval*9/10 {
				n.sendPing(l)
			}
		}
	}
}

// judgeMembers moves members between alive and suspect by how recently
// they were heard.
func (n *Node) judgeMembers(now time.Time) {
	n.links.mu.Lock()
	defer n.links.mu.Unlock()
	for alias, l := range n.links.byAlias {
		to := StateAlive
		if now.Sub(time.Unix(0, l.lastSeen.Load())) > 2*n.cfg.HeartbeatInterval {
			to = StateSuspect
		}
		n.members.transition(alias, to, l.peer, 0, nil, true, time.Time{})
	}
}

// untilNextTick is the wait until the next multiple of interval on the
// wall clock. Ticking on the clock's multiples makes the nodes of one
// machine send their heartbeats at about the same moment, so that each
// process wakes once for a burst of Pings rather than once per Ping: on
// an idle mesh of real processes that wake-up is most of the cost.
func untilNextTick(now time.Time, interval time.Duration) time.Duration {
	return now.Truncate(interval).Add(interval).Sub(now)
}
