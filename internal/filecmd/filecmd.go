// Package filecmd is what the iridium command does with one file: run it,
// assemble it (iridium asm) and disassemble it (iridium disasm). It needs
// only the VM and the assembler, none of the shell or the cluster, so it
// can be tested, and its start-up measured, apart from them.
package filecmd

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/iridium-vm/iridium/internal/safefile"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
	"golang.org/x/term"
)

// The command's exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1 // an assembly error, a fault, a failed REPL line
	ExitUsage   = 2 // bad flags or arguments
	ExitSignal  = 130
)

// fail writes err to w after prefix, with the control characters of the
// path or text it names from outside escaped; its newlines are kept, so an
// assembly error's listing of the line and a caret stays as it is.
func fail(w io.Writer, prefix string, err error) {
	fmt.Fprintf(w, "%s: %s\n", prefix, termtext.Escape(err.Error(), true))
}

// RunOptions are the flags that change how a file runs.
type RunOptions struct {
	Registers    bool // print the non-zero registers of the first process after the run
	StackLimit   int  // vm.Config.StackLimit
	HeapLimit    int  // vm.Config.HeapLimit
	Threads      int  // proc.Config.Threads: scheduler threads, 0 for one per core
	MailboxLimit int  // proc.Config.MailboxLimit, 0 for its default
	// HeapBudget is vm.Config's, for a program run by a node that runs
	// others (RunProgram); nil for a file run. Its processes and their
	// messages count against it too.
	HeapBudget *vm.HeapBudget
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// Run runs the program in the file at path and returns the exit status.
// The program is the first process of a scheduler; the run ends when that
// process ends, whatever others it started are doing. Faults of the other
// processes are shown on stderr, and they run on. If every process waits
// for a message that nothing can send, the run stops with "deadlock"
// (ExitDeadlock). Ctrl-C or SIGTERM stops it (exit status 130).
func Run(ctx context.Context, o RunOptions, path string, stdout, stderr io.Writer) int {
	p, err := asm.LoadFile(path)
	if err != nil {
		fail(stderr, "iridium", err)
		return ExitFailure
	}
	// Buffered for speed, except on a terminal, where a long run's output
	// should appear as it is printed.
	out, flush := io.Writer(stdout), func() error { return nil }
	if !IsTerminal(stdout) {
		buf := bufio.NewWriterSize(stdout, 64<<10)
		out, flush = buf, buf.Flush
	}
	return execute(ctx, o, path, p, out, flush, stderr, true)
}

// RunProgram runs p, named name in its messages, as Run runs a file, for
// a process that runs many programs (an SSH session's "run"): its output
// is written as it is printed, and only ctx stops it (exit status 130),
// as no signal is watched.
func RunProgram(ctx context.Context, o RunOptions, name string, p *vm.Program, stdout, stderr io.Writer) int {
	noFlush := func() error { return nil }
	return execute(ctx, o, name, p, stdout, noFlush, stderr, false)
}

// execute runs p as the first process of a scheduler of its own, writing
// its output to out and flushing it with flush, then the registers if
// asked, and returns the exit status. With signals, SIGINT and SIGTERM
// stop it too.
func execute(ctx context.Context, o RunOptions, name string, p *vm.Program, out io.Writer, flush func() error, stderr io.Writer,
	signals bool) int {
	s := proc.New(proc.Config{Threads: o.Threads, MailboxLimit: o.MailboxLimit, Budget: o.HeapBudget, DetectDeadlock: true})
	h, err := s.Start(p, proc.StartOptions{
		Name:               termtext.Escape(filepath.Base(name), false),
		VM:                 vm.Config{Stdout: out, StackLimit: o.StackLimit, HeapLimit: o.HeapLimit, HeapBudget: o.HeapBudget},
		Faults:             &prefixWriter{prefix: "iridium: " + termtext.Escape(name, false) + ": ", w: stderr},
		CallerReportsFault: true,
	})
	if err != nil {
		s.Close()
		fail(stderr, "iridium", err)
		return ExitFailure
	}
	status, runErr := waitFirst(ctx, s, h, signals)
	s.Close()                                             // the other processes stop with it
	if err := h.Flush(ctx); err != nil && runErr == nil { // what they printed
		runErr, status = fmt.Errorf("write output: %w", err), ExitFailure
	}
	if ctx.Err() != nil { // out may still be being written to: leave it
		if runErr != nil {
			fail(stderr, "iridium", fmt.Errorf("%s: %w", name, runErr))
		}
		return status
	}
	if o.Registers {
		h.VM().WriteRegisters(out, true)
	}
	if err := flush(); err != nil && runErr == nil {
		runErr, status = fmt.Errorf("write output: %w", err), ExitFailure
	}
	if runErr != nil {
		fail(stderr, "iridium", fmt.Errorf("%s: %w", name, runErr))
	}
	return status
}

// ExitDeadlock is the exit status of a file run stopped by a deadlock.
const ExitDeadlock = 3

// signalDelay is how long a file run goes before it starts watching for
// SIGINT and SIGTERM.
const signalDelay = 5 * time.Millisecond

// waitFirst waits until the first process h ends, the scheduler sees a
// deadlock, or ctx (or, with signals, SIGINT or SIGTERM) stops the run,
// and returns the exit status and the error to show. Watching for signals
// costs a process about a millisecond of CPU (os/signal starts goroutines
// and the threads that carry them), more than the whole run of a short
// program, so it starts only once the program has run for signalDelay: a
// short program never pays for it. A signal before then ends the process
// as one during the runtime's own start-up does, by the signal's default
// action (a shell reports status 130 for SIGINT then too, but there is no
// message and buffered output is lost).
func waitFirst(ctx context.Context, s *proc.Scheduler, h *proc.Handle, signals bool) (int, error) {
	var delay <-chan time.Time
	if signals {
		t := time.NewTimer(signalDelay)
		defer t.Stop()
		delay = t.C
	}
	for {
		select {
		case <-h.Done():
			return firstExit(h)
		case <-s.Deadlocked():
			// Done waits for the first process's output to be written:
			// once all printed so far is out, it is closed if it ended.
			_ = h.Flush(ctx)
			select {
			case <-h.Done(): // the first process's end left the others waiting
				return firstExit(h)
			default:
			}
			return ExitDeadlock, fmt.Errorf("deadlock: %d processes waiting for a message that nothing can send", s.Waiting())
		case <-delay:
			sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx = sctx
		case <-ctx.Done():
			s.Close() // the first process's VM stands still from here
			return ExitSignal, h.VM().InterruptFault(context.Cause(ctx))
		}
	}
}

// firstExit is the exit status and error of the ended first process h.
func firstExit(h *proc.Handle) (int, error) {
	if exit := h.Exit(); exit.Err != nil {
		return ExitFailure, exit.Err
	}
	return ExitOK, nil
}

// prefixWriter writes each line it is given after a prefix; the scheduler
// writes a fault message whole, one line.
type prefixWriter struct {
	prefix string
	w      io.Writer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Asm is "iridium asm FILE [-o OUT]": args are those after "asm".
func Asm(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("iridium asm", flag.ContinueOnError)
	// The flag package would print its error and the usage; one line is
	// printed instead, and the usage only when asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	out := fs.String("o", "", "the bytecode file to write (default: FILE with the extension .irb)")
	files, err := ParseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stderr, "Usage: iridium asm FILE [-o OUT]\n\nAssembles FILE and writes its bytecode to OUT\n(default: FILE with the extension .irb).")
		return ExitOK
	case err != nil:
		fmt.Fprintf(stderr, "iridium asm: %s\nRun 'iridium asm --help' for usage.\n", termtext.Clip(err.Error(), 200))
		return ExitUsage
	case len(files) != 1:
		fmt.Fprintln(stderr, "iridium asm: want one file: iridium asm FILE [-o OUT]")
		return ExitUsage
	}
	p, err := asm.LoadFile(files[0])
	if err != nil {
		fail(stderr, "iridium", err)
		return ExitFailure
	}
	if *out == "" {
		*out = strings.TrimSuffix(files[0], filepath.Ext(files[0])) + ".irb"
	}
	data, err := p.MarshalBinary()
	if err == nil {
		err = writeOutput(files[0], *out, data)
	}
	if err != nil {
		fail(stderr, "iridium asm", err)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes (%d read-only, %d code)\n", termtext.Escape(*out, false), len(data), len(p.ReadOnly), len(p.Code))
	return ExitOK
}

// writeOutput writes data to out through a temporary file and a rename,
// so a failed write leaves no half file, and refuses to overwrite in, the
// source it was made from.
func writeOutput(in, out string, data []byte) error {
	if inInfo, err := os.Stat(in); err == nil {
		if outInfo, err := os.Stat(out); err == nil && os.SameFile(inInfo, outInfo) {
			return fmt.Errorf("%s is the input file; give another output with -o", out)
		}
	}
	return safefile.Replace(out, data, 0o644)
}

// Disasm is "iridium disasm FILE": args are those after "disasm".
func Disasm(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && (args[0] == "-h" || args[0] == "--help"):
		fmt.Fprintln(stderr, "Usage: iridium disasm FILE\n\nPrints FILE (bytecode or assembly) as an assembly listing.")
		return ExitOK
	case len(args) == 1 && strings.HasPrefix(args[0], "-"):
		fmt.Fprintf(stderr, "iridium disasm: no flag %s\nRun 'iridium disasm --help' for usage.\n", termtext.Clip(args[0], 200))
		return ExitUsage
	case len(args) != 1:
		fmt.Fprintln(stderr, "iridium disasm: want one file: iridium disasm FILE")
		return ExitUsage
	}
	p, err := asm.LoadFile(args[0])
	if err != nil {
		fail(stderr, "iridium", err)
		return ExitFailure
	}
	fmt.Fprint(stdout, vm.Disassemble(p, vm.Names{}))
	return ExitOK
}

// ParseInterspersed parses flags that may stand before, between or after
// positional arguments, and returns the positional ones. "--" ends flags.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
