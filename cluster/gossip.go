package cluster

// announceMember sends MemberUp about a joiner whose view of the cluster
// differed from ours to every other member, from a goroutine of its own
// so the handshake goes on.
func (n *Node) announceMember(m memberInfo) {
	n.mu.Lock()
	targets := make([]*link, 0, len(n.links))
	for alias, l := range n.links {
		if alias != m.Alias {
			targets = append(targets, l)
		}
	}
	n.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	n.spawn(func() {
		for _, l := range targets {
			select {
			case <-l.readyCh:
			case <-l.done:
				continue
			}
			if err := n.send(l, &memberUp{Member: m}); err != nil {
				n.dropLink(l, EventLinkClosed, err)
			}
		}
	})
}

// considerMember handles a MemberUp: if the member is still unknown after
// a heartbeat interval (its own Join usually arrives first), it dials it.
func (n *Node) considerMember(m memberInfo) {
	n.mu.Lock()
	skip := m.Alias == n.cfg.Alias || n.introducing[m.Alias] || !n.wantsLinkLocked(m)
	if !skip {
		n.introducing[m.Alias] = true
	}
	n.mu.Unlock()
	if skip {
		return
	}
	started := n.spawn(func() {
		defer func() {
			n.mu.Lock()
			delete(n.introducing, m.Alias)
			n.mu.Unlock()
		}()
		if !sleepCtx(n.ctx, n.cfg.HeartbeatInterval) {
			return
		}
		n.mu.Lock()
		wanted := n.state == stateRunning && n.wantsLinkLocked(m)
		n.mu.Unlock()
		if wanted {
			_ = n.joinMember(n.ctx, m, dialSpec{}) // failures: the member itself will dial us, or is gone
		}
	})
	if !started {
		n.mu.Lock()
		delete(n.introducing, m.Alias)
		n.mu.Unlock()
	}
}

// wantsLinkLocked reports whether m is a member we should link to: not
// linked, or linked to an older run of the same node. Caller holds mu.
func (n *Node) wantsLinkLocked(m memberInfo) bool {
	l := n.links[m.Alias]
	return l == nil || l.peer.NodeID == m.NodeID && l.peer.Incarnation < m.Incarnation
}
