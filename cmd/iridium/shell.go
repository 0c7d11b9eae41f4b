package main

import (
	"context"
	"fmt"
	"io"
)

// runShell starts the REPL. Placeholder until the REPL lands.
func runShell(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "iridium: the REPL is not built yet; give a file to run")
	return exitUsage
}
