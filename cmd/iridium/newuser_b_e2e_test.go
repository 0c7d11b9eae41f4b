package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/remote"
)

// The tests of issue 22, "a new user's second round", one per item, named
// TestNewUserB<item>; they run the real binary.

// TestNewUserB2PortFlags: each port's flags say which port they open, the
// old names still work, and --help says which port is which, with the
// defaults.
func TestNewUserB2PortFlags(t *testing.T) {
	t.Parallel()
	help := runBinary(t, "", "--help")
	for _, want := range []string{
		"\n  -H, --cluster-host HOST\n",
		"\n  -P, --cluster-port PORT\n",
		"\n  --ssh-host HOST\n",
		"\n  -p, --ssh-port PORT\n",
		"(default " + strconv.Itoa(cluster.DefaultBindPort) + "); also --server-bind-port\n",
		"(default " + strconv.Itoa(remote.DefaultBindPort) + "); also --bind-port\n",
		"the cluster port (-P, --cluster-port; default\n" + strconv.Itoa(cluster.DefaultBindPort) + "), which other nodes join",
		"the SSH port (-p, --ssh-port;\ndefault " + strconv.Itoa(remote.DefaultBindPort) + "), which people log in to",
	} {
		if !strings.Contains(help.stderr, want) {
			t.Errorf("--help has no %q:\n%s", want, help.stderr)
		}
	}
	for _, old := range []string{"\n  -P, --server-bind-port", "\n  --server-bind-port", "\n  --bind-port", "\n  -H\n", "\n  -p\n"} {
		if strings.Contains(help.stderr, old) {
			t.Errorf("--help lists the alias %q as a flag of its own", old)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster-port", "70000"}, "--cluster-port 70000: a port is 0 to 65535"},
		{[]string{"-P", "70000"}, "--cluster-port 70000"},
		{[]string{"--server-bind-port", "70000"}, "--cluster-port 70000"},
		{[]string{"--ssh-port", "70000"}, "--ssh-port 70000: a port is 0 to 65535"},
		{[]string{"--bind-port", "70000"}, "--ssh-port 70000"},
	} {
		r := runBinary(t, "", tc.args...)
		if r.code != filecmd.ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("iridium %q: status %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, filecmd.ExitUsage, tc.want)
		}
	}
	// Each name of the cluster flags sets the listener's address.
	for _, args := range [][]string{
		{"--cluster-host", "127.0.0.1", "--cluster-port", "0"},
		{"--server-bind-host", "127.0.0.1", "--server-bind-port", "0"},
		{"-H", "127.0.0.1", "-P", "0"},
	} {
		r := runBinary(t, "", append(args, "--cookie", testCookie, "-e", "!start_cluster")...)
		if r.code != 0 || !regexp.MustCompile(`(?m)^cluster node listening on 127\.0\.0\.1:\d+$`).MatchString(r.stdout) {
			t.Errorf("iridium %q -e !start_cluster: status %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestNewUserB4JoinForms: !join_cluster takes HOST:PORT as --join does,
// and HOST PORT as before; the errors name the real default port.
func TestNewUserB4JoinForms(t *testing.T) {
	t.Parallel()
	def := strconv.Itoa(cluster.DefaultBindPort)
	a := startNode(t, nodeSpec{alias: "a"})
	port := startCluster(t, a, "127.0.0.1")
	b := startNode(t, nodeSpec{alias: "b"})
	b.send(t, fmt.Sprintf("!join_cluster 127.0.0.1:%d", port))
	expect(t, b, fmt.Sprintf(`(?m)^joined the cluster through 127\.0\.0\.1 %d: 2 members: `, port), waitFor)
	c := startNode(t, nodeSpec{alias: "c"})
	c.send(t, fmt.Sprintf("!join_cluster 127.0.0.1 %d", port))
	expect(t, c, fmt.Sprintf(`(?m)^joined the cluster through 127\.0\.0\.1 %d: 3 members: `, port), waitFor)

	for _, tc := range []struct {
		line, want string
	}{
		{"!join_cluster 127.0.0.1", `"127.0.0.1" is not HOST:PORT; want HOST:PORT or HOST PORT, such as 127.0.0.1:` + def},
		{"!join_cluster " + def, `such as 127.0.0.1:` + def},
		{"!join_cluster 127.0.0.1:x", `port "x": want a number from 1 to 65535 (a node's cluster port is ` + def},
		{"!join_cluster 127.0.0.1 0", `port "0": want a number from 1 to 65535`},
		{"!join_cluster :2254", `no host before the port`},
		{"!join_cluster a b c", `usage: !join_cluster HOST PORT`},
	} {
		r := runBinary(t, tc.line+"\n", "--cookie", testCookie)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: status %d, stderr %q; want 1 and %q", tc.line, r.code, r.stderr, tc.want)
		}
	}
	for _, v := range []string{"nohost", "127.0.0.1"} {
		r := runBinary(t, "", "--join", v)
		if r.code != filecmd.ExitUsage || !strings.Contains(r.stderr, "such as") || !strings.Contains(r.stderr, ":"+def) {
			t.Errorf("--join %s: status %d, stderr %q; want a usage error suggesting port %s", v, r.code, r.stderr, def)
		}
	}
	if help := runBinary(t, "!help !join_cluster\n"); !strings.Contains(help.stdout, "HOST:PORT") {
		t.Errorf("!help !join_cluster does not give the HOST:PORT form:\n%s", help.stdout)
	}
}

// TestNewUserB5WrongCookieStops: a daemon whose --join is refused for a
// wrong cookie says so once and stops trying; the node that refused it
// names it by its host and what it says it is, not by the ephemeral port
// it connected from.
func TestNewUserB5WrongCookieStops(t *testing.T) {
	t.Parallel()
	a := startNode(t, nodeSpec{alias: "a"})
	port := startCluster(t, a, "127.0.0.1")
	b := startNode(t, nodeSpec{alias: "b", cookie: "another-cookie-entirely",
		extra: []string{"--daemon", "--join", fmt.Sprintf("127.0.0.1:%d", port)}})
	expectStderr(t, b, `cluster listening.*addr=127\.0\.0\.1:(\d+)`, waitFor)
	line := expectStderr(t, b, `(?m)^.*level=ERROR.*--join 127\.0\.0\.1:\d+: .*cluster cookie mismatch.*not retrying.*$`, waitFor)
	if strings.Contains(b.stderr.buf.String(), "retrying in") {
		t.Errorf("the daemon retried a join refused for its cookie:\n%s", b.stderr.buf.String())
	}
	if !strings.Contains(line[0], "at 127.0.0.1:"+strconv.Itoa(port)+" has a different cluster cookie") {
		t.Errorf("the refusal does not name the node refusing: %s", line[0])
	}
	// The refusing node's event: the stranger's host, no port, and its claim.
	expectEvent(t, a, `(?m)^cluster: 127\.0\.0\.1 refused: cluster cookie mismatch: a node with another cookie, which says it is "b" with its cluster port at 127\.0\.0\.1:\d+$`, waitFor)

	// A daemon logs the refusal at warning level, with the same address.
	d := startNode(t, nodeSpec{alias: "d", extra: []string{"--daemon"}})
	dPort := expectStderr(t, d, `cluster listening.*addr=127\.0\.0\.1:(\d+)`, waitFor)[1]
	e := startNode(t, nodeSpec{alias: "e", cookie: "yet-another-cookie"})
	e.send(t, "!join_cluster 127.0.0.1:"+dPort)
	expectEvent(t, d, `(?m)^.*level=WARN msg="cluster: member refused" addr=127\.0\.0\.1 err=".*a node with another cookie, which says it is \\"e\\" with its cluster port at 127\.0\.0\.1:\d+"$`, waitFor)
}

// TestNewUserB6NothingMadeBeforeRefusal: a daemon refused for want of an
// authorized key says how to add one on one line of its log (no literal
// \n), and leaves no SSH host key behind.
func TestNewUserB6NothingMadeBeforeRefusal(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	r := runBinary(t, "", "--data-root-dir", dataDir, "-r", "--ssh-port", "0", "--daemon", "--cluster-port", "0")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, "no authorized key in "+filepath.Join(dataDir, "authorized_keys")+"; add your public key with: cat ~/.ssh/id_ed25519.pub >> ") {
		t.Fatalf("status %d, stderr:\n%s\nwant %d and how to add a key", r.code, r.stderr, filecmd.ExitFailure)
	}
	if strings.Contains(r.stderr, `\n`) {
		t.Errorf("the log shows a literal \\n:\n%s", r.stderr)
	}
	if _, err := os.Stat(hostKeyPath(dataDir)); !os.IsNotExist(err) {
		t.Errorf("the refused start left the host key %s (stat: %v)", hostKeyPath(dataDir), err)
	}
}

// TestNewUserB7CheckedAtStart: --cookie-file's mode and kind and the TLS
// files are checked when the program starts, for the shell and the
// daemon, before a line runs or a port opens.
func TestNewUserB7CheckedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := filepath.Join(dir, "open-cookie")
	if err := os.WriteFile(open, []byte("a-cookie-of-some-length\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo-cookie")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cookie-file", open}, "chmod 600 " + open},
		{[]string{"--cookie-file", fifo}, "FIFO"},
		{[]string{"--cookie-file", filepath.Join(dir, "missing")}, "--cookie-file: cookie file:"},
		{[]string{"--tls-cert", notPEM}, "--tls-cert, --tls-key and --tls-ca go together"},
		{[]string{"--tls-cert", notPEM, "--tls-key", notPEM, "--tls-ca", notPEM}, "load TLS certificate " + notPEM},
	} {
		for _, mode := range [][]string{nil, {"--daemon", "--cluster-port", "0"}} {
			args := append(append([]string{}, tc.args...), mode...)
			r := runBinary(t, "load $0 #7\n!registers\n", args...)
			if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("iridium %q: status %d, stderr %q; want %d and %q", args, r.code, r.stderr, filecmd.ExitFailure, tc.want)
			}
			if r.stdout != "" || strings.Contains(r.stderr, "listening") {
				t.Errorf("iridium %q ran on after the refusal: stdout %q, stderr %q", args, r.stdout, r.stderr)
			}
		}
	}
}

// TestNewUserB8ScriptedChangesSaySo: in a script, as on a terminal, a
// command that changes something says what it changed.
func TestNewUserB8ScriptedChangesSaySo(t *testing.T) {
	t.Parallel()
	endless := writeTestFile(t, "endless.iasm", spawnEndless)
	saved := filepath.Join(t.TempDir(), "saved.iasm")
	r := runBinary(t, "!spawn "+endless+"\n!kill 1\nload $0 #1\n!clear_registers\n!save "+saved+"\n!clear_program\n!reset\n")
	want := []string{
		"[job 1] " + endless + " started",
		"job 1 (" + endless + ") killed",
		"registers cleared",
		"saved the program to " + saved,
		"program cleared",
		"program, labels, registers, heap and stack cleared",
	}
	if r.code != 0 {
		t.Fatalf("status %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("stdout:\n%s\nwant %d lines: %q", r.stdout, len(want), want)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], w)
		}
	}
}

// TestNewUserB9Suggestions: commands of Erlang's shell and Serf get the
// command that does their job; !cluster_members out of a cluster says so.
func TestNewUserB9Suggestions(t *testing.T) {
	t.Parallel()
	r := runBinary(t, "!members\n!nodes\n!rpc\n!connect\n")
	for _, want := range []string{
		"line 1: unknown command !members; did you mean !cluster_members?",
		"line 2: unknown command !nodes; did you mean !cluster_members?",
		"line 3: unknown command !rpc; did you mean !spawn_on?",
		"line 4: unknown command !connect; did you mean !join_cluster?",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q has no %q", r.stderr, want)
		}
	}
	const notIn = "not in a cluster (!start_cluster listens for other nodes; !join_cluster HOST:PORT joins one)\n"
	r = runBinary(t, "!cluster_members\n!start_cluster\n!leave_cluster\n!cluster_members\n", "--cookie", testCookie, "-P", "0")
	if r.code != 0 || !strings.HasPrefix(r.stdout, notIn) || !strings.HasSuffix(r.stdout, "left the cluster\n"+notIn) || strings.Count(r.stdout, "ALIAS") != 0 {
		t.Errorf("status %d, stdout:\n%s\nwant %q before the start and after the leave, and no empty table", r.code, r.stdout, notIn)
	}
}

// TestNewUserB9FailedMemberRule: --help and docs/cluster.md say the same
// about when a failed member is dropped: the flag's usage is the one
// source, and the docs' table repeats it word for word.
func TestNewUserB9FailedMemberRule(t *testing.T) {
	fs := newFlagSet(&options{})
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cluster.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"suspicion-mult", "reconnect-for"} {
		usage := fs.Lookup(name).Usage
		if !strings.Contains(usage, "dropped") {
			t.Errorf("--%s's usage %q does not say when a failed member is dropped", name, usage)
		}
		row := ""
		sc := bufio.NewScanner(strings.NewReader(string(doc)))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "| `--"+name+" ") {
				row = sc.Text()
			}
		}
		if !strings.Contains(row, usage+" |") {
			t.Errorf("docs/cluster.md's row of --%s:\n%s\ndoes not end with its usage:\n%s", name, row, usage)
		}
	}
}

// TestNewUserB9DemoAddresses: scripts/demo-cluster.sh puts its nodes on
// the addresses it is given, not on 127.0.0.1 only.
func TestNewUserB9DemoAddresses(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("skipped: tmux is not installed (make test installs it when run as root)")
	}
	t.Parallel()
	ports := testkit.Ports(t, 3)
	addrs := []string{
		fmt.Sprintf("127.0.0.2:%d", ports[0]),
		fmt.Sprintf("127.0.0.3:%d", ports[1]),
		fmt.Sprintf("127.0.0.4:%d", ports[2]),
	}
	env := append(testEnv(t), "IRIDIUM_BIN="+iridiumBin, "IRIDIUM_DEMO_SESSION=demo-addrs", "IRIDIUM_DEMO_ATTACH=0",
		"TMUX_TMPDIR="+t.TempDir(), "TMPDIR="+t.TempDir(), "TMUX=")
	tmux := tmuxWith(env)
	t.Cleanup(func() { tmux("kill-server") })
	script := exec.Command("bash", append([]string{filepath.Join("..", "..", "scripts", "demo-cluster.sh")}, addrs...)...)
	script.Env = env
	if out, err := script.CombinedOutput(); err != nil {
		t.Fatalf("demo-cluster.sh %q: %v\n%s", addrs, err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for pane := range 3 {
		for {
			screen, _ := tmux("capture-pane", "-p", "-J", "-t", fmt.Sprintf("demo-addrs:cluster.%d", pane))
			all := true
			for i, addr := range addrs {
				if !regexp.MustCompile(fmt.Sprintf(`(?m)^node%d\S*( \(this node\))?\s+%s `, i+1, regexp.QuoteMeta(addr))).MatchString(screen) {
					all = false
				}
			}
			if all {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pane %d does not list the nodes at %q:\n%s", pane, addrs, screen)
			}
			time.Sleep(100 * time.Millisecond) // polling tmux's screen, with a deadline
		}
	}
	bad := exec.Command("bash", filepath.Join("..", "..", "scripts", "demo-cluster.sh"), "127.0.0.1", "b:1", "c:2")
	bad.Env = env
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "127.0.0.1 is not HOST:PORT (such as 127.0.0.1:2254)") {
		t.Errorf("demo-cluster.sh with a bad address: %v\n%s", err, out)
	}
}

// TestNewUserBStatus: iridium status shows the running nodes of a data
// directory (alias, members and their states, jobs, uptime, and that
// processes are not reported yet), or the one with a cluster address;
// it says why when there is none, and a node's socket goes with it.
func TestNewUserBStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := startNode(t, nodeSpec{alias: "a", dataDir: dir})
	port := startCluster(t, a, "127.0.0.1")
	b := startNode(t, nodeSpec{alias: "b"})
	joinCluster(t, b, "127.0.0.1", port)
	a.send(t, "!spawn "+writeTestFile(t, "endless.iasm", spawnEndless))
	expect(t, a, `\[job 1\] .* started`, waitFor)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for _, args := range [][]string{{"status", "--data-root-dir", dir}, {"status", "--data-root-dir", dir, addr}} {
		r := runBinary(t, "", args...)
		if r.code != 0 {
			t.Fatalf("iridium %q: status %d, stderr %q", args, r.code, r.stderr)
		}
		for _, re := range []string{
			`(?m)^node: "a" at ` + regexp.QuoteMeta(addr) + `$`,
			`(?m)^pid \d+, iridium ` + regexp.QuoteMeta(version) + `, up \d+`,
			`(?m)^members: 2$`,
			`(?m)^  a \(this node\) +` + regexp.QuoteMeta(addr) + ` +local `,
			`(?m)^  b +127\.0\.0\.1:\d+ +alive `,
			`(?m)^jobs: 1$`,
			`(?m)^  1 +running +local +\S*endless\.iasm `,
			`(?m)^processes: not reported by this node$`,
		} {
			if !regexp.MustCompile(re).MatchString(r.stdout) {
				t.Errorf("iridium %q: no %q in:\n%s", args, re, r.stdout)
			}
		}
	}
	if r := runBinary(t, "", "status", "--data-root-dir", dir, "127.0.0.1:1"); r.code != 1 || !strings.Contains(r.stderr, "has the cluster address 127.0.0.1:1; its nodes: "+addr) {
		t.Errorf("status of another address: %d, stderr %q", r.code, r.stderr)
	}
	if r := runBinary(t, "", "status", "--data-root-dir", dir, "nohost"); r.code != filecmd.ExitUsage || !strings.Contains(r.stderr, "such as nohost:2254") {
		t.Errorf("status nohost: %d, stderr %q", r.code, r.stderr)
	}
	a.stdin.Close()
	waitExit(t, a)
	if r := runBinary(t, "", "status", "--data-root-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "no running node uses the data directory "+dir) {
		t.Errorf("status after the node ended: %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if socks, _ := filepath.Glob(filepath.Join(statusDir(dir), "*")); len(socks) != 0 {
		t.Errorf("the ended node left %q", socks)
	}
}

// tmuxWith runs tmux commands with env (a tmux server of the test's own,
// by its TMUX_TMPDIR) and returns their combined output.
func tmuxWith(env []string) func(args ...string) (string, error) {
	return func(args ...string) (string, error) {
		cmd := exec.Command("tmux", args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}
