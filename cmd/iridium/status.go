package main

// iridium status: a one-shot view of the running nodes of a data
// directory, for operators, as `serf members` or `erl -remsh` give.
//
// Each shell or daemon of a data directory serves a status socket, a Unix
// socket at DATA_DIR/run/PID.sock, in a directory only its user may open
// (0700). A client connects and reads one JSON document, the node's
// status, and the node closes the connection; the node reads nothing
// from the client, so there is nothing to parse on its side. This is the
// simplest secure way: no port, no cookie and no key to handle, and the
// kernel's file permissions decide who may ask (the user who runs the
// node, and root). A node on another machine is asked on that machine:
// over SSH, `ssh HOST iridium status`.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/termtext"
)

// nodeStatus is the document a node's status socket sends.
type nodeStatus struct {
	PID     int            `json:"pid"`
	Version string         `json:"version"`
	Started time.Time      `json:"started"`
	Alias   string         `json:"alias"`   // "" while the node is in no cluster
	Cluster string         `json:"cluster"` // its cluster address; "" while it is in none
	Members []statusMember `json:"members"`
	Jobs    []statusJob    `json:"jobs"`
	// Processes are the node's processes. Nil: this node reports none
	// (the process table is not wired to the status socket yet); the
	// hook is node.processStatus.
	Processes []statusProcess `json:"processes,omitempty"`
}

type statusMember struct {
	Alias string    `json:"alias"`
	Addr  string    `json:"addr"`
	State string    `json:"state"`
	Since time.Time `json:"since"`
	Local bool      `json:"local,omitempty"`
}

type statusJob struct {
	ID      string    `json:"id"` // ALIAS:ID for a job started on another member
	State   string    `json:"state"`
	Owner   string    `json:"owner"`
	File    string    `json:"file"`
	Started time.Time `json:"started"`
}

// statusProcess is one process of the node, for when the process table
// reports them (see nodeStatus.Processes).
type statusProcess struct {
	PID   string `json:"pid"`
	State string `json:"state"`
	Name  string `json:"name,omitempty"`
}

// Bounds of the status exchange: what a client reads, and how long a
// node gives a client to take its document.
const (
	maxStatusSize = 4 << 20
	statusTimeout = 5 * time.Second
	// maxSocketPath is the longest Unix socket path every system takes
	// (Linux takes 107 bytes, macOS 103).
	maxSocketPath = 103
)

// statusDir is the directory of a data directory's status sockets.
func statusDir(dataDir string) string { return filepath.Join(dataDir, "run") }

// status is this node's status document.
func (n *node) status() nodeStatus {
	st := nodeStatus{PID: os.Getpid(), Version: version, Started: n.started, Members: []statusMember{}, Jobs: []statusJob{}}
	for _, m := range n.cluster.Members() {
		if m.Local {
			st.Alias, st.Cluster = m.Alias, m.Addr
		}
		st.Members = append(st.Members, statusMember{Alias: m.Alias, Addr: m.Addr, State: m.State, Since: m.Since, Local: m.Local})
	}
	for _, j := range n.jobs.List() {
		state, _ := j.Status()
		st.Jobs = append(st.Jobs, statusJob{ID: j.Name(), State: state.String(), Owner: j.Owner.String(), File: j.File, Started: j.Started})
	}
	if n.processStatus != nil {
		st.Processes = n.processStatus()
	}
	return st
}

// serveStatus serves the status socket until stop is called; stop
// removes it. A node that cannot make its socket says why on warn and
// runs on without it.
func (n *node) serveStatus(warn func(string)) (stop func()) {
	dir := statusDir(n.opts.dataDir)
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".sock")
	ln, err := listenStatus(dir, path)
	if err != nil {
		warn(fmt.Sprintf("iridium status will not see this node: %v", err))
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			n.sendStatus(conn)
		}
	}()
	return func() {
		ln.Close() // removes the socket file
		wg.Wait()
	}
}

// listenStatus makes dir (0700, and refuses one others may open) and
// listens on the socket path in it.
func listenStatus(dir, path string) (net.Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("its socket path %s is longer than %d bytes (a shorter --data-root-dir fixes it)", path, maxSocketPath)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() || info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is not a directory of mode 0700 (mode %v); chmod 700 %s", dir, info.Mode(), dir)
	}
	os.Remove(path) // a socket left by a process of this PID that is gone
	return net.Listen("unix", path)
}

// sendStatus writes the status document to conn and closes it. It reads
// nothing from conn.
func (n *node) sendStatus(conn net.Conn) {
	defer conn.Close()
	data, err := json.Marshal(n.status())
	if err != nil {
		return
	}
	conn.SetWriteDeadline(time.Now().Add(statusTimeout))
	conn.Write(data)
}

// runStatus is `iridium status [--data-root-dir DIR] [HOST:PORT]`: it
// shows every running node of the data directory, or the one whose
// cluster address is HOST:PORT.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("iridium status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-root-dir", defaultDataDir(), "the data directory of the nodes to show")
	rest, err := filecmd.ParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, "Usage: iridium status [--data-root-dir DIR] [HOST:PORT]\n\n"+
			"Shows the running nodes of the data directory (the shells and daemons\n"+
			"started with it): alias, cluster members and their states, jobs,\n"+
			"processes, uptime. HOST:PORT shows only the node with that cluster address.\n")
		return filecmd.ExitOK
	}
	if err == nil && len(rest) > 1 {
		err = fmt.Errorf("one HOST:PORT at most, got %q", rest)
	}
	want := ""
	if err == nil && len(rest) == 1 {
		var host string
		var port int
		if host, port, err = cluster.ParseJoinAddr(rest[0]); err == nil {
			want = net.JoinHostPort(host, strconv.Itoa(port))
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "iridium status: %s\nRun 'iridium status --help' for usage.\n", termtext.Clip(err.Error(), 200))
		return filecmd.ExitUsage
	}
	all, err := readStatuses(ctx, *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "iridium status: %v\n", err)
		return filecmd.ExitFailure
	}
	shown := all
	if want != "" {
		shown = slices.DeleteFunc(slices.Clone(all), func(st nodeStatus) bool { return st.Cluster != want })
	}
	if len(shown) == 0 {
		fmt.Fprintf(stderr, "iridium status: %s\n", noStatusReason(*dataDir, want, all))
		return filecmd.ExitFailure
	}
	now := time.Now()
	for i, st := range shown {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprint(stdout, formatStatus(st, now))
	}
	return filecmd.ExitOK
}

// noStatusReason says why no node is shown.
func noStatusReason(dataDir, want string, all []nodeStatus) string {
	if len(all) == 0 {
		return fmt.Sprintf("no running node uses the data directory %s (give the one it was started with, --data-root-dir DIR)", dataDir)
	}
	var addrs []string
	for _, st := range all {
		a := st.Cluster
		if a == "" {
			a = fmt.Sprintf("pid %d, in no cluster", st.PID)
		}
		addrs = append(addrs, termtext.Clip(a, 200))
	}
	return fmt.Sprintf("no node of %s has the cluster address %s; its nodes: %s", dataDir, want, strings.Join(addrs, ", "))
}

// readStatuses asks every status socket of dataDir for its document,
// oldest node first. Sockets nobody answers on (left by a node that was
// killed) are passed over.
func readStatuses(ctx context.Context, dataDir string) ([]nodeStatus, error) {
	paths, err := filepath.Glob(filepath.Join(statusDir(dataDir), "*.sock"))
	if err != nil {
		return nil, err
	}
	var out []nodeStatus
	for _, path := range paths {
		st, err := readStatus(ctx, path)
		if err != nil {
			continue
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b nodeStatus) int { return a.Started.Compare(b.Started) })
	return out, nil
}

// readStatus reads one node's document, at most maxStatusSize bytes
// within statusTimeout.
func readStatus(ctx context.Context, path string) (nodeStatus, error) {
	var st nodeStatus
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	data, err := io.ReadAll(io.LimitReader(conn, maxStatusSize+1))
	if err != nil {
		return st, err
	}
	if len(data) > maxStatusSize {
		return st, fmt.Errorf("%s: status over %d bytes", path, maxStatusSize)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// formatStatus lays out one node's status. Every text in it came from the
// socket and is escaped where it is shown.
func formatStatus(st nodeStatus, now time.Time) string {
	var b strings.Builder
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	}
	name := "not in a cluster"
	if st.Alias != "" {
		name = fmt.Sprintf("%s at %s", strconv.Quote(termtext.Cut(st.Alias, 200)), termtext.Clip(st.Cluster, 200))
	}
	fmt.Fprintf(&b, "node: %s\n", name)
	fmt.Fprintf(&b, "pid %d, iridium %s, up %s\n", st.PID, termtext.Clip(st.Version, 40), now.Sub(st.Started).Round(time.Second))
	if len(st.Members) == 0 {
		b.WriteString("members: none (not in a cluster)\n")
	} else {
		fmt.Fprintf(&b, "members: %d\n", len(st.Members))
		rows := [][]string{{"ALIAS", "ADDRESS", "STATE", "SINCE"}}
		for _, m := range st.Members {
			alias := termtext.Clip(m.Alias, 200)
			if m.Local {
				alias += " (this node)"
			}
			rows = append(rows, []string{alias, termtext.Clip(m.Addr, 200), termtext.Clip(m.State, 20), ago(m.Since)})
		}
		b.WriteString(indentTable(rows))
	}
	if len(st.Jobs) == 0 {
		b.WriteString("jobs: none\n")
	} else {
		fmt.Fprintf(&b, "jobs: %d\n", len(st.Jobs))
		rows := [][]string{{"ID", "STATE", "OWNER", "FILE", "STARTED"}}
		for _, j := range st.Jobs {
			rows = append(rows, []string{termtext.Clip(j.ID, 100), termtext.Clip(j.State, 20), termtext.Clip(j.Owner, 100), termtext.Clip(j.File, 200), ago(j.Started)})
		}
		b.WriteString(indentTable(rows))
	}
	if st.Processes == nil {
		b.WriteString("processes: not reported by this node\n")
	} else {
		fmt.Fprintf(&b, "processes: %d\n", len(st.Processes))
		rows := [][]string{{"PID", "STATE", "NAME"}}
		for _, p := range st.Processes {
			rows = append(rows, []string{termtext.Clip(p.PID, 100), termtext.Clip(p.State, 20), termtext.Clip(p.Name, 100)})
		}
		b.WriteString(indentTable(rows))
	}
	return b.String()
}

// indentTable lays rows out in aligned columns, indented by two spaces.
func indentTable(rows [][]string) string {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("  ")
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(cell))+2))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
