package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/testkit"
)

// End-to-end tests of remote access: the real binary as a daemon with -r,
// reached with the real OpenSSH client (ssh, ssh-keygen).

// requireOpenSSH skips the test when the OpenSSH client is missing.
func requireOpenSSH(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: %s is not installed (make test installs openssh-client when run as root)", tool)
		}
	}
}

// newSSHKey makes an ed25519 key pair with comment in dir and returns the
// private key's path; the public key is path + ".pub".
func newSSHKey(t *testing.T, dir, name, comment string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

// authorize appends key's public half to the data directory's
// authorized_keys.
func authorize(t *testing.T, dataDir, key string) {
	t.Helper()
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "authorized_keys"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(pub); err != nil {
		t.Fatal(err)
	}
}

// sshNode is a daemon with remote access, and what its tests need to
// reach it.
type sshNode struct {
	*nodeProc
	dataDir    string
	sshAddr    string // host:port of the SSH server
	knownHosts string // the test's known_hosts file for this node
}

// startSSHNode starts the node n as a daemon with -r, serving SSH on a
// free port of n.host, and waits until it serves. n.host and n.dataDir
// must be given; the data directory authorizes the test's keys.
func startSSHNode(t *testing.T, n nodeSpec) *sshNode {
	t.Helper()
	n.extra = append([]string{"--daemon", "-r", "--bind-host", n.host, "-p", "0"}, n.extra...)
	p := startNode(t, n)
	m := expectStderr(t, p, `msg="remote access listening" addr=(\S+) host_key=(SHA256:\S+)`, waitFor)
	return &sshNode{nodeProc: p, dataDir: n.dataDir, sshAddr: m[1], knownHosts: filepath.Join(n.dataDir, "..", n.alias+"-known_hosts")}
}

// sshCommand is the ssh command line that logs in to n with key and runs
// command ("" for a shell), checking the host key against the test's
// known_hosts file (strict: "yes", or "accept-new" for the first login).
func (n *sshNode) sshCommand(ctx context.Context, key, strict string, extra []string, command string) *exec.Cmd {
	host, port, _ := net.SplitHostPort(n.sshAddr)
	// An empty ssh_config of the test's own: no user's or system's
	// settings (and no reliance on /dev/null being the device).
	config := n.knownHosts + ".config"
	if _, err := os.Stat(config); err != nil {
		os.WriteFile(config, nil, 0o600)
	}
	args := []string{"-F", config, "-p", port, "-i", key,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=" + strict,
		"-o", "UserKnownHostsFile=" + n.knownHosts, "-o", "HostKeyAlias=iridium-" + n.alias, "-o", "ConnectTimeout=15", "-o", "LogLevel=ERROR"}
	args = append(args, extra...)
	args = append(args, host)
	if command != "" {
		args = append(args, command)
	}
	cmd := exec.CommandContext(ctx, "ssh", args...)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=")
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// ssh runs ssh to n with key, stdin as its input, and returns how it
// ended.
func (n *sshNode) ssh(t *testing.T, key, stdin string, command string, extra ...string) result {
	t.Helper()
	return runCommand(t, func(ctx context.Context) *exec.Cmd {
		cmd := n.sshCommand(ctx, key, "accept-new", extra, command)
		cmd.Stdin = strings.NewReader(stdin)
		return cmd
	})
}

// sshOK runs command over ssh and fails the test unless it exits 0.
func (n *sshNode) sshOK(t *testing.T, key, command string) string {
	t.Helper()
	r := n.ssh(t, key, "", command)
	if r.code != 0 {
		t.Fatalf("ssh %q: exit status %d, want 0; stdout:\n%s\nstderr:\n%s", command, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// newRemoteNode is the common start of the tests: a key pair, a data
// directory that authorizes it, and a daemon on 127.0.0.1 serving SSH.
func newRemoteNode(t *testing.T, extra ...string) (*sshNode, string) {
	t.Helper()
	requireOpenSSH(t)
	dir := t.TempDir()
	key := newSSHKey(t, dir, "id_ed25519", "tester@e2e")
	dataDir := filepath.Join(dir, "data")
	authorize(t, dataDir, key)
	return startSSHNode(t, nodeSpec{alias: "a", host: "127.0.0.1", dataDir: dataDir, extra: extra}), key
}

// TestRemoteLogin: an authorized key logs in; an exec request and a piped
// script run as REPL lines with the exit status of a local pipe; an
// unknown key, a password and keyboard-interactive are refused, and the
// refusal is logged with the client's address.
func TestRemoteLogin(t *testing.T) {
	t.Parallel()
	n, key := newRemoteNode(t)

	if out := n.sshOK(t, key, "load $0 #5\n!registers"); !strings.Contains(out, "$0 = 5") {
		t.Errorf("exec: stdout %q, want $0 = 5", out)
	}
	r := n.ssh(t, key, "", "load $0 #1\nbogus $0")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, `line 2: col 1: unknown mnemonic "bogus"`) {
		t.Errorf("exec with a bad line: status %d, stderr %q; want %d and line 2's error", r.code, r.stderr, filecmd.ExitFailure)
	}
	r = n.ssh(t, key, "load $1 #7\nadd $1 $1 $2\n!registers\n", "")
	if r.code != 0 || !strings.Contains(r.stdout, "$1 = 7\n$2 = 14") {
		t.Errorf("piped script: status %d, stdout %q, stderr %q; want 0 and $1 = 7, $2 = 14", r.code, r.stdout, r.stderr)
	}
	r = n.ssh(t, key, "load $1 #7\ndiv $1 $0 $2\nload $3 #3\n!registers\n", "")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, "line 2: fault") || !strings.Contains(r.stdout, "$3 = 3") {
		t.Errorf("piped script with a fault: status %d, stdout %q, stderr %q; want %d, line 2's fault, and the lines after run", r.code, r.stdout, r.stderr, filecmd.ExitFailure)
	}

	other := newSSHKey(t, t.TempDir(), "other", "stranger@e2e")
	r = n.ssh(t, other, "", "!registers")
	if r.code != 255 || !strings.Contains(r.stderr, "Permission denied (publickey)") {
		t.Errorf("unknown key: status %d, stderr %q; want 255 and permission denied", r.code, r.stderr)
	}
	expectStderr(t, n.nodeProc, `msg="refused connection" from=127\.0\.0\.1:\d+ reason="authentication failed`, waitFor)
	// The server offers public keys only: asked for a password or
	// keyboard-interactive, the client finds no method to try.
	for _, method := range []string{"password", "keyboard-interactive"} {
		r = n.ssh(t, key, "", "!registers", "-o", "PreferredAuthentications="+method)
		if r.code != 255 || !strings.Contains(r.stderr, "Permission denied (publickey).") {
			t.Errorf("%s: status %d, stderr %q; want 255 and only publickey offered", method, r.code, r.stderr)
		}
	}
}

// TestRemoteNoAuthorizedKey: -r with no authorized key refuses to start
// and says how to add one.
func TestRemoteNoAuthorizedKey(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	r := runBinary(t, "", "--data-root-dir", dataDir, "-r", "-p", "0", "--daemon", "-P", "0", "--log-format", "json")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, `"msg":"remote access did not start"`) || !strings.Contains(r.stderr, "no authorized key in "+filepath.Join(dataDir, "authorized_keys")) || !strings.Contains(r.stderr, ".pub >> ") {
		t.Errorf("status %d, stderr:\n%s\nwant %d and how to add a key", r.code, r.stderr, filecmd.ExitFailure)
	}
	if strings.Contains(r.stderr, "cluster listening") {
		t.Errorf("the cluster listener started before remote access was refused:\n%s", r.stderr)
	}
	r = runBinary(t, "", "--data-root-dir", dataDir, "-r", "-p", "0")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, "no authorized key") {
		t.Errorf("shell: status %d, stderr:\n%s\nwant %d and no authorized key", r.code, r.stderr, filecmd.ExitFailure)
	}
	for _, args := range [][]string{
		{"-r", "prog.iasm"},
		{"--join", "127.0.0.1:1", "prog.iasm"},
		{"--daemon", "prog.iasm"},
		{"--join", "nohost"},
		{"--join", "127.0.0.1:0"},
		{"--log-format", "xml"},
		{"-p", "65536"},
	} {
		if r := runBinary(t, "", args...); r.code != filecmd.ExitUsage || r.stderr == "" {
			t.Errorf("iridium %q: status %d, stderr %q; want %d and why", args, r.code, r.stderr, filecmd.ExitUsage)
		}
	}
}

// TestRemoteHostKeyKept: the host key is made once (0600) and kept, so a
// client that checks it strictly logs in again after a restart; SIGTERM
// stops the daemon with status 0.
func TestRemoteHostKeyKept(t *testing.T) {
	t.Parallel()
	n, key := newRemoteNode(t)
	n.sshOK(t, key, "!registers") // records the host key in known_hosts
	fi, err := os.Stat(filepath.Join(n.dataDir, "ssh_host_ed25519_key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key file: %v, %v; want mode 0600", fi, err)
	}
	first := regexp.MustCompile(`msg="made a new SSH host key".* fingerprint=(\S+)`).FindStringSubmatch(n.stderr.buf.String())
	if first == nil {
		t.Fatalf("no log of a new host key:\n%s", n.stderr.buf.String())
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, n.nodeProc)

	again := startSSHNode(t, nodeSpec{alias: "a", host: "127.0.0.1", dataDir: n.dataDir})
	again.knownHosts = n.knownHosts
	if strings.Contains(again.stderr.buf.String(), "made a new SSH host key") {
		t.Errorf("a new host key was made on restart:\n%s", again.stderr.buf.String())
	}
	if !strings.Contains(again.stderr.buf.String(), "host_key="+first[1]) {
		t.Errorf("the restarted node does not show the first host key %s:\n%s", first[1], again.stderr.buf.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := again.sshCommand(ctx, key, "yes", nil, "!registers").CombinedOutput()
	if err != nil {
		t.Fatalf("strict host key check after a restart: %v\n%s", err, out)
	}
}

// sshTerminal starts ssh -tt to n on a pseudo-terminal of its own, of
// the type term, as a user at a terminal would.
func sshTerminal(t *testing.T, n *sshNode, key, term string) *ptyREPL {
	t.Helper()
	cmd := n.sshCommand(context.Background(), key, "accept-new", []string{"-tt"}, "")
	cmd.Env = append(withoutEnv(cmd.Env, "NO_COLOR"), "TERM="+term)
	return startOnPTY(t, cmd, 160)
}

// TestRemoteTerminal: ssh -tt gets the interactive REPL: banner, prompt,
// Tab completion, colour for TERM=xterm, Ctrl-C stopping an endless loop,
// and !quit ending the session only.
func TestRemoteTerminal(t *testing.T) {
	t.Parallel()
	n, key := newRemoteNode(t)
	p := sshTerminal(t, n, key, "xterm")
	p.expect("Iridium " + version)
	p.expect("\x1b[36;1m>>> ")
	p.send("nop\r")
	p.expect(">>> ")
	p.send("target: load $2 #7\r")
	p.expect("$2 = 7")
	p.send("load $3 @tar\t\r") // @target is code address 4
	p.expect("$3 = 4")
	p.send("!sess\t\r")
	p.expect("tester@e2e")
	// Cluster events reach the session: a node joins this one.
	clusterAddr := expectStderr(t, n.nodeProc, `msg="cluster listening" addr=(\S+)`, waitFor)
	startNode(t, nodeSpec{alias: "b", host: "127.0.0.2", extra: []string{"--daemon", "--join", clusterAddr[1]}})
	p.expect(`cluster: "b" (127.0.0.2:`)
	p.send("eq $0 $0\r")
	p.expect(">>> ")
	p.send("spin: djmpe @spin\r")
	p.expect("spin: djmpe @spin")
	p.interrupt("warning: interrupted at pc")
	p.send("inc $2\r")
	p.expect("$2 = 8")
	p.send("!quit\r")
	if code := p.wait(); code != 0 {
		t.Fatalf("ssh exit status %d after !quit, want 0", code)
	}
	expectStderr(t, n.nodeProc, `msg="session closed" session=\d+ from=127\.0\.0\.1:\d+ exit_status=0`, waitFor)
	// TERM=dumb: no colour.
	dumb := sshTerminal(t, n, key, "dumb")
	dumb.expect(">>> ")
	dumb.send("!nope\r")
	dumb.expect("error: unknown command !nope")
	dumb.send("\x04")
	if code := dumb.wait(); code != 0 || strings.Contains(dumb.output(), "\x1b[3") {
		t.Errorf("TERM=dumb: exit status %d, output %q; want 0 and no colour", code, dumb.output())
	}
	if out := n.sshOK(t, key, "!registers"); strings.Contains(out, "$2") {
		t.Errorf("a new session shares registers with the last one:\n%s", out)
	}
	select {
	case <-n.done:
		t.Fatalf("the daemon exited after a session's !quit: %v", n.waitErr)
	default:
	}
}

// scriptSession is an ssh session whose input the test writes line by
// line, as a program driving the node would.
type scriptSession struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *outStream
	proc  *nodeProc // for expectIn's messages
	done  chan error
}

func startScriptSession(t *testing.T, n *sshNode, key, name string) *scriptSession {
	t.Helper()
	cmd := n.sshCommand(context.Background(), key, "accept-new", []string{"-T"}, "")
	s := &scriptSession{cmd: cmd, out: &outStream{name: "stdout"}, proc: &nodeProc{alias: name}, done: make(chan error, 1)}
	cmd.Stdout = &s.out.buf
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		s.stdin.Close()
		cmd.Process.Kill()
		<-s.done
	})
	return s
}

func (s *scriptSession) run(t *testing.T, line, want string) []string {
	t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		t.Fatalf("%s: writing %q: %v", s.proc.alias, line, err)
	}
	return expectIn(t, s.proc, s.out, want, waitFor)
}

// TestRemoteSessionsApart: two sessions at once have registers of their
// own but share the node's job table: a program one spawns shows in the
// other's !jobs, and dies with the session that spawned it. !sessions
// lists both, marking the asker's.
func TestRemoteSessionsApart(t *testing.T) {
	t.Parallel()
	n, key := newRemoteNode(t)
	spin := writeTestFile(t, "spin.iasm", ".code\nload $0 #0\neq $0 $0\nspin: djmpe @spin\n")
	one := startScriptSession(t, n, key, "one")
	two := startScriptSession(t, n, key, "two")
	one.run(t, "load $0 #11\n!registers", `\$0 = 11\n`)
	two.run(t, "load $0 #22\n!registers", `\$0 = 22\n`)
	one.run(t, "!registers", `\$0 = 11\n`)
	m := two.run(t, "!sessions", `(?s)ID.*\n\*  (\d+) +tester@e2e +127\.0\.0\.1:\d+ .* script\n`)
	if rows := strings.Count(two.out.buf.String(), "tester@e2e"); rows != 2 {
		t.Errorf("!sessions lists %d sessions, want 2:\n%s", rows, two.out.buf.String())
	}
	mine, _ := strconv.Atoi(m[1])
	spinner := 3 - mine // the sessions are 1 and 2

	one.run(t, "!spawn "+spin+"\n!registers", `\$0 = 11\n`)
	owner := regexp.QuoteMeta(fmt.Sprintf("ssh %d (tester@e2e)", spinner))
	two.run(t, "!jobs", `(?m)^1 +running +`+owner+` +`+regexp.QuoteMeta(spin)+`$`)
	one.stdin.Close() // the session ends; its job is killed
	if err := <-one.done; err != nil {
		t.Errorf("session one: %v", err)
	}
	one.done <- nil // for the cleanup
	deadline := time.Now().Add(waitFor)
	for {
		out := two.run(t, "!jobs", `(?m)^1 +\S+ +`+owner+`.*\n`)
		if strings.Contains(out[0], " killed ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job of a closed session is still listed as %q", out[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRemoteDaemonMesh: three daemons on 127.0.0.1-3, each told to --join
// the next (which may not listen yet: the join is retried), form a full
// mesh that ssh '!cluster_members' shows; SIGTERM on one is logged as
// "left" by the others, and it exits 0.
func TestRemoteDaemonMesh(t *testing.T) {
	t.Parallel()
	requireOpenSSH(t)
	dir := t.TempDir()
	key := newSSHKey(t, dir, "id_ed25519", "tester@e2e")
	ports := testkit.Ports(t, 3) // each node joins the next before it may listen
	hosts := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	aliases := []string{"a", "b", "c"}
	want := map[string]string{}
	nodes := make([]*sshNode, 3)
	for i := range nodes {
		dataDir := filepath.Join(dir, aliases[i])
		authorize(t, dataDir, key)
		next := (i + 1) % 3
		want[aliases[i]] = hostPort(hosts[i], ports[i])
		nodes[i] = startSSHNode(t, nodeSpec{alias: aliases[i], host: hosts[i], port: ports[i], dataDir: dataDir,
			extra: []string{"--join", hostPort(hosts[next], ports[next])}})
	}
	for _, n := range nodes {
		waitSSHMembers(t, n, key, want)
	}
	// A session uses the node's cluster for remote spawn too.
	hello := writeTestFile(t, "hello.iasm", replHello)
	out := nodes[0].sshOK(t, key, "!spawn_all "+hello)
	for _, alias := range aliases {
		if !regexp.MustCompile(`(?m)^` + alias + ` +done .*Hello, world!`).MatchString(out) {
			t.Errorf("!spawn_all over ssh: no %s done with its output:\n%s", alias, out)
		}
	}
	b := nodes[1]
	b.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, b.nodeProc)
	expectStderr(t, b.nodeProc, `msg=stopped`, 0)
	delete(want, "b")
	for _, n := range []*sshNode{nodes[0], nodes[2]} {
		expectStderr(t, n.nodeProc, `msg="cluster: member left" alias=b addr=`+regexp.QuoteMeta(hostPort("127.0.0.2", ports[1]))+`\b`, waitFor)
		waitSSHMembers(t, n, key, want)
	}
	// SIGINT does the same as SIGTERM.
	nodes[2].cmd.Process.Signal(syscall.SIGINT)
	waitExit(t, nodes[2].nodeProc)
	expectStderr(t, nodes[0].nodeProc, `msg="cluster: member left" alias=c addr=`, waitFor)

	// --join in a script joins before the first line; in a terminal, in
	// the background as the prompt shows.
	cookie := testCookie + "/" + t.Name()
	joinA := hostPort("127.0.0.1", ports[0])
	r := runBinary(t, "!cluster_members\n", "--node-alias", "d", "-H", "127.0.0.4", "-P", "0", "--cookie", cookie, "--join", joinA)
	if r.code != 0 || !regexp.MustCompile(`(?m)^a +127\.0\.0\.1:\d+ +alive`).MatchString(r.stdout) || !strings.Contains(r.stdout, "d (this node)") {
		t.Errorf("a script with --join: status %d, stdout:\n%s\nstderr:\n%s\nwant a and d listed", r.code, r.stdout, r.stderr)
	}
	p := startPTYArgs(t, 160, []string{"--node-alias", "e", "-H", "127.0.0.5", "-P", "0", "--cookie", cookie, "--join", joinA, "--data-root-dir", t.TempDir()}, "NO_COLOR=1")
	// The join's answer may come before the first prompt or after it
	// (then the prompt is drawn again below it): a prompt follows it
	// either way.
	p.expect("joined the cluster of " + joinA)
	p.expect(">>> ")
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Errorf("the terminal with --join: exit status %d", code)
	}
}

// waitSSHMembers polls ssh '!cluster_members' on n until it lists exactly
// want (alias → address).
func waitSSHMembers(t *testing.T, n *sshNode, key string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		got := map[string]string{}
		for _, line := range strings.Split(n.sshOK(t, key, "!cluster_members"), "\n") {
			if m := memberRow.FindStringSubmatch(line); m != nil {
				got[m[1]] = m[3]
			}
		}
		if maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %q lists %v, want %v", n.alias, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRemoteGarbage attacks the SSH port: random bytes, a handshake left
// half done, a connection that never speaks, and a flood of connections.
// A session opened before goes on working, a new login works, and the
// refusals are logged bounded.
func TestRemoteGarbage(t *testing.T) {
	t.Parallel()
	n, key := newRemoteNode(t, "--auth-timeout", "2s")
	before := startScriptSession(t, n, key, "before")
	before.run(t, "load $0 #1\n!registers", `\$0 = 1\n`)

	var wg sync.WaitGroup
	// attackFrom runs f on a new connection from the local address from
	// ("": any).
	attackFrom := func(from string, f func(net.Conn)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d net.Dialer
			if from != "" {
				d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
			}
			c, err := d.Dial("tcp", n.sshAddr)
			if err != nil {
				return // the flood may be refused by the kernel's backlog
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			f(c)
		}()
	}
	attack := func(f func(net.Conn)) { attackFrom("", f) }
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	attack(func(c net.Conn) { c.Write(junk); io.Copy(io.Discard, c) })
	attack(func(c net.Conn) { c.Write(append([]byte("SSH-2.0-junk\r\n"), junk[:4096]...)); io.Copy(io.Discard, c) })
	// Half open: a version line and then nothing, until the server's
	// authentication timeout closes it. It starts before the flood, and
	// waits for the server's own version line, so that it is in its
	// handshake. It comes from another address than the flood, which
	// makes room by closing its own oldest handshakes, not this one.
	halfOpen := make(chan time.Duration, 1)
	greeted := make(chan struct{})
	attackFrom("127.0.0.2", func(c net.Conn) {
		start := time.Now()
		io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		close(greeted)
		if !strings.HasPrefix(line, "SSH-2.0-") {
			t.Errorf("no server version line, got %q", line)
		}
		io.Copy(io.Discard, c)
		halfOpen <- time.Since(start)
	})
	// If the half-open connection could not be made, greeted is never
	// closed (nor halfOpen written): the test fails, rather than wait for
	// ever.
	select {
	case <-greeted:
	case <-time.After(waitFor):
		t.Fatalf("the half-open connection from 127.0.0.2 got no server version line within %v", waitFor)
	}
	attack(func(c net.Conn) { io.Copy(io.Discard, c) }) // says nothing at all
	for range 100 {
		attack(func(c net.Conn) {})
	}
	wg.Wait()
	if d := <-halfOpen; d < time.Second || d > 8*time.Second {
		t.Errorf("a half-open handshake was kept %v, want about --auth-timeout (2s)", d)
	}

	// An authenticated session that sends garbage gets its lines refused
	// and a failing exit status.
	garbage := n.ssh(t, key, string(junk), "")
	// The bytes are random: the first line may happen to be empty or a
	// comment, so any line may be the first one refused.
	if garbage.code != filecmd.ExitFailure || !regexp.MustCompile(`(?m)^line \d+: `).MatchString(garbage.stderr) {
		t.Errorf("a session of random bytes: status %d, stderr %.300q; want %d and errors by line", garbage.code, garbage.stderr, filecmd.ExitFailure)
	}

	// A connection dropped mid-program: the client dies while its
	// session spins; the session's program stops and the session closes.
	spin := n.sshCommand(context.Background(), key, "accept-new", nil, "load $0 #0\neq $0 $0\nspin: djmpe @spin")
	if err := spin.Start(); err != nil {
		t.Fatal(err)
	}
	m := expectStderr(t, n.nodeProc, `msg="session opened" session=(\d+) .* kind=exec`, waitFor)
	spin.Process.Kill()
	spin.Wait()
	expectStderr(t, n.nodeProc, `msg="session closed" session=`+m[1]+` `, waitFor)

	before.run(t, "inc $0\n!registers", `\$0 = 2\n`)
	if out := n.sshOK(t, key, "load $0 #3\n!registers"); !strings.Contains(out, "$0 = 3") {
		t.Errorf("login after the attack: %q", out)
	}
	logged := strings.Count(n.stderr.buf.String(), `msg="refused connection"`)
	if logged == 0 || logged > 5 {
		t.Errorf("%d refusals logged one by one, want 1 to 5 (the rest summarised):\n%s", logged, n.stderr.buf.String())
	}
}

// TestRemoteLocalTerminal: the node's own terminal with -r shows the SSH
// server's log above its prompt, and !sessions there and in an SSH
// session lists both shells, each marking its own.
func TestRemoteLocalTerminal(t *testing.T) {
	t.Parallel()
	requireOpenSSH(t)
	dir := t.TempDir()
	key := newSSHKey(t, dir, "id_ed25519", "tester@e2e")
	dataDir := filepath.Join(dir, "data")
	authorize(t, dataDir, key)
	p := startPTYArgs(t, 160, []string{"--data-root-dir", dataDir, "-r", "-p", "0", "-P", "0"}, "NO_COLOR=1")
	addr := p.expectMatch(regexp.MustCompile(`msg="remote access listening" addr=(\S+) host_key=`))
	p.expect(">>> ")
	n := &sshNode{nodeProc: &nodeProc{alias: "local"}, dataDir: dataDir, sshAddr: addr[1], knownHosts: filepath.Join(dir, "known_hosts")}
	out := n.sshOK(t, key, "!sessions")
	if !regexp.MustCompile(`(?m)^ +0 +- +local .* terminal$`).MatchString(out) || !regexp.MustCompile(`(?m)^\* +\d+ +tester@e2e +127\.0\.0\.1:\d+ .* exec$`).MatchString(out) {
		t.Errorf("!sessions over ssh:\n%s\nwant the local terminal unmarked and this session marked", out)
	}
	p.expect(`msg="session closed"`) // the server's log, shown above the prompt
	p.send("!sessions\r")
	p.expect("KIND")
	p.expect("*  0   -    local")
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
}
