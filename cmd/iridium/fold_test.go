package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/testkit"
)

// collector is a subscriber that keeps what it is given.
type collector struct{ got testkit.List[notice] }

func (c *collector) deliver(n notice) { c.got.Add(n) }

func (c *collector) all() []notice { return c.got.All() }

var repeatedRE = regexp.MustCompile(`\(repeated (\d+) times in the last 1s\)$`)

// shownAndFolded counts the notices delivered whose text starts with
// prefix: one by one, and the number the folded lines stand for.
func shownAndFolded(notices []notice, prefix string) (shown, folded, foldedLines int) {
	for _, n := range notices {
		if len(n.text) < len(prefix) || n.text[:len(prefix)] != prefix {
			continue
		}
		if m := repeatedRE.FindStringSubmatch(n.text); m != nil {
			c, _ := strconv.Atoi(m[1])
			folded += c
			foldedLines++
			continue
		}
		shown++
	}
	return shown, folded, foldedLines
}

// TestFlappingLinkIsFolded: a link that flaps thousands of times a second
// (issue 19 saw 4,271 event lines a second) reaches a shell and the log
// as a few lines, the rest counted in "(repeated N times)" lines; every
// event is accounted for, and the events of other members are shown at
// once.
func TestFlappingLinkIsFolded(t *testing.T) {
	hub := newEventHub()
	defer hub.close()
	var shell, log collector
	defer hub.subscribe(shell.deliver, false)()
	defer hub.subscribe(log.deliver, true)()

	const flaps = 4271
	start := time.Now()
	flapper := cluster.Member{Alias: "n2", Host: "127.0.0.2", Port: 2254}
	for i := range flaps {
		hub.publish(eventNotice(cluster.Event{Kind: cluster.EventLinkClosed, Member: flapper,
			Err: fmt.Errorf("flap %d: %w", i, errors.New("connection reset by peer"))}))
	}
	hub.publish(eventNotice(cluster.Event{Kind: cluster.EventJoined, Member: cluster.Member{Alias: "n3", Host: "127.0.0.3", Port: 2254}}))
	elapsed := time.Since(start)

	prefix := `cluster: "n2" (127.0.0.2:2254) link closed: `
	for _, sub := range []*collector{&shell, &log} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			shown, folded, _ := shownAndFolded(sub.all(), prefix)
			if shown+folded == flaps {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10s: %d shown and %d folded, want %d in all", shown, folded, flaps)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	got := shell.all()
	shown, _, lines := shownAndFolded(got, prefix)
	windows := int(elapsed/foldWindow) + 1
	if shown > foldAfter*windows || lines > windows+1 {
		t.Errorf("%d lines one by one and %d folded lines over %v; want at most %d and %d", shown, lines, elapsed, foldAfter*windows, windows+1)
	}
	if shown, _, _ := shownAndFolded(got, `cluster: "n3" (127.0.0.3:2254) joined`); shown != 1 {
		t.Errorf("n3's join is shown %d times, want once", shown)
	}
	// The folded line repeats the last event, and the log gets the count.
	for _, n := range log.all() {
		if repeatedRE.MatchString(n.text) {
			last := false
			for _, a := range n.attrs {
				last = last || a.Key == "repeated"
			}
			if !last || n.msg != "cluster: member link closed" {
				t.Errorf("folded log record %q %v, want the event's message and a repeated count", n.msg, n.attrs)
			}
		}
	}
}

// TestManySourcesFoldTogether: events about more members than the folder
// follows at once are folded together, so that a flood from new members
// cannot grow its table; notices without a key are never folded.
func TestManySourcesFoldTogether(t *testing.T) {
	hub := newEventHub()
	defer hub.close()
	var shell collector
	defer hub.subscribe(shell.deliver, false)()
	const sources = maxFoldKeys + 500
	for i := range sources {
		hub.publish(eventNotice(cluster.Event{Kind: cluster.EventFailed, Member: cluster.Member{Alias: fmt.Sprintf("m%d", i), Host: "127.0.0.9", Port: 1}}))
	}
	for range 10 {
		hub.publish(plainNotice("a plain notice"))
	}
	eventually := time.Now().Add(10 * time.Second)
	for {
		got := shell.all()
		one, plain, folded := 0, 0, 0
		for _, n := range got {
			if m := regexp.MustCompile(`^cluster: (\d+) more events about other members`).FindStringSubmatch(n.text); m != nil {
				c, _ := strconv.Atoi(m[1])
				folded += c
			} else if n.text == "a plain notice" {
				plain++
			} else {
				one++
			}
		}
		if one+folded == sources && plain == 10 {
			if hub.folder.windowCount() > maxFoldKeys+1 {
				t.Errorf("the folder follows %d keys, more than %d", hub.folder.windowCount(), maxFoldKeys+1)
			}
			return
		}
		if time.Now().After(eventually) {
			t.Fatalf("after 10s: %d shown, %d folded, %d plain; want %d and 10", one, folded, plain, sources)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// windowCount is how many keys the folder follows now.
func (f *repeatFolder) windowCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.windows)
}
