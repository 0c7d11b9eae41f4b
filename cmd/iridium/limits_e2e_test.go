package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/cluster"
)

// Tests of the limits of issue 19 ("a boundary that holds") with the
// real binary: guessable cookies refused, `iridium cookie`, and what one
// member may do to another.

// TestGuessableCookieRefused: a cookie an offline guesser would try first
// is refused, from every source, with what to do instead; the node does
// not start.
func TestGuessableCookieRefused(t *testing.T) {
	t.Parallel()
	r := runBinary(t, "", "-P", "0", "--cookie", "correct-horse-battery", "-e", "!start_cluster")
	if r.code != exitUsage || !strings.Contains(r.stderr, "the cookie from --cookie: the cluster cookie is easy to guess: it is made of common words") ||
		!strings.Contains(r.stderr, "'iridium cookie FILE'") {
		t.Errorf("--cookie correct-horse-battery: exit %d, stderr %q; want a usage error that says why and what to do", r.code, r.stderr)
	}
	r = runBinary(t, "", "-P", "0", "--cookie", "short", "-e", "!start_cluster")
	if r.code != exitUsage || !strings.Contains(r.stderr, "it has 5 bytes, fewer than 16") {
		t.Errorf("--cookie short: exit %d, stderr %q", r.code, r.stderr)
	}

	weakFile := filepath.Join(t.TempDir(), "cookie")
	if err := os.WriteFile(weakFile, []byte("password-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runBinary(t, "", "-P", "0", "--cookie-file", weakFile, "-e", "!start_cluster")
	if r.code != exitFailure || !strings.Contains(r.stderr, "the cookie from --cookie-file "+weakFile+": the cluster cookie is easy to guess") {
		t.Errorf("a weak --cookie-file: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCommand(t, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, iridiumBin, "-P", "0", "-e", "!start_cluster")
		cmd.Env = append(testEnv(t), cookieEnv+"=secret-cookie-1234")
		return cmd
	})
	if r.code != exitFailure || !strings.Contains(r.stderr, "the cookie from $IRIDIUM_COOKIE: the cluster cookie is easy to guess") {
		t.Errorf("a weak $IRIDIUM_COOKIE: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "listening") {
		t.Errorf("a node with a weak cookie started: %q", r.stdout+r.stderr)
	}
}

// TestCookieCommand: `iridium cookie FILE` writes a random cookie that
// passes the rule to a file of mode 600 and never prints it; it keeps an
// existing file unless --force; without FILE it writes the data
// directory's cookie, which a node then uses.
func TestCookieCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.cookie")
	r := runBinary(t, "", "cookie", path)
	if r.code != exitOK || !strings.Contains(r.stdout, "wrote a new cluster cookie to "+path+" (mode 600)") {
		t.Fatalf("iridium cookie: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	first := readCookie(t, path)
	if strings.Contains(r.stdout+r.stderr, string(first)) {
		t.Errorf("iridium cookie printed the cookie: %q", r.stdout+r.stderr)
	}

	r = runBinary(t, "", "cookie", path)
	if r.code != exitFailure || !strings.Contains(r.stderr, path+" exists; the nodes that use it would be locked out: give --force") {
		t.Errorf("iridium cookie over an existing file: exit %d, stderr %q", r.code, r.stderr)
	}
	if again := readCookie(t, path); string(again) != string(first) {
		t.Errorf("the refused run changed the file: %q, was %q", again, first)
	}
	r = runBinary(t, "", "cookie", "--force", path)
	if second := readCookie(t, path); r.code != exitOK || string(second) == string(first) {
		t.Errorf("iridium cookie --force: exit %d, stderr %q; the cookie is the same: %v", r.code, r.stderr, string(second) == string(first))
	}
	// A symbolic link where the file should be is an existing file.
	link := filepath.Join(dir, "link")
	os.Symlink(filepath.Join(dir, "elsewhere"), link)
	if r = runBinary(t, "", "cookie", link); r.code != exitFailure {
		t.Errorf("iridium cookie over a dangling link: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("iridium cookie wrote through a dangling link")
	}

	data := filepath.Join(dir, "data")
	r = runBinary(t, "", "cookie", "--data-root-dir", data)
	if r.code != exitOK {
		t.Fatalf("iridium cookie --data-root-dir: exit %d, stderr %q", r.code, r.stderr)
	}
	readCookie(t, filepath.Join(data, cluster.CookieFile))
	r = runBinary(t, "", "--data-root-dir", data, "-P", "0", "--node-alias", "a", "-e", "!start_cluster")
	if r.code != exitOK || !strings.Contains(r.stderr, "the cookie comes from "+filepath.Join(data, cluster.CookieFile)) {
		t.Errorf("a node on the written cookie: exit %d, stderr %q", r.code, r.stderr)
	}
}

// readCookie reads a cookie file and checks its mode and content.
func readCookie(t *testing.T, path string) []byte {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, perm)
	}
	cookie, err := cluster.ReadCookieFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).Match(cookie) || cluster.CheckCookie(cookie) != nil {
		t.Errorf("%s holds %q, want 64 hex digits that pass CheckCookie", path, cookie)
	}
	return cookie
}

// TestMemberStopsOnlyItsOwnJobsE2E: a member that asks another to stop a
// job it did not start (another member's, or one of that member's own
// shell) is refused, and the job runs on; its starter can stop it.
func TestMemberStopsOnlyItsOwnJobsE2E(t *testing.T) {
	t.Parallel()
	procs, _ := startMesh(t)
	a, b, c := procs[0], procs[1], procs[2]
	endless := writeTestFile(t, "endless.iasm", spawnEndless)
	a.send(t, "!spawn_on c "+endless)
	expect(t, a, `(?m)^\[job c:1\] `+q(endless)+` started on c as <\d+\.\d+>$`, waitFor)
	c.send(t, "!spawn "+endless)
	expect(t, c, `(?m)^\[job 2\] `+q(endless)+` started, process <\d+>$`, waitFor)

	b.send(t, "!kill c:1", "!kill c:2")
	expectStderr(t, b, `!kill c:1: c refused: job c:1 was not started by b: a member may stop only the jobs it started`, waitFor)
	expectStderr(t, b, `!kill c:2: c refused: job c:2 was not started by b`, waitFor)
	c.send(t, "!jobs")
	expect(t, c, `(?m)^1 +running +a +`+q(endless)+`$`, waitFor)
	expect(t, c, `(?m)^2 +running +local \(you\) +`+q(endless)+`$`, waitFor)

	a.send(t, "!kill c:1")
	expectStderr(t, a, `(?m)^\[job c:1\] `+q(endless)+` killed after `, waitFor)
	c.send(t, "!kill 2")
}

// TestRemoteJobLimitsE2E: --max-remote-jobs-per-member keeps places for
// the other members, and --remote-job-time-limit stops a job that runs
// too long, saying why.
func TestRemoteJobLimitsE2E(t *testing.T) {
	t.Parallel()
	procs, _ := startMesh(t, "--max-remote-jobs", "2", "--remote-job-time-limit", "2s")
	a, c := procs[0], procs[2]
	endless := writeTestFile(t, "endless.iasm", spawnEndless)
	a.send(t, "!spawn_on b "+endless)
	expect(t, a, `(?m)^\[job b:1\] `+q(endless)+` started on b as <\d+\.\d+>$`, waitFor)
	a.send(t, "!spawn_on b "+endless)
	expectStderr(t, a, `b refused: b runs 1 programs for a already, the most it takes from one member \(--max-remote-jobs-per-member\)`, waitFor)
	c.send(t, "!spawn_on b "+endless)
	expect(t, c, `(?m)^\[job b:2\] `+q(endless)+` started on b as <\d+\.\d+>$`, waitFor)
	expectStderr(t, a, `(?m)^\[job b:1\] `+q(endless)+` killed after \S+: stopped: b lets a program of another member run 2s at most \(--remote-job-time-limit\)`, waitFor)
}
