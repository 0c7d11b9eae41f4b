package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestScriptJoinFailure: a script (-e, or lines piped in) whose --join
// reaches no node is not run: the command says, once per address and
// with the address once, why each join failed, and exits 1.
func TestScriptJoinFailure(t *testing.T) {
	t.Parallel()
	ports := testkit.Ports(t, 3) // nothing listens on ports[0] or ports[1]
	first, second := hostPort("127.0.0.1", ports[0]), hostPort("127.0.0.1", ports[1])
	own := strconv.Itoa(ports[2])
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"-P", own, "--join", first, "-e", "load $0 #7", "-e", "!registers"}},
		{"load $0 #7\n!registers\n", []string{"-P", own, "--join", first, "--join", second}},
	} {
		r := runBinary(t, tc.stdin, tc.args...)
		if r.code != filecmd.ExitFailure || r.stdout != "" {
			t.Errorf("iridium %q: status %d, stdout %q; want %d and the script not run", tc.args, r.code, r.stdout, filecmd.ExitFailure)
		}
		for _, addr := range []string{first, second} {
			if !strings.Contains(strings.Join(tc.args, " "), addr) {
				continue
			}
			line := "iridium: --join " + addr + ": connection refused: no node listens there; start it first"
			if !strings.Contains(r.stderr, line) {
				t.Errorf("iridium %q: stderr has no %q:\n%s", tc.args, line, r.stderr)
			}
			if n := strings.Count(r.stderr, ":"+strconv.Itoa(portOf(t, addr))); n != 1 {
				t.Errorf("iridium %q: stderr names %s %d times, want once:\n%s", tc.args, addr, n, r.stderr)
			}
		}
		if !strings.Contains(r.stderr, "iridium: joined no cluster, so the script did not run") {
			t.Errorf("iridium %q: stderr does not say the script did not run:\n%s", tc.args, r.stderr)
		}
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil {
		t.Fatalf("address %q: %v %v", addr, err, perr)
	}
	return port
}

// writeAuthorizedKey writes an authorized_keys file with one new key to
// dataDir, as a user who set up remote access has.
func writeAuthorizedKey(t *testing.T, dataDir string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "authorized_keys"), ssh.MarshalAuthorizedKey(key), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStartRefusedMakesNothing: a start refused because a port it needs is
// taken (the cluster port, the SSH port, or the two given the same port)
// says which port and which flag moves it, and one refused for a -i file
// it cannot read or a guessable IRIDIUM_COOKIE says so; each exits 1 and leaves nothing behind in the
// data directory: no SSH host key, node id, cookie or status socket
// directory.
func TestStartRefusedMakesNothing(t *testing.T) {
	t.Parallel()
	ports := testkit.Ports(t, 2)
	taken, free := strconv.Itoa(ports[0]), strconv.Itoa(ports[1])
	missing := filepath.Join(t.TempDir(), "missing.iasm")
	ln, err := net.Listen("tcp", hostPort("127.0.0.1", ports[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		args []string
		want string
		env  []string // added to the environment
	}{
		{[]string{"--daemon", "-r", "-p", "0", "-P", taken}, "the cluster port 127.0.0.1:" + taken + " is taken (by another node or program): stop that, or give this node another one with -P (--cluster-port)", nil},
		{[]string{"--daemon", "-r", "-p", taken, "-P", "0"}, "the SSH port 127.0.0.1:" + taken + " is taken (by another node or program): stop that, or give this node another one with -p (--ssh-port)", nil},
		{[]string{"--daemon", "-r", "-p", free, "-P", free}, "the SSH port and the cluster port are both 127.0.0.1:" + free + ": give them different ones", nil},
		{[]string{"--daemon", "-P", taken}, "the cluster port 127.0.0.1:" + taken + " is taken", nil},
		{[]string{"-r", "-p", "0", "-P", taken, "--join", "127.0.0.1:" + free, "-e", "nop"}, "the cluster port 127.0.0.1:" + taken + " is taken", nil},
		{[]string{"-r", "-p", taken, "-e", "nop"}, "the SSH port 127.0.0.1:" + taken + " is taken", nil},
		{[]string{"-r", "-p", "0", "-i", missing}, "iridium: -i: stat " + missing + ": no such file or directory", nil},
		{[]string{"-r", "-p", "0", "-i", t.TempDir()}, "is a directory, not an assembly file", nil},
		{[]string{"--daemon", "-r", "-p", "0", "-P", "0"}, "the cookie from $IRIDIUM_COOKIE: the cluster cookie is easy to guess", []string{"IRIDIUM_COOKIE=short"}},
		{[]string{"-P", "0", "--join", "127.0.0.1:" + free, "-e", "nop"}, "the cookie from $IRIDIUM_COOKIE: the cluster cookie is easy to guess", []string{"IRIDIUM_COOKIE=short"}},
	} {
		dataDir := t.TempDir()
		writeAuthorizedKey(t, dataDir)
		args := append([]string{"--data-root-dir", dataDir}, tc.args...)
		r := runCommand(t, func(ctx context.Context) *exec.Cmd {
			cmd := exec.CommandContext(ctx, iridiumBin, args...)
			cmd.Env = append(testEnv(t), tc.env...)
			return cmd
		})
		if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("iridium %q: status %d, stderr:\n%s\nwant %d and %q", tc.args, r.code, r.stderr, filecmd.ExitFailure, tc.want)
		}
		if strings.Contains(r.stderr, "listening") || r.stdout != "" {
			t.Errorf("iridium %q went on after the refusal: stdout %q, stderr:\n%s", tc.args, r.stdout, r.stderr)
		}
		entries, err := os.ReadDir(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		var made []string
		for _, e := range entries {
			if e.Name() != "authorized_keys" {
				made = append(made, e.Name())
			}
		}
		if len(made) > 0 {
			t.Errorf("iridium %q refused to start but made %v in the data directory", tc.args, made)
		}
	}
}

// TestJoinCauseSaysItOnce: the cause --join shows names no address (the
// one --join names goes in front), for the errors cluster.Join gives.
func TestJoinCauseSaysItOnce(t *testing.T) {
	t.Parallel()
	port := testkit.Ports(t, 1)[0]
	a := joinAddr{host: "127.0.0.1", port: port}
	conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}).Dial("tcp", a.String())
	if err == nil {
		conn.Close()
		t.Fatalf("%s: a free port answered", a)
	}
	got := joinCause(&cluster.JoinError{Addr: a.String(), Err: err})
	if strings.Contains(got, strconv.Itoa(port)) || strings.Contains(got, "join") || !strings.HasPrefix(got, "connection refused: ") {
		t.Errorf("joinCause of %q = %q; want the cause without the address", err, got)
	}
	other := &cluster.JoinError{Addr: a.String(), Err: fmt.Errorf("peer at %s refused us: wrong cookie", a)}
	if got := joinCause(other); got != "peer at "+a.String()+" refused us: wrong cookie" {
		t.Errorf("joinCause of %q = %q; want only the leading join and address gone", other, got)
	}
}

// TestSecondNodeRefusedMakesNoHostKey: a daemon with -r refused because
// another process runs the node of its data directory and alias says so
// and makes no SSH host key: the node id's lock is taken before the key
// is made.
func TestSecondNodeRefusedMakesNoHostKey(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	first := startNode(t, nodeSpec{alias: "a", dataDir: dataDir, extra: []string{"--daemon"}})
	expectStderr(t, first, `cluster listening`, waitFor)
	writeAuthorizedKey(t, dataDir)
	r := runBinary(t, "", "--data-root-dir", dataDir, "--node-alias", "a", "--cookie", testCookie+"/"+t.Name(), "--daemon", "-r", "-p", "0", "-P", "0")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, "another process holds") {
		t.Errorf("status %d, stderr:\n%s\nwant %d and that another process runs the node", r.code, r.stderr, filecmd.ExitFailure)
	}
	if _, err := os.Stat(hostKeyPath(dataDir)); !os.IsNotExist(err) {
		t.Errorf("the refused start made the host key %s (stat: %v)", hostKeyPath(dataDir), err)
	}
}
