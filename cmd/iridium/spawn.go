package main

import (
	"context"
	"fmt"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/dist"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// onOff is a flag that reads "on" or "off" (or true/false, 1/0).
type onOff bool

func (v *onOff) String() string {
	if v != nil && *v {
		return "on"
	}
	return "off"
}

func (v *onOff) Set(s string) error {
	switch s {
	case "on", "true", "1":
		*v = true
	case "off", "false", "0":
		*v = false
	default:
		return fmt.Errorf("%q: want on or off", s)
	}
	return nil
}

// newSpawnService makes the node's remote spawn service on its job table,
// carried by the REPL's cluster node. It is wired to the node as the node
// is made (see clusterNode.get): its handlers registered, its events fanned
// out to it.
func newSpawnService(o *options, table *jobs.Table, node *clusterNode, heap *vm.HeapBudget) *jobs.Service {
	svc := jobs.NewService(jobs.ServiceConfig{
		Table:         table,
		Transport:     spawnTransport{node},
		RemoteSpawn:   bool(o.remoteSpawn),
		MaxRemoteJobs: o.maxRemoteJobs,
		// What one member may take of this node (limits.go).
		MaxRemoteJobsPerMember: o.limits.maxRemoteJobsPerMember,
		RemoteJobTimeLimit:     o.limits.remoteJobTimeLimit,
		VM:                     vm.Config{StackLimit: o.stackLimit, HeapLimit: o.heapLimit, HeapBudget: heap},
		Report:                 func(msg string) { node.notify(plainNotice(msg)) },
		SelfRun: func() uint64 {
			if d := node.Dist(); d != nil {
				return d.Self().Incarnation
			}
			return 0
		},
		ImportPID: func(alias string, run uint64, serial uint32) proc.PID {
			if d := node.Dist(); d != nil {
				return d.ImportPID(dist.WirePID{Alias: alias, Incarnation: run, Serial: serial})
			}
			return 0
		},
	})
	node.spawn = svc
	return svc
}

// registerSpawn registers the service's message handlers with a new node,
// before it starts, and the one handler of a member's KindUnknown answer:
// to the distribution layer (distOf) for its kinds, else to the service.
func registerSpawn(svc *jobs.Service, node *cluster.Node, distOf func() *dist.Dist) {
	if svc != nil {
		for _, kind := range jobs.Kinds() {
			node.Handle(kind, func(from string, payload []byte) { svc.Receive(from, kind, payload) })
		}
	}
	node.Handle(cluster.KindUnknown, func(from string, payload []byte) {
		if d := distOf(); d != nil && d.Unknown(from, string(payload)) {
			return
		}
		if svc != nil {
			svc.Unknown(from, string(payload))
		}
	})
}

// spawnEvent tells the service of a member that is gone, so that the jobs
// it ran for this node are lost and those this node ran for it stop.
func spawnEvent(svc *jobs.Service, e cluster.Event) {
	if svc == nil {
		return
	}
	switch e.Kind {
	case cluster.EventFailed:
		svc.MemberGone(e.Member.Alias, "failed")
	case cluster.EventLeft:
		svc.MemberGone(e.Member.Alias, "left the cluster")
	case cluster.EventLinkClosed:
		svc.MemberGone(e.Member.Alias, "closed its link")
	case cluster.EventRejoined:
		svc.MemberGone(e.Member.Alias, "restarted")
	}
}

// spawnTransport is jobs.Transport over the REPL's cluster node, which
// may not exist yet, or be made anew after a leave.
type spawnTransport struct{ c *clusterNode }

func (t spawnTransport) running() *cluster.Node {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.c.node == nil || !t.c.node.Running() {
		return nil
	}
	return t.c.node
}

func (t spawnTransport) Self() string {
	if node := t.running(); node != nil {
		return node.Alias()
	}
	return ""
}

func (t spawnTransport) Members() []string {
	node := t.running()
	if node == nil {
		return nil
	}
	var out []string
	for _, m := range node.Members() {
		// A failed member stays listed while it is redialed; it is
		// not reachable.
		if m.State == cluster.StateAlive || m.State == cluster.StateSuspect {
			out = append(out, m.Alias)
		}
	}
	return out
}

func (t spawnTransport) Send(ctx context.Context, to, kind string, payload []byte) error {
	node := t.running()
	if node == nil {
		return cluster.ErrNotRunning
	}
	return node.Send(ctx, to, kind, payload)
}

func (t spawnTransport) MaxMessageSize() int {
	if node := t.running(); node != nil {
		return node.MaxMessageSize()
	}
	return 0
}
