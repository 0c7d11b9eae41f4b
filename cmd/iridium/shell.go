package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/repl"
)

// runShell runs the REPL: interactive when stdin and stdout are a
// terminal, scripted otherwise. With -e the lines given are the script;
// with -i the file runs first, in the shell.
func runShell(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	interactive := isTerminal(stdin) && isTerminal(stdout)
	if len(o.evalLines) > 0 {
		stdin, interactive = strings.NewReader(strings.Join(o.evalLines, "\n")+"\n"), false
	}
	table := jobs.NewTable(o.maxJobs)
	node := &clusterNode{opts: o}
	svc := newSpawnService(o, table, node)
	sh, err := repl.New(repl.Options{
		LoadFirst:   o.interactFile,
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
		MaxJobs:     o.maxJobs,
		Jobs:        table,
		Remote:      svc,
	})
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	node.notify = sh.Notify
	sh.SetCluster(node)
	err = sh.Run(ctx)
	table.Close() // the jobs other members run here end as killed for them
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
