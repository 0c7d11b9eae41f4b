package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/internal/termtext/termtexttest"
	"github.com/iridium-vm/iridium/repl"
)

// TestEventsShownEscaped feeds each field of a cluster event that comes
// from outside (alias, host, node ID, a peer's reason, a refusal
// summary's sources) with hostile text through the two ways the node
// shows events: the line a shell prints (a real repl.Shell subscribed to
// the node's hub, as newShell subscribes it) and the daemon's log, in
// both formats.
func TestEventsShownEscaped(t *testing.T) {
	fields := []struct {
		name   string
		event  func(text string) cluster.Event
		inLine bool // the shell's line shows the field (it leaves out the node ID)
	}{
		{"alias", func(text string) cluster.Event {
			return cluster.Event{Kind: cluster.EventJoined, Member: cluster.Member{Alias: text, Host: "10.0.0.1", Port: 2254}}
		}, true},
		{"host", func(text string) cluster.Event {
			return cluster.Event{Kind: cluster.EventFailed, Member: cluster.Member{Alias: "n2", Host: text, Port: 2254}}
		}, true},
		{"node id", func(text string) cluster.Event {
			return cluster.Event{Kind: cluster.EventRejoined, Member: cluster.Member{Alias: "n2", Host: "10.0.0.1", Port: 2254, NodeID: text}}
		}, false},
		{"peer's reason", func(text string) cluster.Event {
			return cluster.Event{Kind: cluster.EventRefused, Member: cluster.Member{Host: "10.0.0.9", Port: 40000},
				Err: errors.New("peer at 10.0.0.9 refused us: " + text), Count: 1}
		}, true},
		{"summary's source", func(text string) cluster.Event {
			return cluster.Event{Kind: cluster.EventRefused, Count: 3,
				Err: &cluster.RefusalSummary{Count: 3, Sources: map[string]int{text: 3}, Reasons: map[string]int{"timed out": 3}}}
		}, true},
	}
	for _, f := range fields {
		for _, h := range termtexttest.Hostile {
			t.Run(f.name+"/"+h.Name, func(t *testing.T) {
				text := termtexttest.Name(h.Text)
				n := eventNotice(f.event(text))
				if strings.Contains(n.msg, "evil") {
					t.Errorf("the log message %q quotes the peer: it goes in an attribute", n.msg)
				}

				var out, errOut bytes.Buffer
				sh, err := repl.New(repl.Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
				if err != nil {
					t.Fatal(err)
				}
				defer sh.Close()
				hub := newEventHub()
				release := hub.subscribe(func(msg notice) { sh.Notify(msg.text) }, false)
				hub.publish(n)
				release()
				shown := termtext.Escape(text, false)
				want := ""
				if f.inLine {
					want = shown
				}
				termtexttest.Check(t, "shell", errOut.String(), want)

				// The text handler quotes a value with a space, and so
				// writes shown's backslashes twice.
				var text1 bytes.Buffer
				n.log(context.Background(), newLogger("text", &text1, true))
				quoted := strings.Trim(strconv.Quote(shown), `"`)
				termtexttest.Check(t, "text log", text1.String(), "evil")
				if !strings.Contains(text1.String(), shown) && !strings.Contains(text1.String(), quoted) {
					t.Errorf("text log %q holds neither %q nor %q", text1.String(), shown, quoted)
				}

				var json1 bytes.Buffer
				n.log(context.Background(), newLogger("json", &json1, true))
				termtexttest.Check(t, "JSON log", json1.String(), "evil")
				var record map[string]any
				if err := json.Unmarshal(json1.Bytes(), &record); err != nil {
					t.Fatalf("JSON log %q: %v", json1.String(), err)
				}
				found := false
				for _, v := range record {
					if s, ok := v.(string); ok {
						termtexttest.Check(t, "JSON log value", s, "")
						found = found || strings.Contains(s, termtext.Escape(text, false))
					}
				}
				if !found {
					t.Errorf("JSON log %q: no value holds %q", json1.String(), termtext.Escape(text, false))
				}
			})
		}
	}
}
