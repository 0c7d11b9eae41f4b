package repl

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/vm/asm"
)

// testShell is a scripted Shell on in-memory streams.
type testShell struct {
	*Shell
	out, err *testkit.Buffer
}

func newTestShell(t *testing.T, input string, opts Options) *testShell {
	t.Helper()
	ts := &testShell{out: &testkit.Buffer{}, err: &testkit.Buffer{}}
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

// waitTimeout bounds every wait of a test for something another
// goroutine does.
const waitTimeout = 10 * time.Second

// waitJob waits on job id's done signal, which is closed once the job
// has stopped and its end has been announced.
func waitJob(t *testing.T, ts *testShell, id int) {
	t.Helper()
	j, err := ts.jobs.Lookup(strconv.Itoa(id))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-j.Done():
	case <-time.After(waitTimeout):
		t.Fatalf("job %d did not stop within %v", id, waitTimeout)
	}
}

// interruptUntil calls Interrupt until the line running on another
// goroutine ends, and returns its error: Interrupt does nothing until that
// line has started, and nothing signals that it has. It waits on done
// between tries, for at most waitTimeout.
func interruptUntil(t *testing.T, ts *testShell, what string, done <-chan error) error {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ts.Interrupt()
		select {
		case err := <-done:
			return err
		case <-deadline.C:
			t.Fatalf("%s did not stop within %v of being interrupted", what, waitTimeout)
		case <-tick.C:
		}
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
