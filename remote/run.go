package remote

import "strings"

// RunCommand is the exec request that runs a program sent on the
// session's input, as in
//
//	ssh -p 2244 host run < fib.iasm
//
// rather than lines of the REPL: the shell maker gets ShellIO.Run set,
// and ShellIO.Stdin is the session's input, read to its end.
const RunCommand = "run"

// RunRequest is an exec request of RunCommand.
type RunRequest struct {
	// Args are the words after "run", split on white space, for the shell
	// maker to check (such as --registers).
	Args []string
}

// parseRunRequest returns the run request that command is, or nil when
// it is not one (REPL lines).
func parseRunRequest(command string) *RunRequest {
	words := strings.Fields(command)
	if len(words) == 0 || words[0] != RunCommand {
		return nil
	}
	return &RunRequest{Args: words[1:]}
}

// runRequest is the run request of an exec session, or nil.
func (ss *session) runRequest(command, kind string) *RunRequest {
	if kind != "exec" {
		return nil
	}
	return parseRunRequest(command)
}
