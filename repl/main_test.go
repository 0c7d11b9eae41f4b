package repl

import (
	"testing"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestMain fails the run if the tests leave goroutines running.
//
// Known leak: readline's input loop outlives a terminal source that was
// closed. Closing its stdin makes the loop read io.EOF, which it hands to
// a buffered channel nobody reads once the source is closed (Close has
// filled it already); the loop then blocks for ever on the next io.EOF.
// One goroutine per interactive shell that ends before its process does
// (an SSH session with a terminal). It is repl/input.go's terminalSource
// to fix (TestNotifyWhileLinesAreEntered shows it).
func TestMain(m *testing.M) {
	testkit.Main(m, "github.com/chzyer/readline.(*Operation).ioloop")
}
