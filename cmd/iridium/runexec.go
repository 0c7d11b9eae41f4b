package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/remote"
	"github.com/iridium-vm/iridium/repl"
	"github.com/iridium-vm/iridium/vm/asm"
)

// runInputName names the program an SSH "run" reads, in its messages.
const runInputName = "stdin"

// runUsage says how "run" is used, for its errors.
const runUsage = "usage: ssh -p PORT HOST run [--registers] < FILE (the program, assembly or bytecode, comes on the input)"

// programRun is what an SSH session runs for "ssh host run < FILE": the
// whole input, read to its end, is one program, assembled (or decoded,
// for bytecode) and run as iridium FILE runs a file, with the same
// messages and exit status. It runs on this node, under the node's heap
// budget and limits.
type programRun struct {
	n         *node
	sio       remote.ShellIO
	registers bool
	usageErr  error // a bad argument: Run says so (exit status 2)

	mu     sync.Mutex
	cancel context.CancelFunc // stops the running program; nil before and after
}

// newProgramRun makes the shell of a "run" session.
func (n *node) newProgramRun(sio remote.ShellIO) *programRun {
	r := &programRun{n: n, sio: sio}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&r.registers, "registers", false, "print the non-zero registers after the run")
	files, err := filecmd.ParseInterspersed(fs, sio.Run.Args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		r.usageErr = errors.New("run takes no help flag")
	case err != nil:
		r.usageErr = err
	case len(files) > 0:
		r.usageErr = fmt.Errorf("run takes the program on its input, not the file name %q: the node cannot read your files", files[0])
	case sio.Terminal != nil:
		r.usageErr = errors.New("run reads the program to the end of its input: leave out ssh -t")
	}
	return r
}

// Run implements remote.Shell.
func (r *programRun) Run(ctx context.Context) int {
	if r.usageErr != nil {
		fmt.Fprintf(r.sio.Stderr, "iridium run: %s\n%s\n", termtext.Clip(r.usageErr.Error(), 200), runUsage)
		return exitUsage
	}
	src, err := readProgramInput(r.sio.Stdin)
	if err != nil {
		fmt.Fprintf(r.sio.Stderr, "iridium run: %v\n", err)
		return exitFailure
	}
	p, err := asm.Load(runInputName, src)
	if err != nil {
		fmt.Fprintf(r.sio.Stderr, "iridium: %s\n", termtext.Escape(err.Error(), true))
		return exitFailure
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.cancel = nil
		r.mu.Unlock()
	}()
	o := r.n.opts
	opts := filecmd.RunOptions{Registers: r.registers, StackLimit: o.stackLimit, HeapLimit: o.heapLimit, HeapBudget: r.n.heap}
	return filecmd.RunProgram(ctx, opts, runInputName, p, r.sio.Stdout, r.sio.Stderr)
}

// Interrupt implements remote.Shell: the client's Ctrl-C (a signal
// request) stops the program, with exit status 130.
func (r *programRun) Interrupt() bool {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel == nil {
		return false
	}
	cancel()
	return true
}

// readProgramInput reads a program from in to its end: at most
// repl.MaxProgramInput bytes.
func readProgramInput(in io.Reader) (string, error) {
	var b strings.Builder
	n, err := io.Copy(&b, io.LimitReader(in, repl.MaxProgramInput+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("read the program: %w", err)
	case n > repl.MaxProgramInput:
		return "", fmt.Errorf("the program is over %d bytes, the most run reads: run it with iridium FILE where the file is, or spawn it from there with !spawn_on", repl.MaxProgramInput)
	case strings.TrimSpace(b.String()) == "":
		return "", errors.New("no program on the input\n" + runUsage)
	}
	return b.String(), nil
}
