package sorted

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The set agrees with a sorted, deduplicated slice of the same names, in
// order, membership and prefix search, across many chunk splits.
func TestStringsAgreesWithSortedSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Strings
	var want []string
	for i := 0; i < 5000; i++ {
		name := fmt.Sprintf("%c%d", 'a'+r.IntN(5), r.IntN(3000))
		_, had := slices.BinarySearch(want, name)
		if got := s.Insert(name); got == had {
			t.Fatalf("Insert(%q) = %v, the set had it: %v", name, got, had)
		}
		if !had {
			want = append(want, name)
			slices.Sort(want)
		}
	}
	if s.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(want))
	}
	var got []string
	s.All(func(name string) bool { got = append(got, name); return true })
	if !slices.Equal(got, want) {
		t.Fatalf("All gives %d names out of order or wrong", len(got))
	}
	for _, prefix := range []string{"", "a", "b1", "c29", "e2999", "f", "0"} {
		var wantP []string
		for _, w := range want {
			if strings.HasPrefix(w, prefix) {
				wantP = append(wantP, w)
			}
		}
		if gotP := s.WithPrefix(prefix); !slices.Equal(gotP, wantP) {
			t.Errorf("WithPrefix(%q) = %d names, want %d", prefix, len(gotP), len(wantP))
		}
	}
	if !s.Contains(want[len(want)/2]) || s.Contains("zz") {
		t.Error("Contains is wrong")
	}
	s.Clear()
	if s.Len() != 0 || s.WithPrefix("") != nil || s.Contains(want[0]) {
		t.Error("Clear left names")
	}
}

// InsertAll into an empty set sorts once and gives the same set as
// inserting one by one, duplicates dropped; later inserts still work.
func TestInsertAll(t *testing.T) {
	var names []string
	for i := 0; i < 3000; i++ {
		names = append(names, fmt.Sprintf("n%d", (i*7919)%2000))
	}
	var bulk, one Strings
	bulk.InsertAll(names)
	for _, n := range names {
		one.Insert(n)
	}
	bulk.Insert("a")
	one.Insert("a")
	var got, want []string
	bulk.All(func(n string) bool { got = append(got, n); return true })
	one.All(func(n string) bool { want = append(want, n); return true })
	if !slices.Equal(got, want) || bulk.Len() != 2001 {
		t.Errorf("InsertAll gives %d names (Len %d), one by one %d", len(got), bulk.Len(), len(want))
	}
}

// BenchmarkInsert inserts names in increasing order, as a REPL with a
// label on every line does: the cost per name stays flat as the set grows.
func BenchmarkInsert(b *testing.B) {
	for _, size := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			var s Strings
			for i := 0; i < size; i++ {
				s.Insert(fmt.Sprintf("l%08d", i))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Insert(fmt.Sprintf("m%08d", i))
			}
		})
	}
}
