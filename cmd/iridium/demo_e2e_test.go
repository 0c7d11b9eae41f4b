package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestDemoClusterScript runs scripts/demo-cluster.sh, detached, with the
// built binary, on a tmux server of the test's own, and checks that every
// pane lists all three nodes at their listen addresses.
func TestDemoClusterScript(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("skipped: tmux is not installed (make test installs it when run as root)")
	}
	t.Parallel()
	ports := testkit.Ports(t, 3) // the script must be told them
	tmpDir := t.TempDir()
	env := append(testEnv(t),
		"IRIDIUM_BIN="+iridiumBin,
		"IRIDIUM_DEMO_SESSION=demo-test",
		"IRIDIUM_DEMO_ATTACH=0",
		fmt.Sprintf("IRIDIUM_DEMO_PORTS=%d %d %d", ports[0], ports[1], ports[2]),
		"TMUX_TMPDIR="+t.TempDir(), // a tmux server of this test's own
		"TMPDIR="+tmpDir,
		"TMUX=",
	)
	tmux := tmuxWith(env)
	t.Cleanup(func() { tmux("kill-server") })

	script := exec.Command("bash", filepath.Join("..", "..", "scripts", "demo-cluster.sh"))
	script.Env = env
	if out, err := script.CombinedOutput(); err != nil {
		t.Fatalf("demo-cluster.sh: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for pane := range 3 {
		var screen string
		for {
			screen, _ = tmux("capture-pane", "-p", "-J", "-t", fmt.Sprintf("demo-test:cluster.%d", pane))
			if listsAll(screen, ports) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pane %d does not list the three nodes at 127.0.0.1:%v:\n%s", pane, ports, screen)
			}
			time.Sleep(100 * time.Millisecond) // polling tmux's screen, with a deadline
		}
		if !strings.Contains(screen, fmt.Sprintf("node%d (this node)", pane+1)) {
			t.Errorf("pane %d does not mark node%d as itself:\n%s", pane, pane+1, screen)
		}
	}

	// Ending the session removes the data directory, cookies included
	// (issue 12, item 11).
	dirs, err := filepath.Glob(filepath.Join(tmpDir, "iridium-demo.*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("data directories under TMPDIR: %v, %v; want one", dirs, err)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "node1", "cookie")); err != nil {
		t.Fatalf("the demo's cookie: %v", err)
	}
	if out, err := tmux("kill-session", "-t", "demo-test"); err != nil {
		t.Fatalf("tmux kill-session: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		if _, err := os.Stat(dirs[0]); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still there after the session ended", dirs[0])
		}
		time.Sleep(100 * time.Millisecond) // polling the file system, with a deadline
	}
}

// listsAll reports whether a screen shows a member table with node1 to
// node3 at the ports, in that order.
func listsAll(screen string, ports []int) bool {
	for i, port := range ports {
		found := false
		for _, line := range strings.Split(screen, "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == fmt.Sprintf("node%d", i+1) && strings.Contains(line, fmt.Sprintf("127.0.0.1:%d ", port)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
