//go:build linux

package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// netnsTransport opens its sockets inside a Linux network namespace. A
// socket belongs to the namespace of the thread that creates it, so Listen
// and Dial run on a locked thread switched into the namespace; the thread
// is thrown away afterwards (the goroutine exits still locked).
type netnsTransport struct {
	path string // e.g. /var/run/netns/NAME
}

func (t netnsTransport) inNamespace(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(t.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

func (t netnsTransport) Listen(ctx context.Context, address string) (ln net.Listener, err error) {
	err = t.inNamespace(func() error {
		ln, err = TCPTransport{}.Listen(ctx, address)
		return err
	})
	return ln, err
}

func (t netnsTransport) Dial(ctx context.Context, address string) (c net.Conn, err error) {
	err = t.inNamespace(func() error {
		c, err = TCPTransport{}.Dial(ctx, address)
		return err
	})
	return c, err
}

// ipCommand runs `ip args...` and fails the test with its output.
func ipCommand(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestNetworkCutInNamespaces puts two nodes in two network namespaces
// joined by a veth pair, cuts the link with `ip link set down` (no RST, no
// FIN: a real cut), checks both nodes drop each other within the failure
// timeout, restores the link and checks they reconnect by themselves.
func TestNetworkCutInNamespaces(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("skipped: creating network namespaces needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipped: the ip command (iproute2) is not installed")
	}
	var b [4]byte
	rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	nsA, nsB := "iridium-a-"+suffix, "iridium-b-"+suffix
	vethA, vethB := "irda"+suffix[:6], "irdb"+suffix[:6]
	if out, err := exec.Command("ip", "netns", "add", nsA).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot create a network namespace here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsA).Run() })
	ipCommand(t, "netns", "add", nsB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	ipCommand(t, "link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethB, "netns", nsB)
	ipCommand(t, "-n", nsA, "addr", "add", "10.213.0.1/24", "dev", vethA)
	ipCommand(t, "-n", nsB, "addr", "add", "10.213.0.2/24", "dev", vethB)
	ipCommand(t, "-n", nsA, "link", "set", vethA, "up")
	ipCommand(t, "-n", nsB, "link", "set", vethB, "up")

	testkit.CheckGoroutines(t)
	var nodes []*testNode
	for _, n := range []struct{ alias, ns, host string }{{"a", nsA, "10.213.0.1"}, {"b", nsB, "10.213.0.2"}} {
		cfg := testConfig(n.alias)
		cfg.BindHost = n.host
		cfg.Transport = netnsTransport{path: "/var/run/netns/" + n.ns}
		cfg.ReconnectFor = 30 * time.Second
		nodes = append(nodes, startNode(t, cfg))
	}
	joinTo(t, nodes[1], nodes[0])
	waitFullMesh(t, nodes, 5*time.Second)

	cut := time.Now()
	ipCommand(t, "-n", nsA, "link", "set", vethA, "down")
	timeout := testFailure
	testkit.Eventually(t, timeout+testSlack, "both nodes drop each other", func() bool {
		return !hasMember(nodes[0].Node, "b") && !hasMember(nodes[1].Node, "a")
	})
	t.Logf("both sides dropped the other %v after the cut", time.Since(cut))
	for _, n := range nodes {
		for _, e := range n.events.all() {
			if e.Kind == EventFailed || e.Kind == EventLinkClosed {
				t.Logf("%s: %v", n.Alias(), e)
			}
		}
	}

	healed := time.Now()
	ipCommand(t, "-n", nsA, "link", "set", vethA, "up")
	waitFullMesh(t, nodes, 15*time.Second)
	t.Logf("full mesh again %v after the link came back", time.Since(healed))
}
