package main

import (
	"bufio"
	"context"
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

	"github.com/iridium-vm/iridium/internal/testkit"
)

// quickStartMarker precedes the README's quick start block.
const quickStartMarker = "<!-- quick start: TestReadmeQuickStart runs these lines -->"

// readmeQuickStart returns the lines of the README's quick start block.
func readmeQuickStart(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), quickStartMarker+"\n```sh\n")
	if !ok {
		t.Fatalf("README.md has no %q followed by a sh block", quickStartMarker)
	}
	block, _, _ = strings.Cut(block, "```")
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(block))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

var (
	backgroundLine = regexp.MustCompile(`\s*&\s*(#.*)?$`)
	logFile        = regexp.MustCompile(`2> (\S+)`)
)

// TestReadmeQuickStart runs the README's first lines, the shortest path
// to a cluster doing work, as a user would: the built binary stands for
// the installed one, the ports are free ones instead of 2254 to 2256, and
// where the user would wait for a daemon to come up (and join), the test
// polls its log.
func TestReadmeQuickStart(t *testing.T) {
	t.Parallel()
	dir, env := t.TempDir(), installedEnv(t)
	ports := testkit.Ports(t, 3)
	ported := strings.NewReplacer("2254", strconv.Itoa(ports[0]), "2255", strconv.Itoa(ports[1]), "2256", strconv.Itoa(ports[2]))
	var outputs []string
	for _, line := range readmeQuickStart(t) {
		line = ported.Replace(line)
		if strings.HasPrefix(line, "go install ") {
			continue // the test built the binary
		}
		if !backgroundLine.MatchString(line) {
			r := runCommand(t, func(ctx context.Context) *exec.Cmd {
				cmd := exec.CommandContext(ctx, "bash", "-c", line)
				cmd.Dir, cmd.Env = dir, env
				return cmd
			})
			if r.code != 0 {
				t.Fatalf("%s: status %d, stdout %q, stderr %q", line, r.code, r.stdout, r.stderr)
			}
			outputs = append(outputs, r.stdout)
			continue
		}
		cmd := exec.Command("bash", "-c", "exec "+backgroundLine.ReplaceAllString(line, ""))
		cmd.Dir, cmd.Env = dir, env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
		m := logFile.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s: a daemon of the quick start logs to no file", line)
		}
		waitLog(t, filepath.Join(dir, m[1]), "cluster listening")
		if strings.Contains(line, "--join") {
			waitLog(t, filepath.Join(dir, m[1]), "joined the cluster of")
		}
	}
	if len(outputs) != 3 {
		t.Fatalf("the quick start printed %d times, want 3 (echo, the spawn, the status): %q", len(outputs), outputs)
	}
	for _, alias := range []string{"a", "b", "c"} {
		if !regexp.MustCompile(`(?m)^` + alias + ` +done +\S+ +\$0 = 42 `).MatchString(outputs[1]) {
			t.Errorf("!spawn_all's table has no row of %s done with $0 = 42:\n%s", alias, outputs[1])
		}
	}
	for _, want := range []string{fmt.Sprintf(`node: "a" at 127.0.0.1:%d`, ports[0]), fmt.Sprintf(`node: "b" at 127.0.0.1:%d`, ports[1]), "members: 2", "jobs: 1"} {
		if !strings.Contains(outputs[2], want) {
			t.Errorf("iridium status has no %q:\n%s", want, outputs[2])
		}
	}
}

// installedEnv is testEnv with the built binary first on PATH as
// iridium, as a user who installed it has it.
func installedEnv(t *testing.T) []string {
	t.Helper()
	binDir := t.TempDir()
	if err := os.Symlink(iridiumBin, filepath.Join(binDir, "iridium")); err != nil {
		t.Fatal(err)
	}
	return append(testEnv(t), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// waitLog polls the log file at path until it holds text.
func waitLog(t *testing.T, path, text string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no %q within %v:\n%s", path, text, waitFor, data)
		}
		time.Sleep(20 * time.Millisecond) // polling a file, with a deadline
	}
}
