package repl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// SessionLister is what !sessions needs: the node's open shells.
type SessionLister interface {
	// Sessions returns the open sessions, with Yours set on the one of
	// the shell that asks.
	Sessions() []SessionInfo
}

// SessionInfo is one open shell of the node, as !sessions shows it.
type SessionInfo struct {
	ID    uint64    // the session's number; 0 for the node's own terminal
	Key   string    // the SSH key's comment or fingerprint; "" for the node's own terminal
	From  string    // the client's address, or "local"
	Since time.Time // when it opened
	Kind  string    // such as "terminal", "script" or "exec"
	Yours bool      // the session of the shell that asks
}

// errNoSessions is the answer of !sessions in a shell that has no list.
var errNoSessions = errors.New("!sessions: this shell has no session list (remote access is off: start with -r)")

// sessionCommands returns the session entries of the command table.
func sessionCommands() []command {
	return []command{
		{name: "!sessions", help: "list the node's open shells: key, address, since when; yours is marked", run: (*Shell).cmdSessions},
	}
}

func (s *Shell) cmdSessions(context.Context, []string) error {
	if s.opts.Sessions == nil {
		return errNoSessions
	}
	rows := [][]string{{"", "ID", "KEY", "FROM", "SINCE", "KIND"}}
	now := time.Now()
	for _, si := range s.opts.Sessions.Sessions() {
		mark, key := "", si.Key
		if si.Yours {
			mark = "*"
		}
		if key == "" {
			key = "-"
		}
		since := fmt.Sprintf("%s (%s ago)", si.Since.Format(time.TimeOnly), now.Sub(si.Since).Round(time.Second))
		rows = append(rows, []string{mark, strconv.FormatUint(si.ID, 10), key, si.From, since, si.Kind})
	}
	s.con.print(nil, table(rows))
	return nil
}
