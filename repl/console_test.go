package repl

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// stuckWriter is a terminal that does not read: Write blocks until
// release is closed, and tells entered of each call.
type stuckWriter struct {
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.entered <- struct{}{}
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// A terminal that does not read holds up the goroutines that print, not
// the console's state: the line editor can still begin and end a line,
// and what waits is written whole and in order once the terminal reads.
func TestConsoleStateNotHeldDuringWrites(t *testing.T) {
	w := &stuckWriter{entered: make(chan struct{}, 8), release: make(chan struct{})}
	c := newConsole(w, w, false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Write([]byte("first, no newline")) }()
	select {
	case <-w.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first write never reached the terminal")
	}
	wg.Add(1)
	go func() { defer wg.Done(); c.print(nil, "second") }()

	edited := make(chan struct{})
	go func() {
		c.beginEdit()
		c.endEdit()
		close(edited)
	}()
	select {
	case <-edited:
	case <-time.After(5 * time.Second):
		t.Fatal("beginEdit and endEdit wait for a terminal that does not read")
	}
	close(w.release)
	wg.Wait()
	w.mu.Lock()
	got := w.buf.String()
	w.mu.Unlock()
	if want := "first, no newline\nsecond\n"; got != want {
		t.Errorf("the terminal got %q, want %q", got, want)
	}
}
