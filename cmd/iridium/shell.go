package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/iridium-vm/iridium/internal/filecmd"
)

// runShell runs the REPL: interactive when stdin and stdout are a
// terminal, scripted otherwise. With -e the lines given are the script;
// with -i the file runs first, in the shell. SIGTERM ends it (exit status
// 130); SIGINT (Ctrl-C) is the shell's: it stops the running program and
// returns to the prompt.
func runShell(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	interactive := filecmd.IsTerminal(stdin) && filecmd.IsTerminal(stdout)
	if len(o.evalLines) > 0 {
		stdin, interactive = strings.NewReader(strings.Join(o.evalLines, "\n")+"\n"), false
	}
	n := newNode(o)
	defer n.close()
	// Checked first, then made (see startup.go).
	withCluster := len(o.remote.join) > 0
	if err := n.checkStart(withCluster); err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	sh, release, err := n.newShell(shellSpec{
		stdin:       stdin,
		stdout:      stdout,
		stderr:      stderr,
		interactive: interactive,
		color:       interactive && !o.noColor && os.Getenv("NO_COLOR") == "",
		history:     true,
		events:      true,
		loadFirst:   o.interactFile,
	})
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	defer release()
	if withCluster { // after the shell, which shows what making it says
		if _, err := n.cluster.get(); err != nil {
			fmt.Fprintf(stderr, "iridium: %v\n", err)
			return exitFailure
		}
	}
	logw := &notifyWriter{stderr: stderr}
	if o.remote.enabled {
		if _, err := n.startRemote(newLogger(o.remote.logFormat, logw, interactive)); err != nil {
			fmt.Fprintf(stderr, "iridium: %v\n", err)
			return exitFailure
		}
	}
	defer n.serveStatus(func(msg string) {
		if interactive { // a script's standard error is for its lines
			fmt.Fprintf(stderr, "iridium: %s\n", msg)
		}
	})()
	stopJoin, err := n.startLocal(ctx, sh, interactive, logw, stderr)
	if err != nil {
		if ctx.Err() != nil {
			return exitSignal
		}
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	err = sh.Run(ctx)
	stopJoin()
	status, unexpected := exitStatus(ctx, err)
	if unexpected {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
	}
	return status
}
