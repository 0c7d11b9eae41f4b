package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Leave leaves the cluster gracefully: it stops accepting peers, tells
// every member it leaves (they drop it at once and announce "left"), waits
// until they close their links (at most until ctx ends or WriteTimeout
// passes), and then closes the node like Close. The node cannot be started again; make a new one to rejoin.
func (n *Node) Leave(ctx context.Context) error {
	n.lifecycle.Lock()
	defer n.lifecycle.Unlock()
	ls := n.links
	ls.mu.Lock()
	switch ls.state {
	case stateNew:
		ls.mu.Unlock()
		return ErrNotRunning
	case stateClosed:
		ls.mu.Unlock()
		return ErrClosed
	}
	ls.state = stateLeaving
	n.joining.cancel() // no more background Joins
	links := make([]*link, 0, len(ls.byAlias))
	for _, l := range ls.byAlias {
		links = append(links, l)
	}
	ls.mu.Unlock()
	n.mu.Lock()
	ln := n.listener
	n.mu.Unlock()

	ln.Close()
	err := n.sayGoodbye(ctx, links)
	return errors.Join(err, n.closeLocked())
}

// sayGoodbye sends Leave on every link and waits for the peers to close,
// at most until ctx ends or WriteTimeout passes.
func (n *Node) sayGoodbye(ctx context.Context, links []*link) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.WriteTimeout)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, l := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.send(l, &leave{Reason: "leaving"}); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("tell %q we leave: %w", l.peer.Alias, err))
				mu.Unlock()
				return
			}
			select { // the peer closes the link once it has read Leave
			case <-l.done:
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
