package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/cluster"
)

// TestClusterSecondProcessRefused: a second process with the same data
// directory and alias as a running node (so the same node ID) refuses to
// start its cluster node and says that another process holds it; the
// first stays a member. Without --node-alias both processes take the data
// directory's node ID as their alias: the second says the same (it used
// to say "a node cannot join itself", which was not the cause).
func TestClusterSecondProcessRefused(t *testing.T) {
	t.Parallel()
	for _, alias := range []string{"c", ""} {
		name := "alias " + alias
		if alias == "" {
			name = "no alias"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1"})
			c := startNode(t, nodeSpec{alias: alias, host: "127.0.0.3", dataDir: dir})
			pa := startCluster(t, a, "127.0.0.1")
			startCluster(t, c, "127.0.0.3")
			want := joinCluster(t, c, "127.0.0.1", pa)
			waitMembers(t, a, want, waitFor)

			second := startNode(t, nodeSpec{alias: alias, host: "127.0.0.3", dataDir: dir})
			second.send(t, "!start_cluster", fmt.Sprintf("!join_cluster 127.0.0.1 %d", pa), "load $0 #7", "!registers")
			expectStderr(t, second, `(?m)^line 1: !start_cluster: .*another process holds .*node_id`, waitFor)
			expectStderr(t, second, `(?m)^line 2: !join_cluster 127\.0\.0\.1 \d+: .*another process holds`, waitFor)
			expect(t, second, `(?m)^\$0 = 7$`, waitFor)
			if out := second.stderr.buf.String(); strings.Contains(out, "cannot join itself") {
				t.Errorf("the second process blames a self-join:\n%s", out)
			}
			stayMembers(t, []*nodeProc{a, c}, want, 10*testHeartbeat)
		})
	}
}

// TestNodeAliasCheckedAtStart: an alias that breaks the rules is refused
// when the program starts (exit status 2, one line naming the flag and
// the rule), not at the first cluster command.
func TestNodeAliasCheckedAtStart(t *testing.T) {
	t.Parallel()
	for _, alias := range []string{"has space", "esc\x1b[2J", strings.Repeat("x", 65)} {
		r := runBinary(t, "", "--node-alias", alias)
		out := r.stdout + r.stderr
		if r.code != 2 {
			t.Errorf("--node-alias %q: exit status %d, want 2\n%s", alias, r.code, out)
			continue
		}
		first, _, _ := strings.Cut(out, "\n")
		if !strings.Contains(first, "--node-alias") || !strings.Contains(first, "printable characters without spaces") ||
			strings.ContainsRune(first, '\x1b') {
			t.Errorf("--node-alias %q: first line %q, want the flag and the rule, escaped", alias, first)
		}
	}
}

// TestClusterKilledMemberIsListedFailedThenDropped: after kill -9, the
// others list the member as failed, with since when, while they redial
// it, and drop it with an event when the reconnect window ends.
func TestClusterKilledMemberIsListedFailedThenDropped(t *testing.T) {
	t.Parallel()
	extra := []string{"--reconnect-for", "3s"}
	a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1", extra: extra})
	c := startNode(t, nodeSpec{alias: "c", host: "127.0.0.3", extra: extra})
	pa := startCluster(t, a, "127.0.0.1")
	pc := startCluster(t, c, "127.0.0.3")
	joinCluster(t, c, "127.0.0.1", pa)
	waitMembers(t, a, map[string]string{"a": hostPort("127.0.0.1", pa), "c": hostPort("127.0.0.3", pc)}, waitFor)

	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.done
	expectEvent(t, a, eventRE("c", hostPort("127.0.0.3", pc), "(link closed|failed)"), waitFor)
	failed := false
	for _, r := range listMembers(t, a) {
		if r.alias == "c" && r.state == "failed" {
			failed = true
		}
	}
	if !failed {
		t.Errorf("a does not list c as failed right after the kill:\n%s", a.stdout.buf.String())
	}
	expectEvent(t, a, eventRE("c", hostPort("127.0.0.3", pc), "dropped"), waitFor)
	for _, r := range listMembers(t, a) {
		if r.alias == "c" {
			t.Errorf("a still lists c after dropping it: %+v", r)
		}
	}
}

// vmRSS is the resident memory of process pid, in bytes, from /proc.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// TestClusterCookieFileMustBeRegular: a cookie file that is a FIFO, or a
// link to /dev/zero, whether the data directory's or --cookie-file's, is
// refused by !start_cluster at once with an error naming the kind of
// file, and the program carries on. (The old program hung on the FIFO,
// and read /dev/zero until it was killed at 256 MiB.)
func TestClusterCookieFileMustBeRegular(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, want string
		make       func(path string) error
		flag       bool // give the file with --cookie-file, not in the data directory
	}{
		{"FIFO", "FIFO", func(path string) error { return syscall.Mkfifo(path, 0o600) }, false},
		{"link to /dev/zero", "character device", func(path string) error { return os.Symlink("/dev/zero", path) }, false},
		// --cookie-file's is checked at start-up: TestNewUserB7CheckedAtStart.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, cluster.CookieFile)
			extra := []string{"--cookie", ""} // no --cookie: the data directory's file
			if tt.flag {
				path = filepath.Join(t.TempDir(), "secret")
				extra = append(extra, "--cookie-file", path)
			}
			if err := tt.make(path); err != nil {
				t.Fatal(err)
			}
			p := startNode(t, nodeSpec{alias: "a", dataDir: dir, extra: extra})
			p.send(t, "!start_cluster", "load $0 #7", "!registers")
			// Poll for the answer after the refusal; a process that grows
			// over 256 MiB meanwhile is killed at once.
			const limit = 256 << 20
			var peak int64
			deadline := time.Now().Add(waitFor)
			for !strings.Contains(p.stdout.buf.String(), "$0 = 7") {
				if rss, err := vmRSS(p.cmd.Process.Pid); err == nil {
					peak = max(peak, rss)
				}
				switch {
				case peak > limit:
					p.cmd.Process.Kill()
					t.Fatalf("the process grew to %d MiB (killed)", peak>>20)
				case time.Now().After(deadline):
					t.Fatalf("no answer within %v (peak RSS %d MiB)", waitFor, peak>>20)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// Written before "$0 = 7", but through another pipe, whose
			// copy into the test's buffer may come later: wait for it.
			expectStderr(t, p, `(?m)^line 1: !start_cluster: .*`+regexp.QuoteMeta(tt.want), waitFor)
		})
	}
}
