package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// BenchmarkFullMesh measures how long a cluster takes from the first Join
// until every node links to every other, when nodes join one after
// another, each through the first node. Listeners are started beforehand
// and not timed.
func BenchmarkFullMesh(b *testing.B) {
	for _, size := range []int{3, 10, 50} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				nodes := make([]*Node, size)
				for i := range nodes {
					cfg := testConfig(fmt.Sprintf("n%02d", i))
					cfg.ProbeInterval = time.Second
					n, err := New(cfg)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := n.Start(context.Background()); err != nil {
						b.Fatal(err)
					}
					nodes[i] = n
				}
				seed := nodes[0].Members()[0]
				b.StartTimer()
				for _, n := range nodes[1:] {
					if _, err := n.Join(context.Background(), seed.Host, seed.Port); err != nil {
						b.Fatal(err)
					}
				}
				waitMesh(b, nodes)
				b.StopTimer()
				for _, n := range nodes {
					n.Close()
				}
				b.StartTimer()
			}
		})
	}
}

// waitMesh polls until every node has a link to every other one.
func waitMesh(b *testing.B, nodes []*Node) {
	testkit.Eventually(b, 30*time.Second, "full mesh", func() bool {
		for _, n := range nodes {
			if links, standby := linkCounts(n); links != len(nodes)-1 || standby != 0 {
				return false
			}
		}
		return true
	})
}
