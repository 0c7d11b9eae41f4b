package main

import (
	"fmt"
	"io"
	"maps"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// End-to-end tests of clustering: several real iridium processes, each a
// scripted REPL whose standard input the test keeps open and writes
// commands to, join into a cluster over TCP on 127.0.0.0/8.

// The liveness settings every node gets, so failures are seen quickly:
// probes every testHeartbeat, a round of 3 × 200ms, and a suspicion of
// 0.3 to 1.2 s. testFailureTimeout is the least a frozen member takes to
// be failed (a round and the shortest suspicion), about.
const (
	testHeartbeat      = 100 * time.Millisecond
	testProbeTimeout   = 200 * time.Millisecond
	testFailureTimeout = 900 * time.Millisecond
	testCookie         = "e2e-secret-Jq7vX2pL9wZc"
)

// waitFor bounds waits for output that should come promptly (a command's
// answer, an event after a join or a leave). It is generous because the
// processes may run with the race detector (make test-race) on a busy
// machine; tests that measure a delay assert tighter bounds themselves.
const waitFor = 15 * time.Second

// outStream is one output stream and how far the test has consumed it.
type outStream struct {
	name   string
	buf    testkit.Buffer
	cursor int // offset up to which expect has consumed the stream
}

// nodeProc is a running iridium REPL.
type nodeProc struct {
	alias   string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  *outStream
	stderr  *outStream
	done    chan struct{} // closed when the process has exited
	waitErr error         // cmd.Wait's answer, once done is closed
}

// nodeSpec describes a process to start.
type nodeSpec struct {
	alias   string
	host    string // -H; default 127.0.0.1
	port    int    // -P; default 0, a free port
	cookie  string // default testCookie and the test's name
	dataDir string // default a fresh temporary directory
	extra   []string
}

// startNode starts the binary as a scripted REPL for n. The process is killed
// and waited for when the test ends; if the test failed, its output is
// logged.
func startNode(t *testing.T, n nodeSpec) *nodeProc {
	t.Helper()
	if n.host == "" {
		n.host = "127.0.0.1"
	}
	if n.cookie == "" {
		// One cookie per test: a node redialing a lost member's address,
		// which a node of another test may have taken since, is refused
		// there instead of joining the wrong cluster.
		n.cookie = testCookie + "/" + t.Name()
	}
	if n.dataDir == "" {
		n.dataDir = t.TempDir()
	}
	args := []string{
		"-H", n.host, "-P", strconv.Itoa(n.port),
		"--node-alias", n.alias, "--cookie", n.cookie, "--data-root-dir", n.dataDir,
		"--probe-interval", testHeartbeat.String(), "--probe-timeout", testProbeTimeout.String(), "--suspicion-mult", "3",
	}
	args = append(args, n.extra...)
	cmd := exec.Command(iridiumBin, args...)
	cmd.Env = testEnv(t)
	p := &nodeProc{alias: n.alias, cmd: cmd, stdout: &outStream{name: "stdout"}, stderr: &outStream{name: "stderr"}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout.buf, &p.stderr.buf
	cmd.WaitDelay = 5 * time.Second
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting iridium %q: %v", args, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		p.cmd.Process.Kill()
		<-p.done
		out, errOut := p.stdout.buf.String(), p.stderr.buf.String()
		if strings.Contains(errOut, "WARNING: DATA RACE") {
			t.Errorf("node %q: the race detector found a data race:\n%s", p.alias, errOut)
		}
		if t.Failed() {
			t.Logf("node %q (iridium %s)\n--- stdout:\n%s--- stderr:\n%s", p.alias, strings.Join(args, " "), out, errOut)
		}
	})
	return p
}

// send writes lines to the process's standard input.
func (p *nodeProc) send(t *testing.T, lines ...string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, strings.Join(lines, "\n")+"\n"); err != nil {
		t.Fatalf("node %q: writing %q: %v", p.alias, lines, err)
	}
}

// expectIn polls s until re matches the part after its cursor, or fails
// the test at the deadline. On a match the cursor moves past it, so that
// the next expect on s looks at later output only. It returns the
// submatches.
func expectIn(t *testing.T, p *nodeProc, s *outStream, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		text := s.buf.String()
		if loc := rx.FindStringSubmatchIndex(text[s.cursor:]); loc != nil {
			sub := make([]string, len(loc)/2)
			for i := range sub {
				if loc[2*i] >= 0 {
					sub[i] = text[s.cursor+loc[2*i] : s.cursor+loc[2*i+1]]
				}
			}
			s.cursor += loc[1]
			return sub
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %q: no %s matching %q within %v; unread %s:\n%s", p.alias, s.name, re, timeout, s.name, text[s.cursor:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expect waits for standard output matching re after what earlier expects
// consumed.
func expect(t *testing.T, p *nodeProc, re string, timeout time.Duration) []string {
	t.Helper()
	return expectIn(t, p, p.stdout, re, timeout)
}

// expectStderr is expect for standard error.
func expectStderr(t *testing.T, p *nodeProc, re string, timeout time.Duration) []string {
	t.Helper()
	return expectIn(t, p, p.stderr, re, timeout)
}

// expectEvent waits until the whole standard error, whatever the cursor,
// holds re: events arrive asynchronously, in no fixed order with the
// answers of commands, and a scripted shell prints them on standard
// error. It does not move the cursor.
func expectEvent(t *testing.T, p *nodeProc, re string, timeout time.Duration) {
	t.Helper()
	rx := regexp.MustCompile(re)
	testkit.EventuallyNil(t, timeout, fmt.Sprintf("node %q: an event matching %q", p.alias, re), func() error {
		if stderr := p.stderr.buf.String(); !rx.MatchString(stderr) {
			return fmt.Errorf("stderr:\n%s", stderr)
		}
		return nil
	})
}

// eventRE is the regular expression of an event line about alias: kind is
// itself a regular expression (such as "left" or "(link closed|failed)"),
// which the reason may follow after a colon. addr may be "" for any
// address.
func eventRE(alias, addr, kind string) string {
	a := `[^)]*`
	if addr != "" {
		a = regexp.QuoteMeta(addr)
	}
	return `(?m)^cluster: ` + regexp.QuoteMeta(strconv.Quote(alias)) + ` \(` + a + `\) ` + kind + `(?:: .*)?$`
}

// startCluster runs !start_cluster and returns the port it listens on.
// host is the bind host; for 0.0.0.0, Go's dual-stack listener may name
// itself [::].
func startCluster(t *testing.T, p *nodeProc, host string) int {
	t.Helper()
	p.send(t, "!start_cluster")
	hostRE := regexp.QuoteMeta(host)
	if host == "0.0.0.0" {
		hostRE = `(?:0\.0\.0\.0|\[::\])`
	}
	m := expect(t, p, `(?m)^cluster node listening on `+hostRE+`:(\d+)$`, waitFor)
	port, _ := strconv.Atoi(m[1])
	return port
}

// joinCluster runs !join_cluster host port and waits for its answer, which it
// returns as alias → address.
func joinCluster(t *testing.T, p *nodeProc, host string, port int) map[string]string {
	t.Helper()
	p.send(t, fmt.Sprintf("!join_cluster %s %d", host, port))
	m := expect(t, p, fmt.Sprintf(`(?m)^joined the cluster through %s %d: (\d+) members: (.*)$`, regexp.QuoteMeta(host), port), waitFor)
	got := map[string]string{}
	for _, entry := range strings.Split(m[2], ", ") {
		alias, addr, ok := strings.Cut(strings.TrimSuffix(entry, ")"), " (")
		if !ok {
			t.Fatalf("node %q: join answer %q: entry %q is not ALIAS (ADDR)", p.alias, m[0], entry)
		}
		got[alias] = addr
	}
	if n, _ := strconv.Atoi(m[1]); n != len(got) {
		t.Errorf("node %q: join answer %q: says %d members, lists %d", p.alias, m[0], n, len(got))
	}
	return got
}

// listedMember is a row of the !cluster_members table.
type listedMember struct {
	alias, addr, state string
	local              bool
}

var memberRow = regexp.MustCompile(`^(\S+)( \(this node\))?  +(\S+)  +(local|alive|suspect|failed|joining)  +(-|\S+ ago)  +(-|\S+ ago)$`)

// listMembers runs !cluster_members and parses the table it prints.
func listMembers(t *testing.T, p *nodeProc) []listedMember {
	t.Helper()
	p.send(t, "!cluster_members")
	expect(t, p, `(?m)^ALIAS +ADDRESS +STATE +SINCE +LAST HEARD\n`, waitFor)
	// The table is written whole, in one write, so its rows are there.
	text := p.stdout.buf.String()
	var rows []listedMember
	for {
		line, rest, ok := strings.Cut(text[p.stdout.cursor:], "\n")
		m := memberRow.FindStringSubmatch(line)
		if !ok || m == nil {
			return rows
		}
		rows = append(rows, listedMember{alias: m[1], local: m[2] != "", addr: m[3], state: m[4]})
		p.stdout.cursor = len(text) - len(rest)
	}
}

// memberMap is rows as alias → address, failing on an alias listed twice.
// Failed members (listed while they are redialed) and joining ones (being
// linked after a join) are left out.
func memberMap(t *testing.T, p *nodeProc, rows []listedMember) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, r := range rows {
		if r.state == "failed" || r.state == "joining" { // not linked
			continue
		}
		if _, dup := got[r.alias]; dup {
			t.Errorf("node %q lists %q twice: %v", p.alias, r.alias, rows)
		}
		got[r.alias] = r.addr
	}
	return got
}

// checkMembers checks that rows are exactly want (alias → address), that
// the row of p alone is marked "(this node)" and "local", and the others
// "alive" or "suspect".
func checkMembers(t *testing.T, p *nodeProc, rows []listedMember, want map[string]string) {
	t.Helper()
	got := memberMap(t, p, rows)
	if !maps.Equal(got, want) {
		t.Errorf("node %q lists %v, want %v", p.alias, got, want)
	}
	for _, r := range rows {
		if r.local != (r.alias == p.alias) || (r.state == "local") != r.local {
			t.Errorf("node %q: row %+v: only the node's own row should be marked (this node) and local", p.alias, r)
		}
	}
}

// waitMembers polls !cluster_members on p until it lists exactly want
// (alias → address), and fails the test at the deadline.
func waitMembers(t *testing.T, p *nodeProc, want map[string]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rows := listMembers(t, p)
		got := memberMap(t, p, rows)
		if maps.Equal(got, want) {
			checkMembers(t, p, rows, want)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %q lists %v after %v, want %v", p.alias, got, timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hostPort is host:port.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// startMesh starts nodes a, b and c on 127.0.0.1, 127.0.0.2 and 127.0.0.3: a
// starts the cluster, b joins through a, c through b. It returns the
// processes and the expected member list (alias → published address).
func startMesh(t *testing.T, extra ...string) ([]*nodeProc, map[string]string) {
	t.Helper()
	a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1", extra: extra})
	b := startNode(t, nodeSpec{alias: "b", host: "127.0.0.2", extra: extra})
	c := startNode(t, nodeSpec{alias: "c", host: "127.0.0.3", extra: extra})
	pa := startCluster(t, a, "127.0.0.1")
	pb := startCluster(t, b, "127.0.0.2")
	want := map[string]string{"a": hostPort("127.0.0.1", pa), "b": hostPort("127.0.0.2", pb)}
	if got := joinCluster(t, b, "127.0.0.1", pa); !maps.Equal(got, want) {
		t.Errorf("b joined and lists %v, want %v", got, want)
	}
	// c has not started its listener: the join starts it and c's port is
	// learnt from the answer.
	got := joinCluster(t, c, "127.0.0.2", pb)
	cAddr := got["c"]
	if host, _, err := net.SplitHostPort(cAddr); err != nil || host != "127.0.0.3" {
		t.Fatalf("c joined and lists itself at %q, want 127.0.0.3:PORT (all: %v)", cAddr, got)
	}
	want["c"] = cAddr
	if !maps.Equal(got, want) {
		t.Errorf("c joined and lists %v, want %v", got, want)
	}
	// c links to a in the background: wait for the full mesh.
	waitMembers(t, c, want, waitFor)
	waitMembers(t, a, want, waitFor)
	return []*nodeProc{a, b, c}, want
}

// TestClusterThreeProcesses: three processes on three loopback addresses
// form a full mesh, c joining through b, and every node lists all three at
// their listen addresses, itself marked.
func TestClusterThreeProcesses(t *testing.T) {
	t.Parallel()
	procs, want := startMesh(t)
	for _, p := range procs {
		// No waiting: c's join returns once a and b have admitted it.
		checkMembers(t, p, listMembers(t, p), want)
	}
	// Every node announced the two others joining, at their listen
	// addresses.
	for _, p := range procs {
		for _, q := range procs {
			if p != q {
				expectEvent(t, p, eventRE(q.alias, want[q.alias], "joined"), waitFor)
			}
		}
	}
	// !start_cluster on c, whose join started the listener, says so and
	// names the same address.
	procs[2].send(t, "!start_cluster")
	expect(t, procs[2], `(?m)^the cluster node already listens on `+regexp.QuoteMeta(want["c"])+`$`, waitFor)
	// Joining a member a is linked to already changes nothing.
	_, cPort, _ := net.SplitHostPort(want["c"])
	pc, _ := strconv.Atoi(cPort)
	if got := joinCluster(t, procs[0], "127.0.0.3", pc); !maps.Equal(got, want) {
		t.Errorf("a joined c, already a member, and lists %v, want %v", got, want)
	}
	for _, p := range procs {
		checkMembers(t, p, listMembers(t, p), want)
		if s := p.stderr.buf.String(); strings.Contains(s, "line ") { // events only
			t.Errorf("node %q: stderr %q, want no error", p.alias, s)
		}
	}
}

// TestClusterWildcardBind: a node bound to 0.0.0.0 is published with an
// address that reaches it (a third node joins through that address), or
// with --advertise-host when given.
func TestClusterWildcardBind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		extra    []string
		wantHost string // "" for any host that is not a wildcard
	}{
		{"published address reaches it", nil, ""},
		{"advertise host", []string{"--advertise-host", "127.0.0.5"}, "127.0.0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1"})
			w := startNode(t, nodeSpec{alias: "w", host: "0.0.0.0", extra: tt.extra})
			x := startNode(t, nodeSpec{alias: "x", host: "127.0.0.3"})
			pa := startCluster(t, a, "127.0.0.1")
			pw := startCluster(t, w, "0.0.0.0")
			got := joinCluster(t, w, "127.0.0.1", pa)
			wAddr := got["w"]
			host, port, err := net.SplitHostPort(wAddr)
			if err != nil || port != strconv.Itoa(pw) {
				t.Fatalf("w joined and lists itself at %q, want HOST:%d", wAddr, pw)
			}
			if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || (tt.wantHost != "" && host != tt.wantHost) {
				t.Fatalf("w is published at %q: want a host that reaches it (%q)", wAddr, tt.wantHost)
			}
			want := map[string]string{"a": hostPort("127.0.0.1", pa), "w": wAddr}
			if !maps.Equal(got, want) {
				t.Errorf("w joined and lists %v, want %v", got, want)
			}
			checkMembers(t, a, listMembers(t, a), want)
			checkMembers(t, w, listMembers(t, w), want)

			// x joins through the published address of w.
			got = joinCluster(t, x, host, pw)
			want["x"] = got["x"]
			if got["x"] == "" || !maps.Equal(got, want) {
				t.Errorf("x joined through %s and lists %v, want %v", wAddr, got, want)
			}
			// x links to a in the background: wait for the full mesh.
			for _, p := range []*nodeProc{a, w, x} {
				waitMembers(t, p, want, waitFor)
			}
		})
	}
}

// TestClusterRefusesJoin: a node with an alias already in the cluster, or
// with another cookie, is refused; both sides say why and no member list
// changes.
func TestClusterRefusesJoin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		joiner    nodeSpec
		wantError string // regexp, on the joiner's standard error
		wantEvent string // regexp, the kind and reason of the event on a
	}{
		{"duplicate alias", nodeSpec{alias: "b"},
			`alias "b"`, `127\.0\.0\.4.* refused: .*alias "b"`},
		// A stranger is named by its source host (not its ephemeral
		// port), the bind host it dials from, and what it claims is
		// given as a claim.
		{"wrong cookie", nodeSpec{alias: "d", cookie: "not-the-secret/" + t.Name()},
			`cookie`, `127\.0\.0\.4 refused: .*cookie.*says it is "d" with its cluster port at 127\.0\.0\.4:\d+`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1"})
			b := startNode(t, nodeSpec{alias: "b", host: "127.0.0.2"})
			pa := startCluster(t, a, "127.0.0.1")
			pb := startCluster(t, b, "127.0.0.2")
			want := map[string]string{"a": hostPort("127.0.0.1", pa), "b": hostPort("127.0.0.2", pb)}
			joinCluster(t, b, "127.0.0.1", pa)
			checkMembers(t, a, listMembers(t, a), want)

			tt.joiner.host = "127.0.0.4"
			j := startNode(t, tt.joiner)
			pj := startCluster(t, j, "127.0.0.4")
			j.send(t, fmt.Sprintf("!join_cluster 127.0.0.1 %d", pa), "load $0 #7", "!registers")
			expectStderr(t, j, fmt.Sprintf(`(?m)^line 2: !join_cluster 127\.0\.0\.1 %d: .*%s`, pa, tt.wantError), waitFor)
			expect(t, j, `(?m)^\$0 = 7$`, waitFor)
			// a names the refused node by its address, and maybe its alias.
			expectEvent(t, a, `(?m)^cluster: .*`+tt.wantEvent, waitFor)

			// Nothing changed: the refused node is on no list, and lists
			// only itself.
			checkMembers(t, a, listMembers(t, a), want)
			checkMembers(t, b, listMembers(t, b), want)
			checkMembers(t, j, listMembers(t, j), map[string]string{tt.joiner.alias: hostPort("127.0.0.4", pj)})
			for _, p := range []*nodeProc{a, b} {
				if rx := regexp.MustCompile(`(?m)^cluster: .*127\.0\.0\.4.* (joined|rejoined|reconnected)`); rx.MatchString(p.stderr.buf.String()) {
					t.Errorf("node %q announced the refused node as a member:\n%s", p.alias, p.stderr.buf.String())
				}
			}
		})
	}
}

// TestClusterLostNode: when a process of a three-node mesh is killed with
// SIGKILL, the two others announce it lost and drop it within the failure
// timeout plus a margin. A process frozen with SIGSTOP, whose sockets stay
// open, is announced lost after the failure timeout (not before), and once
// thawed it is linked again to both.
func TestClusterLostNode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sig    syscall.Signal
		within time.Duration // bound on the announcement
	}{
		{"SIGKILL", syscall.SIGKILL, testFailureTimeout + 3*time.Second},
		// Detection of silence is deferred while the watching node
		// itself is starved of CPU (see docs/cluster.md), as it may be
		// on a busy test machine: hence the wider bound. It should be
		// announced "failed" alone; see cluster_bugs_test.go.
		{"SIGSTOP", syscall.SIGSTOP, waitFor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			procs, want := startMesh(t)
			a, b, c := procs[0], procs[1], procs[2]
			all := maps.Clone(want)
			lost := time.Now()
			if err := c.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			delete(want, "c")
			for _, p := range []*nodeProc{a, b} {
				expectEvent(t, p, eventRE("c", all["c"], "(link closed|failed)"), tt.within)
			}
			d := time.Since(lost)
			if d > tt.within {
				t.Errorf("the nodes took %v to announce the lost node, want at most %v", d, tt.within)
			}
			// A frozen node was heard from at most a heartbeat before it
			// froze.
			if tt.sig == syscall.SIGSTOP && d < testFailureTimeout-testHeartbeat {
				t.Errorf("the nodes announced the frozen node lost after %v, before the failure timeout %v", d, testFailureTimeout)
			}
			for _, p := range []*nodeProc{a, b} {
				checkMembers(t, p, listMembers(t, p), want)
			}
			if tt.sig != syscall.SIGSTOP {
				return
			}
			if err := c.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			for _, p := range procs {
				waitMembers(t, p, all, waitFor)
			}
		})
	}
}

// TestClusterLeave: a node that runs !leave_cluster, one whose REPL runs
// !quit and one whose input ends are announced as left (not failed) and
// dropped; a node that left can join again.
func TestClusterLeave(t *testing.T) {
	t.Parallel()
	procs, want := startMesh(t)
	a, b, c := procs[0], procs[1], procs[2]
	pa, _ := strconv.Atoi(strings.TrimPrefix(want["a"], "127.0.0.1:"))

	// b leaves with !leave_cluster.
	b.send(t, "!leave_cluster")
	expect(t, b, `(?m)^left the cluster$`, waitFor)
	bAddr := want["b"]
	delete(want, "b")
	for _, p := range []*nodeProc{a, c} {
		expectEvent(t, p, eventRE("b", bAddr, "left"), waitFor)
		checkMembers(t, p, listMembers(t, p), want)
	}
	b.send(t, "!cluster_members")
	expect(t, b, `(?m)^not in a cluster \(`, waitFor)

	// b joins again, through a; it learns c from a.
	got := joinCluster(t, b, "127.0.0.1", pa)
	want["b"] = got["b"]
	if host, _, _ := net.SplitHostPort(got["b"]); host != "127.0.0.2" || !maps.Equal(got, want) {
		t.Errorf("b joined again and lists %v, want %v with b on 127.0.0.2", got, want)
	}
	for _, p := range procs {
		waitMembers(t, p, want, waitFor)
	}

	// c runs !quit.
	c.send(t, "!quit")
	waitExit(t, c)
	for _, p := range []*nodeProc{a, b} {
		expectEvent(t, p, eventRE("c", want["c"], "left"), waitFor)
	}
	delete(want, "c")
	checkMembers(t, a, listMembers(t, a), want)
	checkMembers(t, b, listMembers(t, b), want)

	// b's input ends.
	b.stdin.Close()
	waitExit(t, b)
	expectEvent(t, a, eventRE("b", want["b"], "left"), waitFor)
	checkMembers(t, a, listMembers(t, a), map[string]string{"a": want["a"]})

	// None of them was reported failed, its link closed or reconnected.
	for _, p := range procs {
		if rx := regexp.MustCompile(`(?m)^cluster: "[abc]" .*(failed|link closed|reconnected)`); rx.MatchString(p.stderr.buf.String()) {
			t.Errorf("node %q reported a node that left as lost:\n%s", p.alias, p.stderr.buf.String())
		}
	}
}

// waitExit waits for p to exit by itself, with status 0.
func waitExit(t *testing.T, p *nodeProc) {
	t.Helper()
	select {
	case <-p.done:
		if p.waitErr != nil {
			t.Errorf("node %q exited with %v; stderr:\n%s", p.alias, p.waitErr, p.stderr.buf.String())
		}
	case <-time.After(waitFor):
		t.Fatalf("node %q did not exit within %v", p.alias, waitFor)
	}
}

// stayMembers polls !cluster_members on every one of procs for d and
// fails as soon as one does not list exactly want.
func stayMembers(t *testing.T, procs []*nodeProc, want map[string]string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for _, p := range procs {
			if got := memberMap(t, p, listMembers(t, p)); !maps.Equal(got, want) {
				t.Fatalf("node %q lists %v, want %v", p.alias, got, want)
			}
		}
	}
}

// TestClusterRejoin: a node restarted with the same alias and data
// directory (so the same node id) joins again, and every node lists it
// once, at its new address: after the old process died, and while the old
// process is frozen and still listed.
func TestClusterRejoin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		freeze bool // SIGSTOP the old process instead of killing it
		extra  []string
	}{
		{"after a kill", false, nil},
		// A second process while the old one is frozen (alive, holding
		// the node ID) is refused: see TestClusterSecondProcessRefused.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1", extra: tt.extra})
			b := startNode(t, nodeSpec{alias: "b", host: "127.0.0.2", extra: tt.extra})
			c := startNode(t, nodeSpec{alias: "c", host: "127.0.0.3", dataDir: dir, extra: tt.extra})
			pa := startCluster(t, a, "127.0.0.1")
			pb := startCluster(t, b, "127.0.0.2")
			pc := startCluster(t, c, "127.0.0.3")
			joinCluster(t, b, "127.0.0.1", pa)
			joinCluster(t, c, "127.0.0.1", pa)
			want := map[string]string{"a": hostPort("127.0.0.1", pa), "b": hostPort("127.0.0.2", pb), "c": hostPort("127.0.0.3", pc)}
			for _, p := range []*nodeProc{a, b, c} {
				waitMembers(t, p, want, waitFor)
			}

			if tt.freeze {
				if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := c.cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				<-c.done
				for _, p := range []*nodeProc{a, b} {
					expectEvent(t, p, eventRE("c", want["c"], "(link closed|failed)"), waitFor)
				}
			}

			c2 := startNode(t, nodeSpec{alias: "c", host: "127.0.0.3", dataDir: dir, extra: tt.extra})
			pc2 := startCluster(t, c2, "127.0.0.3")
			if pc2 == pc {
				t.Fatalf("the restarted node listens on the old port %d", pc)
			}
			want["c"] = hostPort("127.0.0.3", pc2)
			if got := joinCluster(t, c2, "127.0.0.1", pa); !maps.Equal(got, want) {
				t.Errorf("the restarted c joined and lists %v, want %v", got, want)
			}
			if tt.freeze {
				for _, p := range []*nodeProc{a, b} {
					expectEvent(t, p, eventRE("c", want["c"], "rejoined"), waitFor)
				}
				// The old run dies now; its links were replaced, so the
				// new c must stay.
				c.cmd.Process.Kill()
				<-c.done
			}
			for _, p := range []*nodeProc{a, b, c2} {
				waitMembers(t, p, want, waitFor)
			}
			if tt.freeze {
				// The death of the old run, whose links were replaced,
				// must not drop the new c: for ten heartbeats, every node
				// still lists it.
				stayMembers(t, []*nodeProc{a, b, c2}, want, 10*testHeartbeat)
				for _, p := range []*nodeProc{a, b} {
					if rx := regexp.MustCompile(eventRE("c", "", "(link closed|failed|left)")); rx.MatchString(p.stderr.buf.String()) {
						t.Errorf("node %q announced c lost:\n%s", p.alias, p.stderr.buf.String())
					}
				}
			}
		})
	}
}

// TestClusterStartErrors: !start_cluster twice says the node already
// listens; a port in use gives an error naming the address, the REPL goes
// on, and once the port is free !start_cluster works.
func TestClusterStartErrors(t *testing.T) {
	t.Parallel()
	t.Run("twice", func(t *testing.T) {
		t.Parallel()
		p := startNode(t, nodeSpec{alias: "a"})
		port := startCluster(t, p, "127.0.0.1")
		p.send(t, "!start_cluster")
		expect(t, p, `(?m)^the cluster node already listens on `+regexp.QuoteMeta(hostPort("127.0.0.1", port))+`$`, waitFor)
		if s := p.stderr.buf.String(); strings.Contains(s, "line ") {
			t.Errorf("stderr: %q, want no error", s)
		}
	})
	t.Run("join itself", func(t *testing.T) {
		t.Parallel()
		p := startNode(t, nodeSpec{alias: "a"})
		port := startCluster(t, p, "127.0.0.1")
		p.send(t, fmt.Sprintf("!join_cluster 127.0.0.1 %d", port), "load $0 #1", "!registers")
		expectStderr(t, p, fmt.Sprintf(`(?m)^line 2: !join_cluster 127\.0\.0\.1 %d: .*itself`, port), waitFor)
		expect(t, p, `(?m)^\$0 = 1$`, waitFor)
		checkMembers(t, p, listMembers(t, p), map[string]string{"a": hostPort("127.0.0.1", port)})
	})
	t.Run("port in use", func(t *testing.T) {
		t.Parallel()
		// A port of this test's alone: once l closes, no other test
		// can take it before the node does.
		port := testkit.Ports(t, 1)[0]
		l, err := net.Listen("tcp", hostPort("127.0.0.1", port))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		p := startNode(t, nodeSpec{alias: "a", port: port})
		p.send(t, "!start_cluster", "load $0 #1", "!registers")
		expectStderr(t, p, `(?m)^line 1: !start_cluster: .*`+regexp.QuoteMeta(hostPort("127.0.0.1", port))+`.*address already in use`, waitFor)
		expect(t, p, `(?m)^\$0 = 1$`, waitFor)
		if strings.Contains(p.stdout.buf.String(), "listening on") {
			t.Errorf("stdout says the node listens:\n%s", p.stdout.buf.String())
		}
		l.Close()
		if got := startCluster(t, p, "127.0.0.1"); got != port {
			t.Errorf("once the port was free, the node listens on %d, want %d", got, port)
		}
	})
}

// TestClusterJoinSilentPeer: joining a listener that accepts but never
// answers fails within a few seconds, the joiner hangs up, and the REPL
// goes on.
func TestClusterJoinSilentPeer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	hungUp := make(chan []byte, 1) // what the joiner sent, once it closed
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		got, _ := io.ReadAll(conn) // never writes; reads until the joiner closes
		hungUp <- got
	}()
	port := l.Addr().(*net.TCPAddr).Port

	p := startNode(t, nodeSpec{alias: "a"})
	startCluster(t, p, "127.0.0.1")
	began := time.Now()
	p.send(t, fmt.Sprintf("!join_cluster 127.0.0.1 %d", port), "load $0 #1", "!registers")
	expectStderr(t, p, fmt.Sprintf(`(?m)^line 2: !join_cluster 127\.0\.0\.1 %d: handshake timed out: %s sent no `, port, regexp.QuoteMeta(hostPort("127.0.0.1", port))), 10*time.Second)
	if d := time.Since(began); d >= 10*time.Second {
		t.Errorf("the join failed after %v, want less than 10s", d)
	}
	expect(t, p, `(?m)^\$0 = 1$`, waitFor)
	select {
	case got := <-hungUp:
		if len(got) == 0 {
			t.Errorf("the joiner sent nothing before hanging up")
		}
	case <-time.After(waitFor):
		t.Errorf("the joiner did not close its connection within %v of giving up", waitFor)
	}
	if rows := listMembers(t, p); len(rows) != 1 || !slices.ContainsFunc(rows, func(m listedMember) bool { return m.local }) {
		t.Errorf("after the failed join the node lists %v, want only itself", rows)
	}
}
