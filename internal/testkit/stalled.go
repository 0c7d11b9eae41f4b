package testkit

import (
	"bytes"
	"sync"
)

// StalledWriter is a destination that stops reading, as a terminal or a
// pipe whose reader has stalled: every Write blocks until Release, then
// keeps what it was given.
type StalledWriter struct {
	release chan struct{}
	once    sync.Once
	// Entered gets a token when a Write starts waiting.
	Entered chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

// NewStalledWriter returns a StalledWriter that is not yet released.
func NewStalledWriter() *StalledWriter {
	return &StalledWriter{release: make(chan struct{}), Entered: make(chan struct{}, 1)}
}

// Write waits until Release, then keeps p.
func (w *StalledWriter) Write(p []byte) (int, error) {
	select {
	case w.Entered <- struct{}{}:
	default:
	}
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// Release lets every Write, waiting or to come, through; calling it again
// does nothing.
func (w *StalledWriter) Release() { w.once.Do(func() { close(w.release) }) }

// String returns everything written so far.
func (w *StalledWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
