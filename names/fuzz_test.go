package names

import (
	"testing"

	"github.com/iridium-vm/iridium/dist"
)

// FuzzAnswers feeds untrusted bytes to every decoder of the service: a
// member's lookup (answerWhereis), and the answers to a lookup and to a
// listing. None may panic; what they accept is bounded and checked.
func FuzzAnswers(f *testing.F) {
	a := startNode(f, "a", nil)
	if err := a.sched.Attach("svc").Register("svc"); err != nil {
		f.Fatal(err)
	}
	for _, v := range []any{
		&whereisRequest{Name: "svc"},
		&whereisRequest{Name: "a b"},
		&whereisAnswer{PID: dist.WirePID{Alias: "a", Incarnation: 1, Serial: 7}},
		&whereisAnswer{PID: dist.WirePID{Alias: "c", Serial: 7}},
		&listAnswer{Alias: "a", Inc: 1, Names: []listEntry{{Name: "svc", Serial: 1}, {Name: "x@y", Serial: 2}}, More: 3},
		&listAnswer{Alias: "a", More: -1},
	} {
		b, err := a.names.encode(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xc1})
	f.Fuzz(func(t *testing.T, body []byte) {
		if ans, err := a.names.answerWhereis("b", body); err == nil && len(ans) > 256 {
			t.Fatalf("an answer of %d bytes to a lookup", len(ans))
		}
		if pid, err := a.names.whereisAnswer("a", body, nil); err != nil && pid != 0 {
			t.Fatalf("PID %v with the error %v", pid, err)
		}
		list, more, err := a.names.listAnswer("a", body)
		if err == nil && (len(list) > MaxListed || more < 0) {
			t.Fatalf("%d names, %d more accepted", len(list), more)
		}
	})
}
