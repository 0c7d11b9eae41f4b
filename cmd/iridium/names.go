package main

import (
	"context"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/proc"
)

// namesShell is repl.NameFinder over the name service of the cluster
// node, which is made anew with each node.
type namesShell struct{ c *clusterNode }

func (n namesShell) Whereis(ctx context.Context, alias, name string) (proc.PID, error) {
	sv := n.c.names.Load()
	if sv == nil {
		return 0, cluster.ErrNotRunning
	}
	return sv.Whereis(ctx, alias, name)
}

func (n namesShell) Registered(ctx context.Context, alias string) ([]proc.Name, int, error) {
	sv := n.c.names.Load()
	if sv == nil {
		return nil, 0, cluster.ErrNotRunning
	}
	return sv.Registered(ctx, alias)
}
