package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestReadBodyGrows: bodies around the first chunk's size and far past
// it arrive whole, in any read sizes, and the budget is whole again
// after each, read or failed.
func TestReadBodyGrows(t *testing.T) {
	t.Parallel()
	budget := newByteBudget(1 << 20)
	for _, size := range []int{0, 1, bodyChunk - 1, bodyChunk, bodyChunk + 1, 3*bodyChunk + 7, 1<<20 - 1} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(i * 7)
		}
		readers := map[string]func(io.Reader) io.Reader{
			"whole":    func(r io.Reader) io.Reader { return r },
			"half":     iotest.HalfReader,
			"data+err": iotest.DataErrReader,
		}
		for name, wrap := range readers {
			t.Run(fmt.Sprintf("%d/%s", size, name), func(t *testing.T) {
				got, err := readBody(wrap(bytes.NewReader(body)), size, budget, nil)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("read %d bytes, %v; want the %d sent", len(got), err, size)
				}
				if size > 0 {
					if _, err := readBody(wrap(bytes.NewReader(body[:size-1])), size, budget, nil); err != io.ErrUnexpectedEOF {
						t.Errorf("a body one byte short: %v, want io.ErrUnexpectedEOF", err)
					}
				}
				if budget.free != 1<<20 {
					t.Errorf("budget %d after the read, want all of %d back", budget.free, 1<<20)
				}
			})
		}
	}
}

// stallReader gives its bytes, then blocks until released, as a peer that
// stops sending halfway.
type stallReader struct {
	r       io.Reader
	release chan struct{}
}

func (s stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		<-s.release
		return 0, io.ErrUnexpectedEOF
	}
	return n, err
}

// TestPartialFramesShareTheBudget: a frame that would take more than the
// budget has left waits, holding nothing but its first chunk, until the
// frame that holds it ends; closing its link ends the wait.
func TestPartialFramesShareTheBudget(t *testing.T) {
	const size = 4 * bodyChunk
	budget := newByteBudget(size) // one large frame at a time
	stalled := stallReader{r: bytes.NewReader(make([]byte, size/2)), release: make(chan struct{})}
	first := make(chan error, 1)
	go func() {
		_, err := readBody(stalled, size, budget, nil)
		first <- err
	}()
	testkit.Eventually(t, testSlack, "the first frame takes the budget", func() bool {
		budget.mu.Lock()
		defer budget.mu.Unlock()
		return budget.free < size
	})
	second := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		_, err := readBody(bytes.NewReader(make([]byte, size)), size, budget, done)
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("the second frame read past the budget: %v", err)
	case <-time.After(50 * time.Millisecond): // a bound on a wrong answer, not a synchronisation
	}
	close(done)
	if err := <-second; !errors.Is(err, errLinkEnded) {
		t.Errorf("the waiting frame's link closed: %v, want errLinkEnded", err)
	}
	close(stalled.release)
	if err := <-first; err != io.ErrUnexpectedEOF {
		t.Errorf("the stalled frame: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := readBody(bytes.NewReader(make([]byte, size)), size, budget, nil); err != nil {
		t.Errorf("a frame after both ended: %v", err)
	}
	if budget.free != size {
		t.Errorf("budget %d at the end, want all of %d back", budget.free, size)
	}
}
