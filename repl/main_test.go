package repl

import (
	"testing"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestMain fails the run if the tests leave goroutines running.
func TestMain(m *testing.M) { testkit.Main(m) }
