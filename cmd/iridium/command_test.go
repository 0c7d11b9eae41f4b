package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/vm"
)

// TestFileRunFlags: a file run's flags are parsed by the one parser the
// shell's flags are, before or after the file, and a bad value of one of
// them is a usage error in that parser's words.
func TestFileRunFlags(t *testing.T) {
	type runFlags struct {
		registers             bool
		stackLimit, heapLimit int
	}
	def := runFlags{false, vm.DefaultStackLimit, vm.DefaultHeapLimit}
	cases := []struct {
		args  []string
		files []string
		want  runFlags
		err   string // "" for none
	}{
		{[]string{"a.iasm"}, []string{"a.iasm"}, def, ""},
		{[]string{"--registers", "a.iasm"}, []string{"a.iasm"}, runFlags{true, def.stackLimit, def.heapLimit}, ""},
		{[]string{"a.iasm", "-registers", "--stack-limit", "7", "--heap-limit=9"}, []string{"a.iasm"}, runFlags{true, 7, 9}, ""},
		{[]string{"--", "-odd.iasm"}, []string{"-odd.iasm"}, def, ""},
		{[]string{"--no-color", "a.iasm", "--max-jobs", "3"}, []string{"a.iasm"}, def, ""}, // a shell flag beside a file
		{[]string{"a.iasm", "b.iasm"}, []string{"a.iasm", "b.iasm"}, def, ""},              // run says one at a time
		{nil, nil, def, ""}, // the shell
		{[]string{"--stack-limit", "0", "a.iasm"}, nil, def, "--stack-limit and --heap-limit must be positive"},
		{[]string{"--heap-limit", "x", "a.iasm"}, nil, def, `invalid value "x" for flag -heap-limit`},
		{[]string{"--stack-limit"}, nil, def, "flag needs an argument: -stack-limit"},
		{[]string{"-e", "nop", "a.iasm"}, nil, def, "-e and -i run in the REPL"},
	}
	for _, c := range cases {
		o, files, err := parseOptions(c.args, io.Discard)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseOptions(%q): error %v; want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseOptions(%q): %v", c.args, err)
			continue
		}
		got := runFlags{o.registers, o.stackLimit, o.heapLimit}
		if got != c.want || strings.Join(files, "\x00") != strings.Join(c.files, "\x00") {
			t.Errorf("parseOptions(%q) = %+v, files %q; want %+v, %q", c.args, got, files, c.want, c.files)
		}
	}
}

// copyBinary copies the built iridium, alone, into a new directory and
// returns its path there.
func copyBinary(t *testing.T) string {
	t.Helper()
	src, err := os.Open(iridiumBin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "iridium")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// runIn runs bin with args in dir (this one if "") and env, and returns
// its output and exit status.
func runIn(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	return runCommand(t, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	})
}

// decoys puts an executable iridium-node, the second binary of the
// two-binary build, next to bin and in a new directory, and returns that
// directory and the file a decoy creates when it is run.
func decoys(t *testing.T, bin string) (dir, ran string) {
	t.Helper()
	dir, ran = t.TempDir(), filepath.Join(t.TempDir(), "ran")
	script := "#!/bin/sh\necho decoy ran >>" + ran + "\necho decoy\nexit 3\n"
	for _, d := range []string{dir, filepath.Dir(bin)} {
		if err := os.WriteFile(filepath.Join(d, "iridium-node"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, ran
}

// TestOneBinary: every mode is this binary's own work. With an
// iridium-node next to it and first on $PATH (which the two-binary build
// would exec), the version, the help, a usage error, a script and a file
// run come from iridium, the decoy never runs, and a running shell is one
// process whose name, the one ps shows, is iridium and whose executable is
// this binary.
func TestOneBinary(t *testing.T) {
	t.Parallel()
	bin := copyBinary(t)
	dir, ran := decoys(t, bin)
	env := append(testEnv(t), "PATH="+dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	hello := filepath.Join("..", "..", "docs", "examples", "hello.iasm")
	for _, c := range []struct {
		args   []string
		code   int
		stdout string // contained
		stderr string // contained
	}{
		{[]string{"--version"}, 0, "iridium " + version + "\n", ""},
		{[]string{"--help"}, 0, "", "Usage:\n  iridium [flags] FILE"},
		{[]string{"--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"-e", "load $0 #3", "-e", "!registers"}, 0, "$0 = 3\n", ""},
		{[]string{"--no-color", hello}, 0, "Hello, world!\n", ""},
	} {
		r := runIn(t, bin, "", env, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) || strings.Contains(r.stdout+r.stderr, "decoy") {
			t.Errorf("iridium %q: %+v; want status %d, %q on stdout and %q on stderr, from iridium", c.args, r, c.code, c.stdout, c.stderr)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The shell answers a line: it is running, past any exec it could do.
	if _, err := io.WriteString(stdin, "load $0 #5\n!registers\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "$0 = 5\n" {
		t.Fatalf("the shell's first line: %q, %v; want $0 = 5", line, err)
	}
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "comm"))
	if err != nil {
		t.Skipf("no /proc to read the process's name from: %v", err)
	}
	if string(comm) != "iridium\n" {
		t.Errorf("the shell's process name (ps, /proc/PID/comm) is %q; want iridium", comm)
	}
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "exe"))
	if want, _ := filepath.EvalSymlinks(bin); err != nil || exe != want {
		t.Errorf("the shell's executable is %q (%v); want %s", exe, err, want)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("the shell, its input closed: %v; want status 0", err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Errorf("a decoy iridium-node ran")
	}
}
