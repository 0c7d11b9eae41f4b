package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// inbox collects the application messages a handler receives.
type inbox chan string

func (in inbox) handler(from string, payload []byte) { in <- from + ":" + string(payload) }

// next returns the next message or fails the test after a while.
func (in inbox) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-in:
		return m
	case <-time.After(testSlack):
		t.Fatal("no message arrived")
		return ""
	}
}

func TestSendDeliversInOrderBothWays(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a, b := nodes[0], nodes[1]
	atA, atB := make(inbox, 200), make(inbox, 200)
	a.Handle("test.v1", atA.handler)
	b.Handle("test.v1", atB.handler)
	waitFullMesh(t, nodes, testSlack)
	for i := range 100 {
		if err := a.Send(context.Background(), "n1", "test.v1", []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	for i := range 100 {
		if got, want := atB.next(t), fmt.Sprintf("n0:%d", i); got != want {
			t.Fatalf("message %d: got %q, want %q", i, got, want)
		}
	}
	if err := b.Send(context.Background(), "n0", "test.v1", []byte("back")); err != nil {
		t.Fatal(err)
	}
	if got := atA.next(t); got != "n1:back" {
		t.Errorf("a got %q", got)
	}
}

func TestSendToSelfDeliversLocally(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	in := make(inbox, 10)
	a.Handle("test.v1", in.handler)
	for _, p := range []string{"one", "two"} {
		if err := a.Send(context.Background(), "a", "test.v1", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if got := in.next(t) + " " + in.next(t); got != "a:one a:two" {
		t.Errorf("got %q", got)
	}
	unknown := make(inbox, 1)
	a.Handle(KindUnknown, unknown.handler)
	if err := a.Send(context.Background(), "a", "nobody.v1", nil); err != nil {
		t.Fatal(err)
	}
	if got := unknown.next(t); got != "a:nobody.v1" {
		t.Errorf("unknown kind to self: got %q", got)
	}
}

func TestUnknownKindIsAnsweredAndTheLinkStays(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a, b := nodes[0], nodes[1]
	unknown, known := make(inbox, 1), make(inbox, 1)
	a.Handle(KindUnknown, unknown.handler)
	b.Handle("known.v1", known.handler)
	waitFullMesh(t, nodes, testSlack)
	if err := a.Send(context.Background(), "n1", "nobody.v1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := unknown.next(t); got != "n1:nobody.v1" {
		t.Errorf("answer to an unknown kind: %q", got)
	}
	if err := a.Send(context.Background(), "n1", "known.v1", []byte("still up")); err != nil {
		t.Fatal(err)
	}
	if got := known.next(t); got != "n0:still up" {
		t.Errorf("after the unknown kind: %q", got)
	}
	if losses := append(a.events.losses(), b.events.losses()...); len(losses) != 0 {
		t.Errorf("links dropped: %v", losses)
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	cfg := testConfig("a")
	cfg.MaxFrameSize = 4096
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(context.Background(), "b", "test.v1", nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("before Start: %v, want ErrNotRunning", err)
	}
	a.Close()

	cfgB := testConfig("b")
	cfgB.MaxFrameSize = 4096
	nodes := []*testNode{startNode(t, cfg), startNode(t, cfgB)}
	joinTo(t, nodes[1], nodes[0])
	waitFullMesh(t, nodes, testSlack)
	sender := nodes[0]
	in := make(inbox, 1)
	nodes[1].Handle(strings.Repeat("k", MaxKindLength), in.handler)

	if got, want := sender.MaxMessageSize(), 4096-1-appEnvelopeSize; got != want {
		t.Errorf("MaxMessageSize %d, want %d", got, want)
	}
	biggest := bytes.Repeat([]byte{'x'}, sender.MaxMessageSize())
	if err := sender.Send(context.Background(), "b", strings.Repeat("k", MaxKindLength), biggest); err != nil {
		t.Fatalf("largest message with the longest kind: %v", err)
	}
	if got := in.next(t); len(got) != len("a:")+len(biggest) {
		t.Errorf("largest message arrived with %d bytes", len(got))
	}
	tests := []struct {
		name, to, kind string
		size           int
		want           error
		text           string
	}{
		{"unknown member", "nobody", "test.v1", 1, ErrUnknownMember, `"nobody"`},
		{"too large", "b", "test.v1", sender.MaxMessageSize() + 1, ErrMessageTooLarge, "the limit is"},
		{"empty kind", "b", "", 1, nil, "message kind is empty"},
		{"kind with escape, quoted raw (escaped where shown)", "b", "a\x1b[2J", 1, nil, "\"a\x1b[2J\""},
	}
	for _, tt := range tests {
		err := sender.Send(context.Background(), tt.to, tt.kind, make([]byte, tt.size))
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: got %v, want %v saying %s", tt.name, err, tt.want, tt.text)
		}
	}
	sender.Close()
	if err := sender.Send(context.Background(), "b", "test.v1", nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after Close: %v, want ErrNotRunning", err)
	}
}
