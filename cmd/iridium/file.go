package main

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

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// loadProgram reads a file as bytecode if it starts with the magic bytes,
// and as assembly otherwise.
func loadProgram(path string) (*vm.Program, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if vm.IsBytecode(data) {
		p, err := vm.DecodeProgram(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return p, nil
	}
	return asm.Assemble(path, string(data))
}

// runFile runs one program and reports how it ended. Ctrl-C stops it.
func runFile(ctx context.Context, o *options, path string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	p, err := loadProgram(path)
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	out := bufio.NewWriter(stdout)
	m := vm.New(vm.Config{Stdout: out, StackLimit: o.stackLimit, HeapLimit: o.heapLimit})
	m.Load(p)
	runErr := m.Run(ctx)
	if o.registers {
		m.WriteRegisters(out, true)
	}
	if err := out.Flush(); err != nil && runErr == nil {
		runErr = fmt.Errorf("write output: %w", err)
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "iridium: %s: %v\n", path, runErr)
		if errors.Is(runErr, vm.ErrInterrupted) {
			return exitSignal
		}
		return exitFailure
	}
	return exitOK
}

// runAsm is "iridium asm FILE [-o OUT]".
func runAsm(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("iridium asm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "the bytecode file to write (default: FILE with the extension .irb)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: iridium asm FILE [-o OUT]\n\nAssembles FILE and writes its bytecode to OUT.")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil || len(files) != 1 {
		fmt.Fprintln(stderr, "iridium asm: want one file: iridium asm FILE [-o OUT]")
		return exitUsage
	}
	p, err := loadProgram(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	data, err := p.MarshalBinary()
	if err == nil {
		if *out == "" {
			*out = strings.TrimSuffix(files[0], filepath.Ext(files[0])) + ".irb"
		}
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "iridium asm: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes (%d read-only, %d code)\n", *out, len(data), len(p.ReadOnly), len(p.Code))
	return exitOK
}

// runDisasm is "iridium disasm FILE".
func runDisasm(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "Usage: iridium disasm FILE\n\nPrints FILE (bytecode or assembly) as an assembly listing.")
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	p, err := loadProgram(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "iridium: %v\n", err)
		return exitFailure
	}
	fmt.Fprint(stdout, vm.Disassemble(p, vm.Names{}))
	return exitOK
}
