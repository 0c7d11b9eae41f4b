// Command iridium runs Iridium assembly and bytecode files, assembles and
// disassembles them, and, given no file, starts the interactive REPL, a
// cluster node and its SSH server:
//
//	iridium [flags] FILE          assemble (or load) FILE and run it
//	iridium asm FILE [-o OUT]     write FILE's bytecode to OUT
//	iridium disasm FILE           print FILE as an assembly listing
//	iridium cookie [FILE]         write a new random cluster cookie to FILE
//	iridium [flags]               start the REPL
//	iridium -e LINE [-e LINE...]  run the lines as a REPL script
//	iridium -i FILE               run FILE, then start the REPL
//	iridium status [HOST:PORT]    show the running nodes (see status.go)
//
// Run "iridium --help" for every flag.
//
// It is one binary that does all of this itself, with no second program to
// find or exec. Every run pays the initialisation of everything it links
// (TLS, SSH, readline), so Iridium's own packages build nothing at
// initialisation but the instruction table; docs/performance.md
// ("Start-up") has the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/termtext"
)

// Exit codes (filecmd's, which the file commands return).
const (
	exitOK      = filecmd.ExitOK
	exitFailure = filecmd.ExitFailure
	exitUsage   = filecmd.ExitUsage
	exitSignal  = filecmd.ExitSignal
)

// main runs the command. Signals are left to each mode, which catches
// only those it handles (see filecmd.Run, runShell, runDaemon): the paths that
// handle none (--version, --help, asm, disasm, usage errors) start no
// signal watcher, which is most of the start-up of a short run.
func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command, with its streams passed in so tests can drive it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "asm":
			return filecmd.Asm(args[1:], stdout, stderr)
		case "disasm":
			return filecmd.Disasm(args[1:], stdout, stderr)
		case "status":
			return runStatus(ctx, args[1:], stdout, stderr)
		case "cookie":
			return cookieCommand(args[1:], stdout, stderr)
		}
	}
	opts, files, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %s\nRun 'iridium --help' for usage.\n", termtext.Clip(err.Error(), 200))
		return exitUsage
	}
	if opts.version {
		fmt.Fprintln(stdout, "iridium", version)
		return exitOK
	}
	switch {
	case opts.remote.daemon && len(files) > 0:
		fmt.Fprintf(stderr, "iridium: --daemon runs no file, got %q\n", files)
		return exitUsage
	case opts.remote.daemon && (len(opts.evalLines) > 0 || opts.interactFile != ""):
		fmt.Fprintln(stderr, "iridium: --daemon has no shell to run -e or -i in; reach it with -r and ssh")
		return exitUsage
	case len(files) > 0 && (opts.remote.enabled || len(opts.remote.join) > 0):
		fmt.Fprintf(stderr, "iridium: -r and --join are for the shell and --daemon, not for running FILE %q\n", files[0])
		return exitUsage
	}
	if len(files) == 0 {
		if err := checkClusterFiles(opts); err != nil {
			fmt.Fprintf(stderr, "iridium: %s\n", termtext.Clip(err.Error(), 400))
			return exitFailure
		}
	}
	if opts.remote.daemon {
		return runDaemon(ctx, opts, stderr)
	}
	switch len(files) {
	case 0:
		return runShell(ctx, opts, stdin, stdout, stderr)
	case 1:
		return filecmd.Run(ctx, filecmd.RunOptions{Registers: opts.registers, StackLimit: opts.stackLimit,
			HeapLimit: opts.heapLimit, Threads: opts.threads, MailboxLimit: opts.mailboxLimit}, files[0], stdout, stderr)
	}
	fmt.Fprintf(stderr, "iridium: one file at a time, got %d: %q\n", len(files), files)
	return exitUsage
}
