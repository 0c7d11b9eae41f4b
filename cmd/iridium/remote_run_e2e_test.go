package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/repl"
)

// fibSource is docs/examples/fib.iasm, the program of the new user's
// report: its labels are used before their definition.
func fibSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "fib.iasm"))
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// badProgram fails to assemble on its line 3, column 9.
const badProgram = ".code\n    load $0 #1\n    jmp @nowhere\n"

// TestRemoteRunProgram: "ssh host run < FILE" runs the whole input as one
// program on the node, as iridium FILE runs a file (output, messages,
// exit status); so does a program piped into the session's shell.
func TestRemoteRunProgram(t *testing.T) {
	t.Parallel()
	n, key := newRemoteNode(t)
	fib := fibSource(t)

	r := n.ssh(t, key, fib, "run")
	if r.code != filecmd.ExitOK || r.stdout != "fib(20) = 6765\n" || r.stderr != "" {
		t.Errorf("run < fib.iasm: status %d, stdout %q, stderr %q; want 0 and fib(20) = 6765 alone", r.code, r.stdout, r.stderr)
	}
	r = n.ssh(t, key, fib, "run --registers")
	if r.code != filecmd.ExitOK || !strings.HasPrefix(r.stdout, "fib(20) = 6765") || !strings.Contains(r.stdout, "$0 = 6765\n$1 = 4181\n$2 = 2\n") {
		t.Errorf("run --registers: status %d, stdout %q; want 0, the output and the registers", r.code, r.stdout)
	}

	r = n.ssh(t, key, badProgram, "run")
	caret := regexp.MustCompile(`(?m)^iridium: stdin:3:9: .*\n        jmp @nowhere\n            \^$`)
	if r.code != filecmd.ExitFailure || !caret.MatchString(r.stderr) || r.stdout != "" {
		t.Errorf("run < bad program: status %d, stdout %q, stderr:\n%s\nwant %d and the error at stdin:3:9 with its line and caret", r.code, r.stdout, r.stderr, filecmd.ExitFailure)
	}
	// A fault is told as iridium FILE tells it, with the input for FILE.
	const fault = ".data\nm: .asciiz 'kept\\n'\n.code\nprts @m\nload $1 #0\ndiv $0 $1 $2\n"
	file := writeTestFile(t, "stdin", fault)
	local := runBinary(t, "", file)
	r = n.ssh(t, key, fault, "run")
	if r.code != local.code || r.stdout != local.stdout || r.stderr != strings.Replace(local.stderr, file, "stdin", 1) || r.code != filecmd.ExitFailure {
		t.Errorf("run < faulting program: status %d, stdout %q, stderr %q; want what iridium FILE gives: %d, %q, %q",
			r.code, r.stdout, r.stderr, local.code, local.stdout, local.stderr)
	}

	for _, bad := range []struct{ command, input, want string }{
		{"run fib.iasm", fib, `run takes the program on its input, not the file name "fib.iasm"`},
		{"run --bogus", fib, "flag provided but not defined: -bogus"},
	} {
		r = n.ssh(t, key, bad.input, bad.command)
		if r.code != filecmd.ExitUsage || !strings.Contains(r.stderr, bad.want) || !strings.Contains(r.stderr, "usage: ssh -p PORT HOST run") {
			t.Errorf("%s: status %d, stderr %q; want %d, %q and the usage", bad.command, r.code, r.stderr, filecmd.ExitUsage, bad.want)
		}
	}
	r = n.ssh(t, key, "", "run")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, "no program on the input") {
		t.Errorf("run with no input: status %d, stderr %q; want %d and no program", r.code, r.stderr, filecmd.ExitFailure)
	}
	huge := ".data\nx: .asciiz '" + strings.Repeat("x", repl.MaxProgramInput) + "'\n"
	r = n.ssh(t, key, huge, "run")
	if r.code != filecmd.ExitFailure || !strings.Contains(r.stderr, fmt.Sprintf("the program is over %d bytes", repl.MaxProgramInput)) {
		t.Errorf("run of %d bytes: status %d, stderr %q; want %d and over the limit", len(huge), r.code, r.stderr, filecmd.ExitFailure)
	}

	// The program piped into the shell, with no command: assembled whole.
	r = n.ssh(t, key, fib, "")
	if r.code != filecmd.ExitOK || r.stdout != "fib(20) = 6765\n" || r.stderr != "" {
		t.Errorf("ssh < fib.iasm: status %d, stdout %q, stderr %q; want 0 and fib(20) = 6765", r.code, r.stdout, r.stderr)
	}
}

// TestPipedProgram: a program file piped into the REPL is assembled and
// run whole, as iridium FILE runs it; a script of REPL lines, even one
// that starts with .data, still runs line by line.
func TestPipedProgram(t *testing.T) {
	t.Parallel()
	fib := fibSource(t)
	tests := []struct {
		name       string
		stdin      string
		wantCode   int
		wantStdout string // exact
		wantStderr string // a regular expression; "" wants nothing
	}{
		{"fib.iasm", fib, 0, "fib(20) = 6765\n", ""},
		{"assembly error", badProgram, 1, "", `^stdin:3:9: .*\n        jmp @nowhere\n            \^\n$`},
		{"fault", "; divide\n\n.code\nload $1 #0\ndiv $0 $1 $2\n", 1, "", `^stdin: fault: pc 4: div \$0 \$1 \$2: division by zero`},
		{"a script that starts with .data", ".data\nx: .asciiz 'ab'\n.code\nprts @x\nload $3 #3\n!registers\n", 0, "ab\n$3 = 3\n", ""},
		{"a script without a section", "load $0 #2\nloop: dec $0\n", 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, tt.stdin, "--data-root-dir", t.TempDir())
			if r.code != tt.wantCode || r.stdout != tt.wantStdout {
				t.Errorf("status %d, stdout %q; want %d, %q; stderr:\n%s", r.code, r.stdout, tt.wantCode, tt.wantStdout, r.stderr)
			}
			if tt.wantStderr == "" && r.stderr != "" || !regexp.MustCompile(tt.wantStderr).MatchString(r.stderr) {
				t.Errorf("stderr:\n%s\nwant it to match %s", r.stderr, tt.wantStderr)
			}
		})
	}
}

// TestJoinForeignPort: --join to an SSH port, or to an HTTP server, says
// what that port is and where the cluster port is, not that a frame is too
// large; an HTTP client on the cluster port is answered in HTTP.
func TestJoinForeignPort(t *testing.T) {
	t.Parallel()
	n, _ := newRemoteNode(t, "-P", "0")
	web := startHTTPServer(t)
	for _, tt := range []struct{ addr, want string }{
		{n.sshAddr, "that is an SSH port, not a cluster port (it sent an SSH version line); a node's cluster port is the one it listens on with -P/--server-bind-port, 2254 unless set"},
		{web, "that is an HTTP port, not a cluster port (it sent an HTTP response)"},
	} {
		r := runBinary(t, "", "--data-root-dir", t.TempDir(), "-P", "0", "--node-alias", "joiner", "--cookie", testCookie+"/"+t.Name(),
			"--join", tt.addr, "-e", "!cluster_members")
		want := fmt.Sprintf("iridium: --join %s: ", tt.addr)
		if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "exceeds") {
			t.Errorf("--join %s: stderr:\n%s\nwant %q ... %q", tt.addr, r.stderr, want, tt.want)
		}
	}

	m := expectStderr(t, n.nodeProc, `msg="cluster listening" addr=(\S+)`, waitFor)
	resp, err := http.Get("http://" + m[1] + "/")
	if err != nil {
		t.Fatalf("GET on the cluster port: %v", err)
	}
	body := make([]byte, 512)
	k, _ := resp.Body.Read(body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body[:k]), `this is the cluster port of Iridium node "a", not an HTTP port`) {
		t.Errorf("GET on the cluster port: %s, body %q; want 400 and what the port is", resp.Status, body[:k])
	}
	expectStderr(t, n.nodeProc, `refused.* err="not an Iridium cluster node: it sent an HTTP request to the cluster port`, waitFor)
}

// startHTTPServer answers each connection on a free loopback port with an
// HTTP 400 response as soon as it has read something, until the test ends,
// and returns its address. (A real HTTP server answers a request line it
// cannot parse once it has read the line's end, which a cluster Hello may
// not have; the join then times out instead.)
func startHTTPServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.Read(make([]byte, 4096))
				conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}()
		}
	}()
	return l.Addr().String()
}

// TestRemoteRunStopsWithItsConnection: a program that "run" started
// stops when its client goes away, and the node goes on.
func TestRemoteRunStopsWithItsConnection(t *testing.T) {
	t.Parallel()
	n, key := newRemoteNode(t)
	cmd := n.sshCommand(t.Context(), key, "accept-new", nil, "run")
	// The program says it runs before it spins: the connection is cut
	// only once the program has its whole input and has started.
	cmd.Stdin = strings.NewReader(".data\nup: .asciiz 'spinning\\n'\n.code\nprts @up\nload $0 #0\neq $0 $0\nspin: djmpe @spin\n")
	out := new(testkit.Buffer)
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m := expectStderr(t, n.nodeProc, `msg="session opened" session=(\d+) .* kind=run`, waitFor)
	testkit.Eventually(t, waitFor, "the program's first line", func() bool { return strings.Contains(out.String(), "spinning") })
	cmd.Process.Kill()
	cmd.Wait()
	expectStderr(t, n.nodeProc, `msg="session closed" session=`+m[1]+` .* exit_status=130`, waitFor)
	if r := n.ssh(t, key, fibSource(t), "run"); r.code != 0 || r.stdout != "fib(20) = 6765\n" {
		t.Errorf("run after a dropped one: status %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
