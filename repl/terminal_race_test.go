package repl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixedTerminal is a Terminal of a fixed width.
type fixedTerminal struct{}

func (fixedTerminal) Width() int      { return 80 }
func (fixedTerminal) OnResize(func()) {}

// Messages that arrive while lines are entered are written above the
// edited line without touching readline's line buffer at the moment
// readline empties it for Enter (which it does without the buffer's
// lock): under the race detector this test failed before the console
// stopped redrawing from the key that ends the line on.
func TestNotifyWhileLinesAreEntered(t *testing.T) {
	in, feed := io.Pipe()
	sh, err := New(Options{Stdin: in, Stdout: io.Discard, Stderr: io.Discard, Interactive: true, Terminal: fixedTerminal{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				sh.Notify(fmt.Sprintf("event %d", i))
			}
		}
	}()
	for i := 0; i < 300; i++ {
		line := "nop\r"
		if i%3 == 0 {
			line = "no\x03" // Ctrl-C empties the line too
		}
		if _, err := io.WriteString(feed, line); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	io.WriteString(feed, "!quit\r")
	close(stop)
	wg.Wait()
	select {
	case err := <-done:
		if err != nil && !strings.Contains(err.Error(), "quit") {
			t.Fatalf("Run: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the shell did not end")
	}
	feed.Close()
}
