package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// iridiumBin is the path of the iridium binary built once by TestMain for
// the end-to-end tests of this package.
var iridiumBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iridium-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	iridiumBin = filepath.Join(dir, "iridium")
	args := []string{"build", "-o", iridiumBin}
	if testkit.RaceEnabled { // go test -race: the binary under test too
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building iridium: %v\n", err)
		os.Exit(1)
	}
	// The tests compare the REPL's banner with version, the constant the
	// binary was built with; the binary must say it too.
	out, err := exec.Command(iridiumBin, "--version").Output()
	if string(out) != "iridium "+version+"\n" || err != nil {
		fmt.Fprintf(os.Stderr, "iridium --version: %q, %v; want iridium %s\n", out, err, version)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is how a run of the binary ended.
type result struct {
	stdout, stderr string
	code           int
}

// runBinary runs the built binary with args and stdin, with a deadline,
// and an isolated data directory so no test touches the user's.
func runBinary(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCommand(t, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, iridiumBin, args...)
		cmd.Env = testEnv(t)
		cmd.Stdin = strings.NewReader(stdin)
		return cmd
	})
}

// runCommand runs the command newCmd makes with the context it is given,
// and returns its output and exit status. The test fails if the command
// cannot be started or does not finish within 60 seconds.
func runCommand(t *testing.T, newCmd func(ctx context.Context) *exec.Cmd) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := newCmd(ctx)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q did not finish in time; stdout:\n%s\nstderr:\n%s", cmd.Args, out.String(), errOut.String())
	}
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("running %q: %v", cmd.Args, err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// testEnv is the environment of a test run of the binary: an isolated data
// directory, no colour, and no second of sleep at exit from the race
// detector.
func testEnv(t *testing.T) []string {
	return append(os.Environ(), "XDG_DATA_HOME="+t.TempDir(), "NO_COLOR=1", "GORACE=atexit_sleep_ms=0")
}
