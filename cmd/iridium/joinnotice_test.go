package main

import (
	"fmt"
	"testing"

	"github.com/iridium-vm/iridium/cluster"
)

// TestJoinNoticeText: the notices of the background linking after a join
// count the members and name at most the few unreachable ones the event
// carries, saying how many more there are.
func TestJoinNoticeText(t *testing.T) {
	names := make([]string, 8)
	for i := range names {
		names[i] = fmt.Sprint("m", i)
	}
	for _, c := range []struct {
		e    cluster.Event
		want string
	}{
		{cluster.Event{Kind: cluster.EventJoinProgress, Join: cluster.JoinProgress{Through: "a", Linked: 37, Total: 254}},
			`cluster: joined through "a": linked to 37 of 254 members`},
		{cluster.Event{Kind: cluster.EventJoinDone, Join: cluster.JoinProgress{Through: "a", Linked: 2, Total: 2}},
			`cluster: joined through "a": linked to 2 of 2 members`},
		{cluster.Event{Kind: cluster.EventJoinDone, Join: cluster.JoinProgress{Through: "a", Linked: 4, Total: 254, Unreachable: 250, UnreachableNames: names}},
			`cluster: joined through "a": linked to 4 of 254 members; 250 unreachable: m0, m1, m2, m3, m4, m5, m6, m7 and 242 more`},
	} {
		if got := eventNotice(c.e).text; got != c.want {
			t.Errorf("%v: got %q, want %q", c.e.Kind, got, c.want)
		}
	}
}
