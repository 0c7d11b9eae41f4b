package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// runShell runs the REPL: interactive when stdin and stdout are a
// terminal, scripted otherwise.
func runShell(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	interactive := isTerminal(stdin) && isTerminal(stdout)
	n := newNode(o)
	defer n.close()
	logw := &notifyWriter{stderr: stderr}
	if o.remote.enabled {
		if _, err := n.startRemote(newLogger(o.remote.logFormat, logw, interactive)); err != nil {
			fmt.Fprintf(stderr, "iridium: %v\n", err)
			return exitFailure
		}
	}
	sh, release, err := n.newShell(shellSpec{
		stdin:       stdin,
		stdout:      stdout,
		stderr:      stderr,
		interactive: interactive,
		color:       interactive && !o.noColor && os.Getenv("NO_COLOR") == "",
		history:     true,
		events:      true,
	})
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	defer release()
	stopJoin := n.startLocal(ctx, sh, interactive, logw, stderr)
	err = sh.Run(ctx)
	stopJoin()
	status, unexpected := exitStatus(ctx, err)
	if unexpected {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
	}
	return status
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
