package repl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/iridium-vm/iridium/internal/safefile"
	"github.com/iridium-vm/iridium/internal/suggest"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/jobs"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// argKind says what a command's first argument is, for Tab completion.
type argKind int

const (
	argNone  argKind = iota
	argPath          // a file path
	argTopic         // a command or a mnemonic (for !help)
	argJob           // a job id
	argAll           // the word "all" (for !registers)
)

// command is one entry of the command table, which also drives !help and
// Tab completion.
type command struct {
	name     string // with its "!"
	args     string // the arguments in usage, "" for none
	help     string // one line
	min, max int    // how many arguments it takes
	rest     bool   // the rest of the line is one argument (a path may hold spaces)
	complete argKind
	run      func(s *Shell, ctx context.Context, args []string) error
}

func (c *command) usage() string {
	if c.args == "" {
		return c.name
	}
	return c.name + " " + c.args
}

// coreCommands returns the commands other than the cluster's.
func coreCommands() []command {
	return []command{
		{name: "!help", args: "[COMMAND|MNEMONIC]", help: "list the commands, or describe one command or instruction; !help instructions lists the instructions", max: 1, complete: argTopic, run: (*Shell).cmdHelp},
		{name: "!quit", help: "leave the REPL (Ctrl-D does too); running jobs are killed", run: (*Shell).cmdQuit},
		{name: "!history", help: "list the lines entered in this session", run: (*Shell).cmdHistory},
		{name: "!program", help: "show the program as a disassembly listing", run: (*Shell).cmdProgram},
		{name: "!symbols", help: "list the labels and constants defined so far", run: (*Shell).cmdSymbols},
		{name: "!registers", args: "[all]", help: "show the non-zero registers ('all': all 64)", max: 1, complete: argAll, run: (*Shell).cmdRegisters},
		{name: "!clear_registers", help: "set every register, the flag, the remainder and the loop counter to 0", run: (*Shell).cmdClearRegisters},
		{name: "!clear_program", help: "empty the program and forget its labels; registers, heap and stack stay", run: (*Shell).cmdClearProgram},
		{name: "!reset", help: "empty the program, forget its labels, clear registers, heap and stack", run: (*Shell).cmdReset},
		{name: "!load_file", args: "[PATH]", help: "assemble an assembly file, append it to the program and run it", max: 1, rest: true, complete: argPath, run: (*Shell).cmdLoadFile},
		{name: "!save", args: "PATH", help: "write the program as an assembly file that iridium PATH runs; refuses to overwrite", min: 1, max: 1, rest: true, complete: argPath, run: (*Shell).cmdSave},
		{name: "!save!", args: "PATH", help: "!save, overwriting PATH if it exists", min: 1, max: 1, rest: true, complete: argPath, run: (*Shell).cmdSaveOver},
		{name: "!spawn", args: "[PATH]", help: "run an assembly or bytecode file in the background, as job ID and a process of the node's scheduler (prints both)", max: 1, rest: true, complete: argPath, run: (*Shell).cmdSpawn},
		{name: "!jobs", help: "list the node's jobs, and those it started on other members: id, state, owner, file", run: (*Shell).cmdJobs},
		{name: "!kill", args: "ID", help: "stop a spawned program (ALIAS:ID: one on member ALIAS); an ID like <7> ends that process", min: 1, max: 1, complete: argJob, run: (*Shell).cmdKill},
		{name: "!wait", args: "[ID]", help: "wait for a spawned program (ALIAS:ID: one on member ALIAS; <7>: that process), or for every one not waited for yet; fails if one faulted", max: 1, complete: argJob, run: (*Shell).cmdWait},
	}
}

// lookupCommand finds a command by name, with or without its "!".
func (s *Shell) lookupCommand(name string) *command {
	if !strings.HasPrefix(name, "!") {
		name = "!" + name
	}
	for i := range s.commands {
		if s.commands[i].name == name {
			return &s.commands[i]
		}
	}
	return nil
}

// runCommand splits a "!" line into a command and its arguments, checks
// them against the table and runs the command.
func (s *Shell) runCommand(ctx context.Context, line string) error {
	name := strings.Fields(line)[0]
	rest := strings.TrimSpace(line[len(name):])
	c := s.lookupCommand(strings.ToLower(name))
	if c == nil {
		return fmt.Errorf("unknown command %s%s (!help lists the commands)", termtext.Clip(name, 40), s.suggestCommand(strings.ToLower(name)))
	}
	args := strings.Fields(rest)
	if c.rest && strings.TrimSpace(rest) != "" {
		args = []string{strings.TrimSpace(rest)}
	}
	if len(args) < c.min || len(args) > c.max {
		return fmt.Errorf("usage: %s", c.usage())
	}
	return c.run(s, ctx, args)
}

// suggestCommand names a command close to name, if there is one: the
// only command that starts with name, else the nearest by spelling, else
// the only command that shares the longest start with it ("!regs" is
// "!reg" and an "s": !registers).
func (s *Shell) suggestCommand(name string) string {
	if len(name) > 40 {
		return ""
	}
	if other := otherSystemsCommand(name); other != "" && s.lookupCommand(other) != nil {
		return "; did you mean " + other + "?"
	}
	names := s.commandNames("")
	best := suggest.Prefixed(name, names, len("!")+3)
	if best == "" {
		best = suggest.Closest(name, names, 3)
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}

// otherSystemsCommand is the command of this shell that does the job of
// name, a command users of Erlang's shell or Serf type out of habit and
// that no spelling rule would lead to: !members (serf members) and
// !nodes (nodes()) list the members; !rpc (rpc:call) runs something on
// another member; !connect (net_kernel:connect_node) joins. !send is not
// here: the shell's own !send sends a message to a process.
func otherSystemsCommand(name string) string {
	switch name {
	case "!members", "!nodes":
		return "!cluster_members"
	case "!rpc":
		return "!spawn_on"
	case "!connect":
		return "!join_cluster"
	}
	return ""
}

// table lays out rows of tab-separated cells in aligned columns.
func table(rows [][]string) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	return b.String()
}

// listing is a listing of another member's: header, the table of rows
// and, when the member sent only part of it, how many it left out.
func listing(header string, rows [][]string, more int) string {
	out := header + strings.TrimSuffix(table(rows), "\n")
	if more > 0 {
		out += fmt.Sprintf("\n(%d more not listed)", more)
	}
	return out
}

// done says what a command changed, on standard output: on a terminal and
// in a script alike, since a script's reader needs to know as much as
// the person at a terminal (what !kill killed, where !save wrote).
func (s *Shell) done(msg string) {
	s.con.print(s.con.result, msg)
}

func (s *Shell) cmdHelp(_ context.Context, args []string) error {
	if len(args) == 0 {
		rows := make([][2]string, 0, len(s.commands))
		for _, c := range s.commands {
			rows = append(rows, [2]string{c.usage(), c.help})
		}
		s.con.print(nil, "Commands (any other line is assembly, run at once):\n"+helpTable(rows)+
			"!help MNEMONIC describes an instruction, as in !help load;\n"+
			"!help instructions lists them all.")
		return nil
	}
	if strings.EqualFold(args[0], "instructions") {
		s.con.print(nil, instructionList())
		return nil
	}
	// A name such as kill is both a command and an instruction: without
	// its "!", both are described.
	var parts []string
	if c := s.lookupCommand(args[0]); c != nil {
		parts = append(parts, c.usage()+"\n"+termtext.Indent(c.help, terminalWidth, "    "))
	}
	if in := vm.LookupName(args[0]); in != nil && !strings.HasPrefix(args[0], "!") {
		parts = append(parts, fmt.Sprintf("%s\n%s\n    example: %s", in.Syntax(), termtext.Indent(in.Summary, terminalWidth, "    "), in.Example))
	}
	if len(parts) > 0 {
		s.con.print(nil, strings.Join(parts, "\n"))
		return nil
	}
	return fmt.Errorf("!help: %q is neither a command nor an instruction (!help lists the commands, !help instructions the instructions)", termtext.Cut(args[0], 40))
}

// helpTable lays out rows of a name and its description, indented, with
// descriptions wrapped so that each line fits the terminal width; a name
// too long for the column puts its description on the next line.
func helpTable(rows [][2]string) string {
	const indent, gap, maxCol = 2, 2, 26
	col := 0
	for _, r := range rows {
		if n := len(r[0]); n <= maxCol && n > col {
			col = n
		}
	}
	pad := strings.Repeat(" ", indent+col+gap)
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Repeat(" ", indent) + r[0])
		if len(r[0]) > col {
			b.WriteString("\n" + pad)
		} else {
			b.WriteString(strings.Repeat(" ", col-len(r[0])+gap))
		}
		b.WriteString(strings.TrimPrefix(termtext.Indent(r[1], terminalWidth, pad), pad) + "\n")
	}
	return b.String()
}

// instructionList lists the instructions grouped by kind, one line each,
// from the VM's instruction table.
func instructionList() string {
	groups := map[string][][2]string{}
	for _, in := range vm.Instructions() {
		g := instructionGroup(&in)
		groups[g] = append(groups[g], [2]string{in.Syntax(), in.Summary})
	}
	var b strings.Builder
	for _, g := range instructionGroups {
		if len(groups[g]) == 0 {
			continue
		}
		b.WriteString(g + ":\n" + helpTable(groups[g]))
	}
	b.WriteString("!help MNEMONIC shows one with an example, as in !help load.")
	return b.String()
}

// instructionGroups are the kinds instructionList groups by, in order.
var instructionGroups = []string{"Integer arithmetic and bits", "Comparison (sets the flag)", "Jumps, calls and the program's end", "Memory and stack", "Floating point", "Printing", "Processes, messages and names", "Other"}

// instructionGroup says which of instructionGroups an instruction is in,
// from its name, operands and summary in the table.
func instructionGroup(in *vm.Instruction) string {
	has := func(kinds ...vm.OperandKind) bool {
		for _, k := range in.Operands {
			if slices.Contains(kinds, k) {
				return true
			}
		}
		return false
	}
	sum := strings.ToLower(in.Summary)
	switch {
	case in.Op >= vm.SPAWN: // they follow IGL in the table
		return "Processes, messages and names"
	case strings.HasPrefix(in.Name, "prt"):
		return "Printing"
	case has(vm.FloatReg, vm.DataAddr16):
		return "Floating point"
	case has(vm.CodeAddr) || strings.HasPrefix(in.Name, "jmp") || strings.Contains(sum, "loop counter") || len(in.Operands) == 0:
		return "Jumps, calls and the program's end"
	case strings.Contains(sum, "flag"):
		return "Comparison (sets the flag)"
	case strings.Contains(sum, "heap") || strings.Contains(sum, "stack"):
		return "Memory and stack"
	case has(vm.IntReg):
		return "Integer arithmetic and bits"
	}
	return "Other"
}

func (s *Shell) cmdQuit(context.Context, []string) error { return ErrQuit }

func (s *Shell) cmdHistory(context.Context, []string) error {
	var b strings.Builder
	for i, line := range s.history {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, line)
	}
	s.con.print(nil, b.String())
	return nil
}

func (s *Shell) cmdProgram(context.Context, []string) error {
	s.con.print(nil, vm.Disassemble(s.asm.Program(), s.asm.Names()))
	return nil
}

func (s *Shell) cmdSymbols(context.Context, []string) error {
	syms := s.asm.Symbols()
	if len(syms) == 0 {
		s.con.print(nil, "(no symbols)")
		return nil
	}
	rows := make([][]string, len(syms))
	for i, sym := range syms {
		rows[i] = []string{sym.Name, sym.Kind.String(), strconv.Itoa(int(sym.Value))}
	}
	s.con.print(nil, table(rows))
	return nil
}

func (s *Shell) cmdRegisters(_ context.Context, args []string) error {
	all := len(args) == 1
	if all && args[0] != "all" {
		return errors.New("usage: !registers [all]")
	}
	var b bytes.Buffer
	if err := s.vm.WriteRegisters(&b, !all); err != nil {
		return fmt.Errorf("!registers: %w", err)
	}
	if b.Len() == 0 {
		s.con.print(nil, "(every register is 0)")
		return nil
	}
	s.con.print(nil, b.String())
	return nil
}

func (s *Shell) cmdClearRegisters(context.Context, []string) error {
	s.vm.ResetRegisters()
	s.done("registers cleared")
	return nil
}

func (s *Shell) cmdClearProgram(context.Context, []string) error {
	s.asm.Reset()
	s.vm.Load(s.asm.Program())
	s.updateWords()
	s.done("program cleared")
	return nil
}

func (s *Shell) cmdReset(context.Context, []string) error {
	s.asm.Reset()
	s.vm.Reset()
	s.vm.Load(s.asm.Program())
	s.updateWords()
	s.done("program, labels, registers, heap and stack cleared")
	return nil
}

// cmdLoadFile appends an assembly file to the program and runs its code,
// so that its labels stay known to the lines typed after it.
func (s *Shell) cmdLoadFile(ctx context.Context, args []string) error {
	path, err := s.pathArg(ctx, "!load_file", args)
	if err != nil {
		return err
	}
	src, err := asm.ReadFile(path)
	if err != nil {
		return fmt.Errorf("!load_file: %w", err)
	}
	if vm.IsBytecode(src) {
		return fmt.Errorf("!load_file: %s is bytecode; !load_file takes assembly (!spawn runs bytecode)", path)
	}
	start, err := s.asm.AssembleFile(path, string(src))
	if err != nil {
		if strings.Contains(err.Error(), "is already defined at") {
			return fmt.Errorf("!load_file: %w\n(a label of the program already has that name: was the file loaded before? !clear_program forgets the program's labels)", err)
		}
		return fmt.Errorf("!load_file: %w", err)
	}
	s.updateWords()
	return s.runFrom(ctx, start)
}

// pathArg returns the path argument, or asks for it on the next line.
func (s *Shell) pathArg(ctx context.Context, cmd string, args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	s.setAskingPath(true)
	defer s.setAskingPath(false)
	prompt := ""
	if s.opts.Interactive {
		prompt = s.con.promptText("path: ")
	}
	path, err := s.readLine(ctx, prompt)
	switch {
	case errors.Is(err, io.EOF):
		return "", fmt.Errorf("%s: no path given before the end of the input", cmd)
	case errors.Is(err, errLineInterrupted):
		return "", fmt.Errorf("%s: %w", cmd, errInterrupted)
	case err != nil:
		return "", fmt.Errorf("%s: %w", cmd, err)
	}
	if path = strings.TrimSpace(path); path == "" {
		return "", fmt.Errorf("%s: no path given", cmd)
	}
	return path, nil
}

func (s *Shell) setAskingPath(on bool) {
	s.mu.Lock()
	s.askingPath = on
	s.mu.Unlock()
}

func (s *Shell) cmdSpawn(ctx context.Context, args []string) error {
	path, err := s.pathArg(ctx, "!spawn", args)
	if err != nil {
		return err
	}
	p, err := asm.LoadFile(path)
	if err != nil {
		return fmt.Errorf("!spawn: %w", err)
	}
	_, err = s.jobs.Start(ctx, jobs.Spec{
		File: path, Owner: s.owner, Program: p, Config: s.vmConfig(nil),
		Output: &lineWriter{dst: s.con}, Faults: faultNotifier{s},
		Started: func(j *jobs.Job) {
			s.con.print(s.con.result, fmt.Sprintf("[job %d] %s started, process %v", j.ID, shownText(path), j.PID()))
		},
		Ended: s.announce,
	})
	if err != nil {
		return fmt.Errorf("!spawn %s: %w", path, err)
	}
	return nil
}

// announce tells how a job ended; it runs on the job's goroutine.
func (s *Shell) announce(j *jobs.Job) {
	state, err := j.Status()
	msg := fmt.Sprintf("[job %s] %s %s", j.Name(), termtext.Cut(j.File, maxShownText), state)
	if state == jobs.Faulted || state == jobs.Lost {
		s.notifyFailure(msg + ": " + err.Error())
		return
	}
	s.Notify(msg)
}

func (s *Shell) cmdSave(_ context.Context, args []string) error {
	return s.save("!save", args[0], false)
}

func (s *Shell) cmdSaveOver(_ context.Context, args []string) error {
	return s.save("!save!", args[0], true)
}

// save writes the program as an assembly listing (both sections, with the
// labels given) that assembles to the same bytes, so that iridium PATH
// runs it as the lines typed ran it, one after the other. Without
// overwrite, an existing PATH is refused, FIFOs and devices included.
func (s *Shell) save(cmd, path string, overwrite bool) error {
	src := vm.Disassemble(s.asm.Program(), s.asm.Names())
	shown := shownText(path)
	if !overwrite {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %s exists; !save! %s overwrites it", cmd, shown, shown)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		_, err = f.WriteString(src)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("%s: write %s: %w", cmd, shown, err)
		}
	} else if err := safefile.Replace(path, []byte(src), 0o644); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	s.done(fmt.Sprintf("saved the program to %s (%d bytes of code)", shown, len(s.asm.Program().Code)))
	return nil
}

func (s *Shell) cmdJobs(context.Context, []string) error {
	list := s.jobs.List()
	if len(list) == 0 {
		s.con.print(nil, "(no jobs)")
		return nil
	}
	rows := [][]string{{"ID", "STATE", "OWNER", "FILE"}}
	for _, j := range list {
		state, _ := j.Status()
		owner := shownText(j.Owner.String())
		if j.Owner == s.owner {
			owner += " (you)"
		}
		rows = append(rows, []string{shownText(j.Name()), state.String(), owner, shownText(j.File)})
	}
	s.con.print(nil, table(rows))
	return nil
}

// jobArg finds the job an argument names.
func (s *Shell) jobArg(cmd, arg string) (*jobs.Job, error) {
	j, err := s.jobs.Lookup(arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	return j, nil
}

func (s *Shell) cmdKill(ctx context.Context, args []string) error {
	if isPIDArg(args[0]) {
		return s.killProcess(ctx, args[0])
	}
	alias, id, name, elsewhere := s.remoteJob(args[0])
	if elsewhere {
		return s.killRemote(ctx, alias, id)
	}
	j, err := s.jobArg("!kill", name)
	if err != nil {
		return err
	}
	return s.killJob(ctx, j)
}

// killJob stops the job j and waits for its end.
func (s *Shell) killJob(ctx context.Context, j *jobs.Job) error {
	if state, _ := j.Status(); state != jobs.Running {
		return fmt.Errorf("!kill: job %s (%s) has already stopped (%s)", j.Name(), j.File, state)
	}
	j.Kill()
	if err := j.Wait(ctx); err != nil {
		return fmt.Errorf("!kill: %w", err)
	}
	s.done(fmt.Sprintf("job %s (%s) killed", j.Name(), shownText(j.File)))
	return nil
}

func (s *Shell) cmdWait(ctx context.Context, args []string) error {
	var list []*jobs.Job
	if len(args) == 1 && isPIDArg(args[0]) {
		return s.waitProcess(ctx, args[0])
	}
	if len(args) == 1 {
		alias, id, name, elsewhere := s.remoteJob(args[0])
		if elsewhere {
			return s.waitRemote(ctx, alias, id)
		}
		j, err := s.jobArg("!wait", name)
		if err != nil {
			return err
		}
		list = []*jobs.Job{j}
	} else {
		list = s.jobs.Unwaited(s.owner)
	}
	return s.waitJobs(ctx, list)
}

// waitJobs waits for the jobs of list to end; it fails if one faulted or
// was lost.
func (s *Shell) waitJobs(ctx context.Context, list []*jobs.Job) error {
	var errs []error
	for _, j := range list {
		if err := j.Wait(ctx); err != nil {
			return fmt.Errorf("!wait: %w", err)
		}
		j.MarkWaited()
		if state, err := j.Status(); state == jobs.Faulted || state == jobs.Lost {
			errs = append(errs, fmt.Errorf("job %s (%s) %s: %w", j.Name(), j.File, state, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("!wait: %w", errors.Join(errs...))
	}
	return nil
}
