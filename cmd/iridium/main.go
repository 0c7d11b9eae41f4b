// Command iridium runs Iridium assembly and bytecode files, assembles and
// disassembles them, and, given no file, starts the interactive REPL.
//
//	iridium [flags] FILE          assemble (or load) FILE and run it
//	iridium asm FILE [-o OUT]     write FILE's bytecode to OUT
//	iridium disasm FILE           print FILE as an assembly listing
//	iridium [flags]               start the REPL
//	iridium -e LINE [-e LINE...]  run the lines as a REPL script
//	iridium -i FILE               run FILE, then start the REPL
//
// Run "iridium --help" for every flag.
//
// This binary is small so that a file run starts fast: it links the VM and
// the assembler and nothing of the shell, the cluster, TLS or SSH, whose
// code and package initialisation would cost every short run a few
// milliseconds (docs/performance.md, "Start-up"). It does the work on one
// file itself: a run whose only flags are --registers, --stack-limit and
// --heap-limit, "asm" and "disasm". For anything else, the shell, a node,
// --help, --version or a usage error, it becomes iridium-node, the whole
// command, by exec, with the same arguments: same process, same terminal,
// same exit status. iridium-node is looked for next to this binary, then
// on $PATH.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/vm"
)

// nodeName is the file name of the whole command.
const nodeName = "iridium-node"

func main() {
	args := os.Args[1:]
	if code, ok := runHere(context.Background(), args, os.Stdout, os.Stderr); ok {
		os.Exit(code)
	}
	err := becomeNode(os.Args)
	fmt.Fprintf(os.Stderr, "iridium: %v\n", err)
	os.Exit(filecmd.ExitFailure)
}

// runHere does what args ask when this binary can do it alone, and
// reports whether it did; when it did not, it has written nothing.
func runHere(ctx context.Context, args []string, stdout, stderr io.Writer) (int, bool) {
	if len(args) > 0 {
		switch args[0] {
		case "asm":
			return filecmd.Asm(args[1:], stdout, stderr), true
		case "disasm":
			return filecmd.Disasm(args[1:], stdout, stderr), true
		}
	}
	o, file, ok := fileRun(args)
	if !ok {
		return 0, false
	}
	return filecmd.Run(ctx, o, file, stdout, stderr), true
}

// fileRun reports whether args are a file run this binary can do: one
// file and no flags but --registers, --stack-limit and --heap-limit, with
// valid values. Anything else, a bad value included, is iridium-node's,
// which says what is wrong in the words it uses for every other flag.
func fileRun(args []string) (filecmd.RunOptions, string, bool) {
	o := filecmd.RunOptions{StackLimit: vm.DefaultStackLimit, HeapLimit: vm.DefaultHeapLimit}
	fs := flag.NewFlagSet("iridium", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&o.Registers, "registers", false, "")
	fs.IntVar(&o.StackLimit, "stack-limit", o.StackLimit, "")
	fs.IntVar(&o.HeapLimit, "heap-limit", o.HeapLimit, "")
	files, err := filecmd.ParseInterspersed(fs, args)
	if err != nil || len(files) != 1 || o.StackLimit <= 0 || o.HeapLimit <= 0 {
		return o, "", false
	}
	return o, files[0], true
}

// becomeNode replaces this process with iridium-node, given argv as its
// own. It returns only if it could not.
func becomeNode(argv []string) error {
	path, err := findNode()
	if err != nil {
		return err
	}
	err = syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("starting %s: %w", path, err)
}

// errNoNode is returned when iridium-node is nowhere to be found.
var errNoNode = errors.New("the shell, the cluster, --help and --version are in " + nodeName +
	", which is neither next to this binary nor on $PATH: build both with 'make build', or install both with 'make install'")

// findNode returns the path of iridium-node: the one next to this binary
// (symbolic links resolved), else the first in an absolute directory of
// $PATH. A file that is this binary (a link to it) is skipped: becoming
// it would start this search again, for ever.
func findNode() (string, error) {
	var self os.FileInfo
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			self, _ = os.Stat(exe)
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), nodeName))
		}
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.IsAbs(dir) { // as exec.LookPath: never a relative directory, "." included
			candidates = append(candidates, filepath.Join(dir, nodeName))
		}
	}
	var isSelf string
	for _, path := range candidates {
		info, err := os.Stat(path)
		switch {
		case err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0:
		case self != nil && os.SameFile(info, self):
			isSelf = path
		default:
			return path, nil
		}
	}
	if isSelf != "" {
		return "", fmt.Errorf("%s is this binary, not the node: %w", isSelf, errNoNode)
	}
	return "", errNoNode
}
