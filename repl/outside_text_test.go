package repl

// Text from outside (a member's alias or address, a remote program's
// output, a file name, an error that quotes a peer) reaches the shell
// raw, and the shell escapes it where it shows it. These tests feed each
// such field with the bytes a terminal acts on through every way the
// shell shows it.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/internal/termtext/termtexttest"
	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/vm/asm"
)

// asmBytes writes s as the body of an assembly string, every byte an
// \xNN escape.
func asmBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\x%02x`, s[i])
	}
	return b.String()
}

// printSrc prints text and a newline (prts stops at a NUL: a program
// cannot print one).
func printSrc(text string) string {
	return ".data\nmsg: .asciiz '" + asmBytes(text+"\n") + "'\n.code\nprts @msg\nhlt\n"
}

// hostileNode is a cluster node whose member fields and join error carry
// text as a hostile peer would send it.
type hostileNode struct {
	fakeNode
	text string
}

func (h *hostileNode) Members() []ClusterMember {
	return []ClusterMember{
		{Alias: "a", Addr: "127.0.0.1:2254", State: "local", Local: true},
		{Alias: h.text, Addr: h.text + ":2255", State: h.text, LastSeen: h.fakeNode.Members()[1].LastSeen},
	}
}

func (h *hostileNode) Join(context.Context, string, int) ([]ClusterMember, error) {
	return h.Members(), fmt.Errorf("%w: peer \"%s\" refused us: %s", errPeer, h.text, h.text)
}

var errPeer = errors.New("refused")

// TestClusterOutsideTextShownEscaped shows hostile member fields, event
// lines and a peer's error through !cluster_members, !join_cluster's
// answer and its error, and Notify.
func TestClusterOutsideTextShownEscaped(t *testing.T) {
	for _, h := range termtexttest.Hostile {
		t.Run(h.Name, func(t *testing.T) {
			text := termtexttest.Name(h.Text)
			want := termtext.Escape(text, false)
			ts := newTestShell(t, "", Options{})
			ts.SetCluster(&hostileNode{text: text})
			ts.exec(t, "!cluster_members")
			termtexttest.Check(t, "!cluster_members", ts.out.String(), want+" ")
			termtexttest.Check(t, "!cluster_members address", ts.out.String(), want+":2255")

			err := ts.Execute(context.Background(), "!join_cluster 10.0.0.1 2254")
			if !errors.Is(err, errPeer) {
				t.Fatalf("!join_cluster: %v, want the peer's error wrapped", err)
			}
			ts.report(err)
			termtexttest.Check(t, "!join_cluster error", ts.err.String(), "refused us: "+want)

			mark := len(ts.err.String())
			ts.Notify(`cluster: "` + text + `" (10.0.0.1:2254) failed: ` + text)
			termtexttest.Check(t, "event line", ts.err.String()[mark:], `cluster: "`+want+`" (10.0.0.1:2254) failed: `+want)
		})
	}
	t.Run("long", func(t *testing.T) {
		ts := newTestShell(t, "", Options{})
		ts.SetCluster(&hostileNode{text: strings.Repeat("\x1b", 100_000)})
		ts.exec(t, "!cluster_members")
		ts.report(ts.Execute(context.Background(), "!join_cluster 10.0.0.1 2254"))
		ts.Notify(strings.Repeat("\x1b", 100_000))
		// Escaped whole, one field would be 400,000 bytes.
		if out, errOut := len(ts.out.String()), len(ts.err.String()); out > 100_000 || errOut > 100_000 {
			t.Errorf("%d bytes on stdout, %d on stderr for 100,000-byte fields: not capped", out, errOut)
		}
	})
}

// memberNet is a cluster in one process for the remote spawn commands:
// each member a real jobs.Service and table, the messages to a member
// delivered in order by a goroutine of its own.
type memberNet struct {
	mu      sync.Mutex
	members map[string]*netMember
	closed  bool
	wg      sync.WaitGroup
}

type netMember struct {
	net   *memberNet
	alias string
	table *jobs.Table
	svc   *jobs.Service
	inbox chan delivery
}

type delivery struct {
	from, kind string
	payload    []byte
}

func newMemberNet(t *testing.T) *memberNet {
	n := &memberNet{members: map[string]*netMember{}}
	t.Cleanup(func() {
		n.mu.Lock()
		n.closed = true
		members := n.members
		n.mu.Unlock()
		for _, m := range members {
			m.svc.Close()
			m.table.Close() // it may send: not under n.mu
		}
		n.mu.Lock()
		for _, m := range members {
			close(m.inbox)
		}
		n.mu.Unlock()
		n.wg.Wait()
	})
	return n
}

// add makes a member that takes programs from others when remoteSpawn.
func (n *memberNet) add(alias string, remoteSpawn bool) *netMember {
	m := &netMember{net: n, alias: alias, table: jobs.NewTable(8), inbox: make(chan delivery, 256)}
	m.svc = jobs.NewService(jobs.ServiceConfig{Table: m.table, Transport: m, RemoteSpawn: remoteSpawn, ReplyTimeout: waitTimeout})
	n.mu.Lock()
	n.members[alias] = m
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for d := range m.inbox {
			m.svc.Receive(d.from, d.kind, d.payload)
		}
	}()
	return m
}

func (m *netMember) Self() string        { return m.alias }
func (m *netMember) MaxMessageSize() int { return 1 << 20 }

func (m *netMember) Members() []string {
	m.net.mu.Lock()
	defer m.net.mu.Unlock()
	var others []string
	for alias := range m.net.members {
		if alias != m.alias {
			others = append(others, alias)
		}
	}
	sort.Strings(others)
	return others
}

// Send never waits: a full inbox answers as a link with no room before
// the deadline would.
func (m *netMember) Send(_ context.Context, to, kind string, payload []byte) error {
	m.net.mu.Lock()
	defer m.net.mu.Unlock()
	dst := m.net.members[to]
	if dst == nil || m.net.closed {
		return fmt.Errorf("no member %s", to)
	}
	select {
	case dst.inbox <- delivery{from: m.alias, kind: kind, payload: payload}:
		return nil
	default:
		return fmt.Errorf("to %s: %w", to, context.DeadlineExceeded)
	}
}

// TestJobsOutsideTextShownEscaped runs programs on members whose aliases,
// output, file names, owners and refusals carry hostile text, and shows
// them through !spawn_all, !spawn_on (output lines and end line),
// !cluster_jobs and the member's !jobs.
func TestJobsOutsideTextShownEscaped(t *testing.T) {
	for _, h := range termtexttest.Hostile {
		t.Run(h.Name, func(t *testing.T) {
			text := termtexttest.Name(h.Text)
			want := termtext.Escape(text, false)
			// A program's own line break ends a line, which is labelled.
			wantOut := want
			if i := strings.LastIndex(text, "\n"); i >= 0 {
				wantOut = termtext.Escape(text[i+1:], false)
			}
			net := newMemberNet(t)
			here := net.add("here", true)
			busy := net.add(text, true)
			net.add(text+"-off", false)
			net.add("plain", true)
			ts := newTestShell(t, "", Options{Jobs: here.table, Remote: here.svc, JobOwner: text})
			printer := writeFile(t, "print.iasm", printSrc(text))

			// !spawn_all: the members' aliases, their output and a refusal
			// that quotes the refusing member's alias.
			err := ts.Execute(context.Background(), "!spawn_all "+printer)
			ts.report(err)
			termtexttest.Check(t, "!spawn_all member", ts.out.String(), want+" ")
			termtexttest.Check(t, "!spawn_all refusal", ts.out.String(), "refused: "+want+"-off refused")
			termtexttest.Check(t, "!spawn_all failure", ts.err.String(), want+"-off refused")
			if h.Text != "\x00" {
				termtexttest.Check(t, "!spawn_all output", ts.out.String(), " "+wantOut)
			}

			// !spawn_on: the output lines as they come, and the end line.
			outMark, errMark := len(ts.out.String()), len(ts.err.String())
			ts.exec(t, "!spawn_on plain "+printer)
			testkit.EventuallyNil(t, waitTimeout, "the end line of !spawn_on", func() error {
				if !strings.Contains(ts.err.String()[errMark:], "done after") {
					return errors.New("no end line yet")
				}
				return nil
			})
			if h.Text != "\x00" {
				termtexttest.Check(t, "!spawn_on output", ts.out.String()[outMark:], "] "+wantOut)
			}

			// A job run on the hostile member under a hostile file name and
			// owner: !cluster_jobs here, !jobs there.
			endless, err := asm.Assemble("endless.iasm", endlessSrc)
			if err != nil {
				t.Fatal(err)
			}
			j, err := here.svc.SpawnOn(context.Background(), text, jobs.RemoteSpec{File: text, Owner: jobs.NewOwner(text), Program: endless, Output: remoteOutput{ts.con}})
			if err != nil {
				t.Fatalf("SpawnOn: %v", err)
			}
			defer j.Kill()
			shown := termtext.Escape(strings.ToValidUTF8(text, "?"), false) // as sent: valid UTF-8
			outMark = len(ts.out.String())
			ts.exec(t, "!cluster_jobs")
			termtexttest.Check(t, "!cluster_jobs job", ts.out.String()[outMark:], want+":1 ")
			termtexttest.Check(t, "!cluster_jobs file", ts.out.String()[outMark:], " "+shown+" ")
			termtexttest.Check(t, "!cluster_jobs owner", ts.out.String()[outMark:], " "+want+"@here ")
			there := newTestShell(t, "", Options{Jobs: busy.table})
			there.exec(t, "!jobs")
			termtexttest.Check(t, "!jobs of the member", there.out.String(), " "+shown)
			there.Notify(jobs.EndLine(j))
			termtexttest.Check(t, "end line of a forged file name", there.err.String(), "] "+want+" ")
		})
	}
}
