package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/iridium-vm/iridium/repl"
	"github.com/iridium-vm/iridium/vm"
)

// runShell runs the REPL: interactive when stdin and stdout are a
// terminal, scripted otherwise.
func runShell(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	interactive := isTerminal(stdin) && isTerminal(stdout)
	sh, err := repl.New(repl.Options{
		Stdin:       stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		Interactive: interactive,
		Color:       interactive && !o.noColor && os.Getenv("NO_COLOR") == "",
		FailFast:    o.failFast,
		DataDir:     o.dataDir,
		Version:     version,
		StackLimit:  o.stackLimit,
		HeapLimit:   o.heapLimit,
		HeapBudget:  vm.NewHeapBudget(o.heapTotal),
		MaxJobs:     o.maxJobs,
	})
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	node := &clusterNode{opts: o, notify: sh.Notify}
	sh.SetCluster(node)
	err = sh.Run(ctx)
	node.shutdown()
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, repl.ErrFailed):
		return exitFailure
	case ctx.Err() != nil:
		return exitSignal
	}
	fmt.Fprintf(stderr, "iridium: %v\n", err)
	return exitFailure
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
