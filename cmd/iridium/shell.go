package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/iridium-vm/iridium/repl"
)

// runShell runs the REPL: interactive when stdin and stdout are a
// terminal, scripted otherwise.
func runShell(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	interactive := isTerminal(stdin) && isTerminal(stdout)
	n := newNode(o)
	defer n.close()
	logw := &notifyWriter{stderr: stderr}
	if o.remote.enabled {
		if _, err := n.startRemote(newLogger(o.remote.logFormat, logw)); err != nil {
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
