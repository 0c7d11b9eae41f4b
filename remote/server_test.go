package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// testWait bounds every wait of these tests.
const testWait = 10 * time.Second

// lineShell is a Shell for the server's tests: it answers each input line
// with "SESSION-KEY-FINGERPRINT line" and exits with status 3 after the
// line "fail", else 0 at the end of the input.
type lineShell struct {
	io ShellIO
}

func (s *lineShell) Run(ctx context.Context) int {
	sc := bufio.NewScanner(s.io.Stdin)
	for sc.Scan() {
		if sc.Text() == "width" && s.io.Terminal != nil {
			fmt.Fprintf(s.io.Stdout, "width %d term %s\n", s.io.Terminal.Width(), s.io.Terminal.Term())
			continue
		}
		fmt.Fprintf(s.io.Stdout, "%s %s\n", s.io.Session.Fingerprint, sc.Text())
		if sc.Text() == "fail" {
			return 3
		}
	}
	return 0
}

func (s *lineShell) Interrupt() bool { return false }

// newKey returns a new ed25519 signer.
func newKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startServer starts a server on 127.0.0.1 that authorizes keys, with
// change applied to its Config, and returns it, its address and its log.
func startServer(t testing.TB, change func(*Config), keys ...ssh.PublicKey) (*Server, string, *testkit.Buffer) {
	t.Helper()
	dir := t.TempDir()
	var authorized bytes.Buffer
	for i, k := range keys {
		fmt.Fprintf(&authorized, "%s key%d@test\n", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), i)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), authorized.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &testkit.Buffer{}
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.HostKeyPath = filepath.Join(dir, "host_key")
	cfg.AuthorizedKeysPath = filepath.Join(dir, "authorized_keys")
	cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	cfg.NewShell = func(sio ShellIO) (Shell, error) { return &lineShell{io: sio}, nil }
	if change != nil {
		change(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, addr, log
}

// dial logs in to addr with auth.
func dial(addr string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "anyone",
		Auth:            auth,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         testWait,
	})
}

// checkLogIn logs in with key and out again, and fails the test, saying
// what, unless the login succeeds exactly when want is true.
func checkLogIn(t *testing.T, addr string, key ssh.Signer, want bool, what string) {
	t.Helper()
	c, err := dial(addr, ssh.PublicKeys(key))
	if err == nil {
		c.Close()
	}
	switch {
	case want && err != nil:
		t.Fatalf("%s: %v", what, err)
	case !want && err == nil:
		t.Fatal(what)
	}
}

// loggedIn starts a server that authorizes one new key, and returns a
// client logged in with it (closed when the test ends) and the address.
func loggedIn(t *testing.T) (*ssh.Client, string) {
	t.Helper()
	key := newKey(t)
	_, addr, _ := startServer(t, nil, key.PublicKey())
	c, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, addr
}

// waitLog waits until log holds want count times: the server logs a
// refusal after the client has seen the connection close.
func waitLog(t *testing.T, log *testkit.Buffer, want string, count int) {
	t.Helper()
	testkit.EventuallyNil(t, testWait, fmt.Sprintf("%q %d times in the log", want, count), func() error {
		if got := strings.Count(log.String(), want); got != count {
			return fmt.Errorf("the log holds it %d times:\n%s", got, log.String())
		}
		return nil
	})
}

// execOn runs command in a new session of c and returns its output and
// exit status.
func execOn(t *testing.T, c *ssh.Client, command string) (string, int) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer sess.Close()
	out, err := sess.Output(command)
	if exit, ok := err.(*ssh.ExitError); ok {
		return string(out), exit.ExitStatus()
	}
	if err != nil {
		t.Fatalf("exec %q: %v", command, err)
	}
	return string(out), 0
}

// TestOnlyPublicKeys: a password, keyboard-interactive and no
// authentication at all are refused, an unknown key too, and each refusal
// is logged with the client's address.
func TestOnlyPublicKeys(t *testing.T) {
	t.Parallel()
	good := newKey(t)
	_, addr, log := startServer(t, nil, good.PublicKey())
	answer := func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		return make([]string, len(questions)), nil
	}
	for name, auth := range map[string][]ssh.AuthMethod{
		"password":             {ssh.Password("hunter2")},
		"keyboard-interactive": {ssh.KeyboardInteractive(answer)},
		"none":                 nil,
		"unknown key":          {ssh.PublicKeys(newKey(t))},
	} {
		c, err := dial(addr, auth...)
		if err == nil {
			c.Close()
			t.Errorf("%s: logged in", name)
			continue
		}
		if !strings.Contains(err.Error(), "unable to authenticate") || !strings.Contains(err.Error(), "no supported methods remain") && name != "unknown key" {
			t.Errorf("%s: %v, want an authentication failure with publickey the only method", name, err)
		}
	}
	c, err := dial(addr, ssh.PublicKeys(good))
	if err != nil {
		t.Fatalf("authorized key: %v", err)
	}
	defer c.Close()
	if out, status := execOn(t, c, "hello\nfail\nnot run"); status != 3 || out != ssh.FingerprintSHA256(good.PublicKey())+" hello\n"+ssh.FingerprintSHA256(good.PublicKey())+" fail\n" {
		t.Errorf("exec: %q, status %d; want two lines and 3", out, status)
	}
	waitLog(t, log, `msg="refused connection" from=127.0.0.1:`, 4)
}

// forgedSigner claims an authorized public key but signs with another
// key, as a client that knows the authorized public key only would.
type forgedSigner struct {
	claimed ssh.PublicKey
	signer  ssh.Signer
}

func (f forgedSigner) PublicKey() ssh.PublicKey { return f.claimed }
func (f forgedSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return f.signer.Sign(r, data)
}

// TestAuthorisesTheKeyThatSigned: a client that offers an authorized
// public key it cannot sign for is refused (x/crypto/ssh ends the
// handshake at the bad signature, after PublicKeyCallback accepted the
// key); a session runs as the key that signed, recorded by
// VerifiedPublicKeyCallback.
func TestAuthorisesTheKeyThatSigned(t *testing.T) {
	t.Parallel()
	victim, attacker := newKey(t), newKey(t)
	_, addr, log := startServer(t, nil, victim.PublicKey(), attacker.PublicKey())
	forged := forgedSigner{claimed: victim.PublicKey(), signer: newKey(t)}
	checkLogIn(t, addr, forged, false, "logged in with a forged signature")
	waitLog(t, log, "signature did not verify", 1)
	c, err := dial(addr, ssh.PublicKeys(attacker))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, _ := execOn(t, c, "who")
	if want := ssh.FingerprintSHA256(attacker.PublicKey()) + " who\n"; out != want {
		t.Errorf("session as %q, want %q (the key that signed)", out, want)
	}
}

// TestNoAuthorizedKey: a server with no usable key does not start, and
// says how to add one; skipped lines are named.
func TestNoAuthorizedKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(newKey(t).PublicKey())))
	os.WriteFile(keys, []byte("# a comment\n\nnot a key\ncommand=\"/bin/sh\" "+pub+" restricted\n"), 0o600)
	cfg := DefaultConfig()
	cfg.HostKeyPath, cfg.AuthorizedKeysPath = filepath.Join(dir, "host"), keys
	cfg.NewShell = func(ShellIO) (Shell, error) { return nil, nil }
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "no authorized key in "+keys) || !strings.Contains(err.Error(), ".pub >> "+keys) {
		t.Fatalf("error %v, want no authorized key and how to add one", err)
	}
	got, warnings := parseAuthorizedKeys("f", []byte("# c\n\nnot a key\ncommand=\"x\" "+pub+" r\n"+pub+" kept@host\n"))
	want := []string{"f:3: not a public key, skipped", "f:4: key options such as from= or command= are not supported; the key is skipped"}
	if len(got) != 1 || strings.Join(warnings, "|") != strings.Join(want, "|") {
		t.Errorf("parsed %v, warnings %q; want one key and %q", got, warnings, want)
	}
	for _, k := range got {
		if k.comment != "kept@host" {
			t.Errorf("comment %q, want kept@host", k.comment)
		}
	}
}

// FuzzParseAuthorizedKeys: any file parses without panicking, and every
// key it yields is a public key again.
func FuzzParseAuthorizedKeys(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	pub := ssh.MarshalAuthorizedKey(signer.PublicKey())
	f.Add(pub)
	f.Add([]byte("# comment\n\n" + string(pub) + "from=\"10.0.0.1\" " + string(pub)))
	f.Add([]byte("ssh-ed25519 AAAA\x00\x01 x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, _ := parseAuthorizedKeys("f", data)
		for wire := range keys {
			if _, err := ssh.ParsePublicKey([]byte(wire)); err != nil {
				t.Errorf("kept a key that does not parse: %v", err)
			}
		}
	})
}

// TestAuthorizedKeysReloaded: a key added to the file while the server
// runs logs in without a restart; a key removed no longer does.
func TestAuthorizedKeysReloaded(t *testing.T) {
	t.Parallel()
	first, second := newKey(t), newKey(t)
	srv, addr, _ := startServer(t, nil, first.PublicKey())
	path := srv.cfg.AuthorizedKeysPath
	checkLogIn(t, addr, second, false, "a key not yet authorized logged in")
	// A different size, so the change is seen whatever the clock's grain.
	data := "# reloaded\n" + string(ssh.MarshalAuthorizedKey(second.PublicKey()))
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	checkLogIn(t, addr, second, true, "an added key")
	checkLogIn(t, addr, first, false, "a removed key logged in")
}

// TestHostKeyKept: the host key is made 0600 once and read back; a key
// file others may read, and a FIFO, are refused.
func TestHostKeyKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "key")
	k1, created, err := LoadOrCreateHostKey(path)
	if err != nil || !created {
		t.Fatalf("first: %v, created %v", err, created)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateHostKey(path)
	if err != nil || created || !bytes.Equal(k1.PublicKey().Marshal(), k2.PublicKey().Marshal()) {
		t.Fatalf("second: %v, created %v, same key %v", err, created, err == nil && bytes.Equal(k1.PublicKey().Marshal(), k2.PublicKey().Marshal()))
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a readable key: %v, want a refusal that says chmod 600", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	if _, _, err := LoadOrCreateHostKey(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: %v, want not a regular file", err)
	}
}

// TestSessionLimits: past MaxSessions a connection is refused, and
// logged.
func TestSessionLimits(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	_, addr, log := startServer(t, func(c *Config) { c.MaxSessions = 1 }, key.PublicKey())
	first, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// The client's handshake can end before the server counts the
	// connection: a session on it shows the server has.
	if out, status := execOn(t, first, "first"); status != 0 || !strings.HasSuffix(out, " first\n") {
		t.Fatalf("the first connection: %q, status %d", out, status)
	}
	second, err := dial(addr, ssh.PublicKeys(key))
	if err == nil {
		// The handshake may finish before the server drops the
		// connection: then nothing can be done on it.
		_, err = second.NewSession()
		second.Close()
	}
	if err == nil {
		t.Error("a second connection opened a session past MaxSessions 1")
	}
	waitLog(t, log, "already 1 connections", 1)
	if out, status := execOn(t, first, "first"); status != 0 || !strings.HasSuffix(out, " first\n") {
		t.Errorf("the first connection after the refusal: %q, status %d", out, status)
	}
}

// TestIdleTimeout: a connection that carries nothing for IdleTimeout is
// closed, not before.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	const idle = 300 * time.Millisecond
	_, addr, _ := startServer(t, func(c *Config) { c.IdleTimeout = idle }, key.PublicKey())
	c, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- c.Wait() }()
	select {
	case <-closed:
		if d := time.Since(start); d < idle/2 {
			t.Errorf("closed after %v, before the idle timeout %v", d, idle)
		}
	case <-time.After(testWait):
		t.Fatal("an idle connection stayed open past IdleTimeout")
	}
}

// TestRefusalLogBounded: past LogsPerInterval refusals are counted, then
// logged as one summary.
func TestRefusalLogBounded(t *testing.T) {
	t.Parallel()
	var log testkit.Buffer
	r := newRefusalLog(slog.New(slog.NewTextHandler(&log, nil)), time.Hour, 3)
	for i := range 100 {
		r.refuse(fmt.Sprintf("10.0.0.%d:%d", i%7, 1000+i), "junk")
	}
	r.close()
	if got := strings.Count(log.String(), `msg="refused connection"`); got != 3 {
		t.Errorf("%d refusals logged one by one, want 3:\n%s", got, log.String())
	}
	if !strings.Contains(log.String(), `msg="refused more connections" count=97 hosts=7`) {
		t.Errorf("no summary of the other 97 from 7 hosts:\n%s", log.String())
	}
}

// TestCRLFWriter: line ends become CR LF once, whatever the writes.
func TestCRLFWriter(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb", "a\r\nb"},
		{"\n\n", "\r\n\r\n"},
		{"none", "none"},
	} {
		var b bytes.Buffer
		n, err := crlfWriter{&b}.Write([]byte(tt.in))
		if err != nil || n != len(tt.in) || b.String() != tt.want {
			t.Errorf("%q: wrote %q (n %d, %v), want %q", tt.in, b.String(), n, err, tt.want)
		}
	}
}

// TestInputPump: Ctrl-C interrupts a running program and is dropped; at
// the prompt it passes on; the rest of the input is kept in order.
func TestInputPump(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	sh := &countingShell{running: true}
	ref := &shellRef{}
	ref.set(sh)
	p := newInputPump(pr, ref)
	defer p.Close()
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(p)
		got <- string(b)
	}()
	pw.Write([]byte("ab\x03c"))
	testkit.Eventually(t, testWait, "Ctrl-C during a program to interrupt it", func() bool { return sh.count() > 0 })
	sh.setRunning(false)
	pw.Write([]byte("\x03d"))
	pw.Close()
	if g := <-got; g != "abc\x03d" || sh.count() != 1 {
		t.Errorf("read %q, %d interrupts; want \"abc\\x03d\" and 1", g, sh.count())
	}
}

// countingShell counts interruptions while it is "running".
type countingShell struct {
	mu         sync.Mutex
	running    bool
	interrupts int
}

func (c *countingShell) Run(context.Context) int { return 0 }

func (c *countingShell) Interrupt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		c.interrupts++
	}
	return c.running
}

func (c *countingShell) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupts
}

func (c *countingShell) setRunning(on bool) {
	c.mu.Lock()
	c.running = on
	c.mu.Unlock()
}

// floodShell writes until its output fails or its session ends, and
// reports when it stops.
type floodShell struct {
	io      ShellIO
	stopped chan struct{}
}

func (f *floodShell) Run(ctx context.Context) int {
	defer close(f.stopped)
	chunk := bytes.Repeat([]byte("x"), 1024)
	for ctx.Err() == nil {
		if _, err := f.io.Stdout.Write(chunk); err != nil {
			return 1
		}
	}
	return 1
}

func (f *floodShell) Interrupt() bool { return false }

// TestClientThatNeverReads: a session whose client reads none of its
// output holds up no other session; dropping its connection stops its
// program, and Close does not hang on it.
func TestClientThatNeverReads(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	stopped := make(chan struct{})
	srv, addr, _ := startServer(t, func(c *Config) {
		c.NewShell = func(sio ShellIO) (Shell, error) {
			if sio.Session.ID == 1 {
				return &floodShell{io: sio, stopped: stopped}, nil
			}
			return &lineShell{io: sio}, nil
		}
	}, key.PublicKey())
	stuck, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := stuck.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("flood"); err != nil { // its output is never read
		t.Fatal(err)
	}
	other, err := dial(addr, ssh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if out, status := execOn(t, other, "still here"); status != 0 || !strings.HasSuffix(out, " still here\n") {
		t.Errorf("another session beside a stuck one: %q, status %d", out, status)
	}
	stuck.Close() // the connection drops mid-program
	select {
	case <-stopped:
	case <-time.After(testWait):
		t.Fatal("the program of a dropped connection did not stop")
	}
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(testWait):
		t.Fatal("Close hung")
	}
}

// TestOutputPump: writes from many goroutines arrive whole and in each
// writer's order; after close, writes fail and nothing more is sent.
func TestOutputPump(t *testing.T) {
	t.Parallel()
	var out, errOut testkit.Buffer
	p := newOutputPump(&out, &errOut)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(p.stdout(), "w%d-%03d\n", w, i)
			}
		}()
	}
	fmt.Fprint(p.stderr(), "to stderr\n")
	wg.Wait()
	p.close()
	if _, err := p.stdout().Write([]byte("late\n")); err == nil {
		t.Error("a write after close succeeded")
	}
	next := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var w, i int
		if _, err := fmt.Sscanf(line, "w%d-%03d", &w, &i); err != nil {
			t.Fatalf("a torn line %q", line)
		}
		key := fmt.Sprint(w)
		if i != next[key] {
			t.Fatalf("writer %d: line %d after %d", w, i, next[key]-1)
		}
		next[key]++
	}
	if len(next) != 4 || errOut.String() != "to stderr\n" {
		t.Errorf("writers seen %v, stderr %q", next, errOut.String())
	}
}

// TestTerminalSession: a pty request gives the shell a Terminal with the
// client's TERM and width, which window-change requests update; output
// lines end with CR LF for the raw terminal.
func TestTerminalSession(t *testing.T) {
	t.Parallel()
	c, _ := loggedIn(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestPty("xterm-256color", 24, 100, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	outPipe, _ := sess.StdoutPipe()
	out := bufio.NewReader(outPipe)
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	ask := func(want string) {
		t.Helper()
		deadline := time.Now().Add(testWait)
		for {
			io.WriteString(in, "width\n")
			line, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if line == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("got %q, want %q", line, want)
			}
		}
	}
	ask("width 100 term xterm-256color\r\n")
	if err := sess.WindowChange(30, 5000); err != nil {
		t.Fatal(err)
	}
	ask(fmt.Sprintf("width %d term xterm-256color\r\n", maxWidth))
	if err := sess.WindowChange(30, 50); err != nil {
		t.Fatal(err)
	}
	ask("width 50 term xterm-256color\r\n")
}

// TestNoForwarding: a logged-in client can open sessions only: no
// connection through the node (direct-tcpip), no listener on it
// (tcpip-forward), no subsystem such as sftp.
func TestNoForwarding(t *testing.T) {
	t.Parallel()
	c, addr := loggedIn(t)
	if conn, err := c.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("a direct-tcpip channel was opened")
	}
	if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
		t.Error("a remote forwarding listener was opened")
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("the sftp subsystem was accepted")
	}
	if out, status := execOn(t, c, "still fine"); status != 0 || !strings.HasSuffix(out, " still fine\n") {
		t.Errorf("after the refusals: %q, status %d", out, status)
	}
}

// holdIdle is a hostile client: from the local address src it opens a
// connection to addr, reads the server's version line (the server has
// taken it) and sends nothing, and opens another as soon as the server
// closes it, until ctx ends. held counts its connections the server has
// taken and still holds; peak is the most held at once.
func holdIdle(ctx context.Context, addr, src string, held, peak *atomic.Int64) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: testWait}
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			conn.SetReadDeadline(time.Now().Add(testWait))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err == nil && strings.HasPrefix(line, "SSH-") {
				n := held.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				conn.SetReadDeadline(time.Time{})
				io.Copy(io.Discard, conn) // until the server closes it
				held.Add(-1)
			}
			stop()
			conn.Close()
		}
		// Pace the re-opening a little, so that the churn of connections
		// closed and opened again does not take the test's whole CPU.
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// loginWithin logs in to addr with key, the whole handshake bounded by
// limit.
func loginWithin(addr string, key ssh.Signer, limit time.Duration) (*ssh.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, limit)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(limit))
	sconn, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:            "anyone",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(sconn, chans, reqs), nil
}

// TestIdleConnectionsDoNotLockOut is the hostile peer of the handshake
// table: a stranger holds more than MaxHandshakes idle connections from
// four addresses, opening a new one whenever one is closed; a real key
// must still log in within a few seconds, and the closed connections must
// not flood the log.
func TestIdleConnectionsDoNotLockOut(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	// Deadlines longer than the test: only making room in the handshake
	// table, not a timeout, can let the login in.
	srv, addr, log := startServer(t, func(c *Config) {
		c.VersionTimeout, c.AuthTimeout = time.Minute, time.Minute
	}, key.PublicKey())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	var held, peak atomic.Int64
	for i := range srv.cfg.MaxHandshakes + 4 {
		src := fmt.Sprintf("127.0.0.%d", 2+i%4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			holdIdle(ctx, addr, src, &held, &peak)
		}()
	}
	testkit.EventuallyNil(t, testWait, fmt.Sprintf("the hostile client to hold %d connections at once", srv.cfg.MaxHandshakes), func() error {
		if p := peak.Load(); p < int64(srv.cfg.MaxHandshakes) {
			return fmt.Errorf("peak %d", p)
		}
		return nil
	})
	const within = 5 * time.Second
	start := time.Now()
	var tries int
	for {
		tries++
		c, err := loginWithin(addr, key, within-time.Since(start))
		if err == nil {
			out, status := execOn(t, c, "hello")
			c.Close()
			if status != 0 || !strings.HasSuffix(out, " hello\n") {
				t.Errorf("the session after the login: %q, status %d", out, status)
			}
			break
		}
		if time.Since(start) >= within {
			t.Fatalf("no login within %v while %d idle connections were held (%d tries, last: %v)", within, held.Load(), tries, err)
		}
		time.Sleep(10 * time.Millisecond) // pace the tries; the deadline above bounds them
	}
	cancel()
	wg.Wait()
	if got := strings.Count(log.String(), `msg="refused connection"`); got > srv.cfg.LogsPerInterval {
		t.Errorf("%d refusals logged one by one, want at most %d", got, srv.cfg.LogsPerInterval)
	}
}

// TestVersionTimeout: a connection that sends nothing is closed after
// VersionTimeout, long before AuthTimeout, and logged as such; one that
// sent its version line is held to AuthTimeout only.
func TestVersionTimeout(t *testing.T) {
	t.Parallel()
	const versionTimeout = 200 * time.Millisecond
	_, addr, log := startServer(t, func(c *Config) {
		c.VersionTimeout, c.AuthTimeout = versionTimeout, time.Minute
	}, newKey(t).PublicKey())

	// Timed from before the dial: the server may accept, and start its
	// clock, before a loaded scheduler lets Dial return.
	start := time.Now()
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(start.Add(testWait))
	if _, err := io.Copy(io.Discard, silent); err != nil {
		t.Fatalf("a silent connection was not closed by the server: %v", err)
	}
	if d := time.Since(start); d < versionTimeout {
		t.Errorf("a silent connection closed after %v, before VersionTimeout %v", d, versionTimeout)
	}
	waitLog(t, log, "no SSH version line within 200ms", 1)

	talker, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer talker.Close()
	if _, err := talker.Write([]byte("a line before the version\r\nSSH-2.0-test\r\n")); err != nil {
		t.Fatal(err)
	}
	talker.SetReadDeadline(time.Now().Add(5 * versionTimeout))
	_, err = io.Copy(io.Discard, talker)
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("a connection that sent its version line was closed within 5*VersionTimeout (%v), want it held to AuthTimeout", err)
	}
}

// TestAuthorizedKeysWritableByOthers: an authorized keys file, or its
// directory, that its group or others may write is refused at start with
// the path and the chmod that fixes it; when it becomes so later, the keys
// read before stay, a key added meanwhile is not taken, and the problem is
// logged once, not at every connection.
func TestAuthorizedKeysWritableByOthers(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	line := ssh.MarshalAuthorizedKey(key.PublicKey())
	for _, tt := range []struct {
		name              string
		fileMode, dirMode os.FileMode
		wantPathIsTheDir  bool
	}{
		{"group-writable file", 0o620, 0o700, false},
		{"world-writable file", 0o606, 0o700, false},
		{"group-writable directory", 0o600, 0o770, true},
		{"world-writable directory", 0o600, 0o1777, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			path := filepath.Join(dir, "authorized_keys")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, line, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := errors.Join(os.Chmod(path, tt.fileMode), os.Chmod(dir, tt.dirMode)); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.HostKeyPath = filepath.Join(t.TempDir(), "host_key")
			cfg.AuthorizedKeysPath = path
			cfg.NewShell = func(sio ShellIO) (Shell, error) { return &lineShell{io: sio}, nil }
			named := path
			if tt.wantPathIsTheDir {
				named = dir
			}
			_, err := New(cfg)
			if !errors.Is(err, ErrWritableByOthers) || !strings.Contains(err.Error(), "chmod go-w "+named) {
				t.Errorf("New: %v, want %v naming %s and its chmod go-w", err, ErrWritableByOthers, named)
			}
		})
	}

	other := newKey(t)
	srv, addr, log := startServer(t, nil, key.PublicKey())
	path := srv.cfg.AuthorizedKeysPath
	data := append(append([]byte("# another key\n"), line...), ssh.MarshalAuthorizedKey(other.PublicKey())...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		checkLogIn(t, addr, key, true, "a key read before the file became writable by others")
		checkLogIn(t, addr, other, false, "a key added to a file writable by others logged in")
	}
	waitLog(t, log, "chmod go-w "+path, 1)
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	checkLogIn(t, addr, other, true, "the added key after chmod go-w")
}
