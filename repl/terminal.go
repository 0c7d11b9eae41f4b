package repl

import "github.com/chzyer/readline"

// Terminal is the terminal of an interactive shell whose input and output
// are not this process's own, such as an SSH session's pseudo-terminal:
// the shell asks it for its width and to be told of changes of it. Such a
// shell does not change any terminal's mode (the client's terminal is in
// raw mode already) and does not take this process's SIGINT as Ctrl-C:
// its Ctrl-C arrives as input, and the owner of the input calls
// InterruptProgram.
type Terminal interface {
	// Width is the terminal's width in columns.
	Width() int
	// OnResize registers f to be called after each change of width.
	OnResize(f func())
}

// useTerminal makes readline drive t instead of this process's terminal.
func useTerminal(cfg *readline.Config, t Terminal) {
	if t == nil {
		return
	}
	cfg.FuncIsTerminal = func() bool { return true }
	cfg.FuncMakeRaw = func() error { return nil }
	cfg.FuncExitRaw = func() error { return nil }
	cfg.FuncGetWidth = t.Width
	cfg.FuncOnWidthChanged = t.OnResize
}

// InterruptProgram is Interrupt that reports whether there was something
// to interrupt (false at the prompt), for the owner of a Terminal's input,
// which passes a Ctrl-C typed at the prompt on to line editing.
func (s *Shell) InterruptProgram() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.foreground == nil {
		return false
	}
	s.foreground(errInterrupted)
	return true
}
