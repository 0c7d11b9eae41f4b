package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStatusShownEscaped: text from a status socket is shown escaped, on
// its own line, whatever it holds.
func TestStatusShownEscaped(t *testing.T) {
	now := time.Now()
	st := nodeStatus{PID: 7, Version: "0.1.0\x1b[2J", Started: now.Add(-time.Minute), Alias: "a\x1b]0;owned\x07", Cluster: "127.0.0.1:2254",
		Members: []statusMember{{Alias: "b\nfake: line", Addr: "127.0.0.2:2254", State: "alive", Since: now}},
		Jobs:    []statusJob{{ID: "1", State: "running", Owner: "local", File: "x\r.iasm", Started: now}}}
	out := formatStatus(st, now)
	if strings.ContainsAny(out, "\x1b\x07\r") || strings.Contains(out, "\nfake: line") {
		t.Errorf("unescaped text from the socket:\n%q", out)
	}
	// Escaped once: the alias's escape shows as \x1b, not \\x1b.
	for _, want := range []string{"up 1m0s", "members: 1", "jobs: 1", "processes: not reported by this node", `node: "a\x1b]0;owned\a" at`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	st.Processes = []statusProcess{{PID: "<0.1.0>", State: "waiting"}}
	if out := formatStatus(st, now); !strings.Contains(out, "processes: 1\n") || !strings.Contains(out, "<0.1.0>  waiting") {
		t.Errorf("the processes hook is not shown:\n%s", out)
	}
}

// TestStatusBadSockets: sockets that answer garbage, too much, or
// nothing are passed over within the deadline; a good one is still read.
func TestStatusBadSockets(t *testing.T) {
	dir := t.TempDir()
	run := statusDir(dir)
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	serve := func(name string, answer func(net.Conn)) {
		ln, err := net.Listen("unix", filepath.Join(run, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				answer(c)
				c.Close()
			}
		}()
	}
	serve("1.sock", func(c net.Conn) { c.Write([]byte("not json")) })
	serve("2.sock", func(c net.Conn) { c.Write(bytes.Repeat([]byte("["), maxStatusSize+10)) })
	serve("3.sock", func(c net.Conn) {
		c.Write([]byte(`{"pid":3,"alias":"good","cluster":"127.0.0.1:9","started":"2026-01-01T00:00:00Z"}`))
	})
	if err := os.WriteFile(filepath.Join(run, "4.sock"), nil, 0o600); err != nil { // a stale file, no socket
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*statusTimeout)
	defer cancel()
	got, err := readStatuses(ctx, dir)
	if err != nil || len(got) != 1 || got[0].Alias != "good" {
		t.Fatalf("readStatuses: %+v, %v; want the one good node", got, err)
	}
}
