package dist

import (
	"context"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// A message from a mailbox of one node reaches a mailbox of the other,
// and its From is a PID there that leads back.
func TestMessageBetweenMailboxes(t *testing.T) {
	a, b := startNode(t, "a", nil), startNode(t, "b", nil)
	join(t, a, b)
	ma, mb := a.sched.Attach("ma"), b.sched.Attach("mb")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	to := pidOn(t, a, b, mb.PID())
	if err := ma.SendContext(ctx, to, vm.Message{Kind: vm.MsgInt, Value: 42}); err != nil {
		t.Fatal(err)
	}
	got := takeN(t, mb, 1, 5*time.Second)
	if got[0].Kind != vm.MsgInt || got[0].Value != 42 {
		t.Fatalf("got %+v, want int 42", got[0])
	}
	back := proc.PID(got[0].From)
	if back.Node() == 0 || back.Serial() != ma.PID().Serial() {
		t.Fatalf("From %v does not name %v of a", back, ma.PID())
	}
	if err := mb.SendContext(ctx, back, vm.Message{Kind: vm.MsgPID, Value: int32(mb.PID())}); err != nil {
		t.Fatal(err)
	}
	got = takeN(t, ma, 1, 5*time.Second)
	if got[0].Kind != vm.MsgPID || proc.PID(got[0].Value) != to {
		t.Fatalf("got %+v, want the PID %v (b's mailbox as a knows it)", got[0], to)
	}
}

// Request and answer between members, with a refusal and an unknown kind.
func TestRequestAnswer(t *testing.T) {
	a, b := startNode(t, "a", nil), startNode(t, "b", nil)
	join(t, a, b)
	b.dist.HandleRequest("echo.v1", func(from string, body []byte) ([]byte, error) {
		return append([]byte(from+":"), body...), nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := a.dist.Request(ctx, "b", "echo.v1", []byte("hi"))
	if err != nil || string(got) != "a:hi" {
		t.Fatalf("echo: %q, %v; want \"a:hi\"", got, err)
	}
	if _, err := a.dist.Request(ctx, "b", "nothing.v1", nil); err == nil {
		t.Fatal("a request of an unknown kind was answered")
	}
	list, _, err := a.dist.ListProcesses(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	_ = list
}
