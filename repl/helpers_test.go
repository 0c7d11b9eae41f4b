package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/vm/asm"
)

// lockedBuffer is a bytes.Buffer that spawned programs may write to while
// a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testShell is a scripted Shell on in-memory streams.
type testShell struct {
	*Shell
	out, err *lockedBuffer
}

func newTestShell(t *testing.T, input string, opts Options) *testShell {
	t.Helper()
	ts := &testShell{out: &lockedBuffer{}, err: &lockedBuffer{}}
	opts.Stdin = strings.NewReader(input)
	opts.Stdout, opts.Stderr = ts.out, ts.err
	sh, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { sh.Close() })
	ts.Shell = sh
	return ts
}

// exec runs lines that must all succeed.
func (ts *testShell) exec(t *testing.T, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if err := ts.Execute(context.Background(), l); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
	}
}

// writeFile writes a file in a test's temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeBytecode assembles src and writes it as a bytecode file.
func writeBytecode(t *testing.T, name, src string) string {
	t.Helper()
	p, err := asm.Assemble(name, src)
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name, string(data))
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const helloSrc = `.data
hello: .asciiz 'Hello, world!\n'
.code
start:  prts @hello
        load $5 #42
        hlt
`

// endlessSrc loops until it is stopped.
const endlessSrc = `.code
        load $0 #0
        eq $0 $0
spin:   djmpe @spin
`

const faultSrc = `.code
        load $1 #0
        div $0 $1 $2
`
