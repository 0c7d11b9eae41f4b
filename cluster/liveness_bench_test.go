package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/cputime"
)

// BenchmarkIdleProbe measures the CPU an idle mesh spends per probe:
// both ends' work for one Ping and its Ack (the probe timer, the writes,
// the wake-ups and reads of both). Ten in-process nodes (each probing one
// member per interval) idle with a 20 ms probe interval for as many
// probes as b.N; cpu-µs/probe is the process's CPU time over that span
// divided by the probes sent. ns/op is wall time per probe, which says
// nothing of cost.
func BenchmarkIdleProbe(b *testing.B) {
	const size, interval = 10, 20 * time.Millisecond
	nodes := make([]*Node, size)
	for i := range nodes {
		cfg := Config{
			Alias: fmt.Sprintf("n%02d", i), Cookie: testCookie, CookieKey: keyFor(testCookie),
			BindHost: "127.0.0.1", BindPort: 0, ReconnectFor: -1,
			ProbeInterval: interval, ProbeTimeout: 50 * interval, SuspicionMult: 100,
		}
		n, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := n.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		nodes[i] = n
	}
	seed := nodes[0].Members()[0]
	for _, n := range nodes[1:] {
		if _, err := n.Join(context.Background(), seed.Host, seed.Port); err != nil {
			b.Fatal(err)
		}
	}
	waitMesh(b, nodes)
	time.Sleep(5 * interval) // let the joins' own traffic settle
	b.ResetTimer()
	before := cputime.Process()
	time.Sleep(time.Duration(b.N) * interval / size)
	used := cputime.Process() - before
	b.StopTimer()
	b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/probe")
}

// BenchmarkDeriveCookieKey measures the argon2id stretch of a cookie: what
// New pays once, and what each offline guess at a recorded handshake
// costs.
func BenchmarkDeriveCookieKey(b *testing.B) {
	for b.Loop() {
		DeriveCookieKey([]byte("a cookie of thirty-two bytes....."))
	}
}
