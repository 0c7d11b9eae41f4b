package dist

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// startBare starts a cluster node without Dist, as a hostile or older
// member would be, joined to a; refusals collects the dist.refused.v1
// frames it gets, unknown the kinds a answered as unknown.
func startBare(t *testing.T, alias string, a *testNode) (n *cluster.Node, refusals, unknown *testkit.List[string]) {
	t.Helper()
	cfg := cluster.DefaultConfig()
	cfg.Alias, cfg.Cookie, cfg.CookieKey = alias, testCookie, testKey()
	cfg.BindHost, cfg.BindPort = "127.0.0.1", 0
	n, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	refusals, unknown = &testkit.List[string]{}, &testkit.List[string]{}
	n.Handle(cluster.KindUnknown, func(_ string, payload []byte) { unknown.Add(string(payload)) })
	n.Handle(kindRefused, func(_ string, payload []byte) {
		var f refusedFrame
		if err := frameCodec.Decode(payload, &f); err == nil {
			refusals.Add(f.Kind + ": " + f.Reason)
		}
	})
	t.Cleanup(func() { n.Close() })
	host, port := splitAddr(t, a.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Join(ctx, host, port); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "a sees "+alias, func() bool { return a.dist.SlotOfMember(alias) != 0 })
	return n, refusals, unknown
}

func incarnationOf(t *testing.T, n *cluster.Node, alias string) uint64 {
	t.Helper()
	for _, m := range n.Members() {
		if m.Alias == alias {
			return m.Incarnation
		}
	}
	t.Fatalf("no member %q", alias)
	return 0
}

// frameTo packs n integer messages for the process serial of the member
// to, from the sender's process 1, as a dist.msg.v1 payload.
func frameTo(toInc, fromInc uint64, serial uint32, n int) []byte {
	f := msgFrame{To: toInc, From: fromInc}
	for i := range n {
		f.Recs = append(f.Recs, opMsg)
		f.Recs = binary.AppendUvarint(f.Recs, uint64(serial))
		f.Recs = binary.AppendUvarint(f.Recs, refSender<<serialBits|1)
		f.Recs = append(f.Recs, byte(vm.MsgInt))
		f.Recs = binary.AppendVarint(f.Recs, int64(i))
		f.N++
	}
	return encodeFrame(&f)
}

// A member that sends malformed dist frames gets a refusal that says
// what was wrong, and a's Dist carries on: a good frame after them is
// delivered. A frame of an unknown version is answered as unknown by the
// cluster layer, and a request to a member without Dist fails as
// unsupported, not by a time-out.
func TestHostileFramesAreRefused(t *testing.T) {
	a := startNode(t, "a", nil)
	evil, refusals, unknown := startBare(t, "evil", a)
	mb := a.sched.Attach("target")
	aInc, evilInc := incarnationOf(t, evil, "a"), incarnationOf(t, evil, "evil")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bad := map[string][]byte{
		"not msgpack":             []byte("\xc1\xc1\xc1"),
		"records cut short":       encodeFrame(&msgFrame{To: aInc, From: evilInc, N: 1, Recs: []byte{opMsg, 5}}),
		"unknown op":              encodeFrame(&msgFrame{To: aInc, From: evilInc, N: 1, Recs: []byte{99, 1, 1}}),
		"more records than bytes": encodeFrame(&msgFrame{To: aInc, From: evilInc, N: 1 << 30, Recs: []byte{1}}),
		"PID of no node":          encodeFrame(&msgFrame{To: aInc, From: evilInc, N: 1, Recs: []byte{opMsg, 1, 0x80, 0x80, 0x80, 0x50, 0, 0}}),
		"stray bytes":             append(frameTo(aInc, evilInc, mb.PID().Serial(), 1)[:0:0], encodeFrame(&msgFrame{To: aInc, From: evilInc, N: 0, Recs: []byte{1, 2}})...),
		"bytes past the end": encodeFrame(&msgFrame{To: aInc, From: evilInc, N: 1,
			Recs: []byte{opMsg, 1, 0, byte(vm.MsgBytes), 0xff, 0x7f}}),
		"table alias with a space": encodeFrame(&msgFrame{To: aInc, From: evilInc, Nodes: []wireNode{{Alias: "a b", Inc: 1}}}),
	}
	for name, payload := range bad {
		if err := evil.Send(ctx, "a", kindMsg, payload); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	testkit.Eventually(t, 10*time.Second, "a refusal for every bad frame", func() bool { return len(refusals.All()) == len(bad) })
	for _, r := range refusals.All() {
		if !strings.Contains(r, "malformed dist frame") {
			t.Errorf("refusal %q does not say the frame was malformed", r)
		}
	}
	if got := a.dist.Stats().Refused; got != uint64(len(bad)) {
		t.Errorf("Stats().Refused = %d, want %d", got, len(bad))
	}
	// A good frame still gets through.
	if err := evil.Send(ctx, "a", kindMsg, frameTo(aInc, evilInc, mb.PID().Serial(), 3)); err != nil {
		t.Fatal(err)
	}
	takeN(t, mb, 3, 10*time.Second)
	// A frame for an earlier run of a is dropped as stale.
	if err := evil.Send(ctx, "a", kindMsg, frameTo(aInc-1, evilInc, mb.PID().Serial(), 1)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the stale frame counted", func() bool { return a.dist.Stats().Stale == 1 })
	if got := mb.Take(); len(got) != 0 {
		t.Errorf("a frame for an earlier run delivered %v", got)
	}
	// A frame of a version a does not speak is answered as unknown.
	if err := evil.Send(ctx, "a", "dist.msg.v9", []byte{0x80}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "a answers dist.msg.v9 as unknown", func() bool {
		got := unknown.All()
		return len(got) == 1 && got[0] == "dist.msg.v9"
	})
	// evil has no Dist: a's request fails as unsupported.
	_, err := a.dist.Request(ctx, "evil", reqPS, nil)
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("a request to a member without Dist: %v, want ErrUnsupported", err)
	}
}

// A flood of messages to one process fills only that mailbox: the rest
// are dropped and counted there, and another process gets its messages.
func TestFloodFillsOnlyThatMailbox(t *testing.T) {
	a := startNode(t, "a", func(c *Config) { c.Sched = proc.New(proc.Config{Threads: 1, MailboxLimit: 100}) })
	evil, _, _ := startBare(t, "evil", a)
	flooded, other := a.sched.Attach("flooded"), a.sched.Attach("other")
	aInc, evilInc := incarnationOf(t, evil, "a"), incarnationOf(t, evil, "evil")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 10 {
		if err := evil.Send(ctx, "a", kindMsg, frameTo(aInc, evilInc, flooded.PID().Serial(), 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := evil.Send(ctx, "a", kindMsg, frameTo(aInc, evilInc, other.PID().Serial(), 5)); err != nil {
		t.Fatal(err)
	}
	takeN(t, other, 5, 10*time.Second)
	var info proc.Info
	for _, in := range a.sched.Processes() {
		if in.PID == flooded.PID() {
			info = in
		}
	}
	if info.Mailbox != 100 || info.Dropped != 9900 {
		t.Errorf("the flooded mailbox holds %d and dropped %d, want 100 and 9900", info.Mailbox, info.Dropped)
	}
}
