package dist

import (
	"context"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// BenchmarkPingPong: round trips between a process of node a and an echo
// process of node b, two nodes in this process on loopback.
func BenchmarkPingPong(b *testing.B) {
	na, nb := startNode(b, "a", nil), startNode(b, "b", nil)
	join(b, na, nb)
	echo := assemble(b, "echo: recv $10 $11\n from $12\n send $12 $11\n jmp $0\n")
	he, err := nb.sched.Start(echo, proc.StartOptions{Name: "echo"})
	if err != nil {
		b.Fatal(err)
	}
	ping := assemble(b, `        recv $1 $2
        recv $1 $5
        load $4 #1
        inc $5
loop:   send $2 $4
        recv $6 $7
        inc $4
        neq $4 $5
        djmpe @loop
        hlt
`)
	mb := na.sched.Attach("driver")
	hp, err := na.sched.Start(ping, proc.StartOptions{Name: "ping"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	echoPID := pidOn(b, na, nb, he.PID())
	b.ResetTimer()
	mb.SendContext(ctx, hp.PID(), vm.Message{Kind: vm.MsgPID, Value: int32(echoPID)})
	mb.SendContext(ctx, hp.PID(), vm.Message{Kind: vm.MsgInt, Value: int32(b.N)})
	select {
	case <-hp.Done():
	case <-time.After(5 * time.Minute):
		b.Fatal("ping did not end")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "trips/s")
}

// BenchmarkStream: messages one way from a process of node a to a
// counter on node b.
func BenchmarkStream(b *testing.B) {
	na, nb := startNode(b, "a", nil), startNode(b, "b", nil)
	join(b, na, nb)
	counter := assemble(b, `        recv $1 $2
        from $9
        load $3 #1
next:   recv $4 $5
        inc $3
        lte $3 $2
        djmpe @next
        send $9 $3
        hlt
`)
	hc, err := nb.sched.Start(counter, proc.StartOptions{Name: "counter"})
	if err != nil {
		b.Fatal(err)
	}
	stream := assemble(b, `        recv $1 $2
        recv $1 $5
        send $2 $5
        load $4 #1
        inc $5
loop:   send $2 $4
        inc $4
        neq $4 $5
        djmpe @loop
        recv $6 $7
        hlt
`)
	mb := na.sched.Attach("driver")
	hs, err := na.sched.Start(stream, proc.StartOptions{Name: "stream"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	mb.SendContext(ctx, hs.PID(), vm.Message{Kind: vm.MsgPID, Value: int32(pidOn(b, na, nb, hc.PID()))})
	mb.SendContext(ctx, hs.PID(), vm.Message{Kind: vm.MsgInt, Value: int32(b.N)})
	select {
	case <-hs.Done():
	case <-time.After(5 * time.Minute):
		b.Fatal("stream did not end")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if st := nb.dist.Stats(); st.Received < uint64(b.N) {
		b.Errorf("b received %d of %d", st.Received, b.N)
	}
	_ = testkit.Eventually
}
