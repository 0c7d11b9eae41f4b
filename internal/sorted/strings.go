// Package sorted holds a set of strings kept in order, for symbol tables
// that grow one name at a time and are listed or searched by prefix.
package sorted

import (
	"slices"
	"strings"
)

// chunkSize is the most names one chunk holds before it splits in two. An
// insertion moves at most this many names, and the chunk index a few
// thousand pointers for a million names, so it costs about the same
// whatever the size of the set.
const chunkSize = 512

// Strings is a set of strings in ascending order, held in chunks of at
// most chunkSize names each, sorted within and between chunks. The zero
// value is an empty set. It is not safe for concurrent use.
type Strings struct {
	chunks [][]string
	n      int
}

// Len returns the number of strings in the set.
func (s *Strings) Len() int { return s.n }

// Clear empties the set.
func (s *Strings) Clear() { *s = Strings{} }

// chunkFor returns the index of the chunk where name belongs: the last
// chunk whose first name is at most name, or 0.
func (s *Strings) chunkFor(name string) int {
	i, _ := slices.BinarySearchFunc(s.chunks, name, func(c []string, name string) int {
		return strings.Compare(c[0], name)
	})
	if i < len(s.chunks) && s.chunks[i][0] == name {
		return i
	}
	return max(i-1, 0)
}

// Insert adds name; it reports false if the set had it already.
func (s *Strings) Insert(name string) bool {
	if len(s.chunks) == 0 {
		s.chunks = [][]string{{name}}
		s.n = 1
		return true
	}
	ci := s.chunkFor(name)
	c := s.chunks[ci]
	i, found := slices.BinarySearch(c, name)
	if found {
		return false
	}
	c = slices.Insert(c, i, name)
	s.n++
	if len(c) <= chunkSize {
		s.chunks[ci] = c
		return true
	}
	half := len(c) / 2
	upper := slices.Clone(c[half:])
	s.chunks[ci] = c[:half:half]
	s.chunks = slices.Insert(s.chunks, ci+1, upper)
	return true
}

// InsertAll adds the names. Into an empty set it sorts them once and
// fills the chunks, which is faster than inserting them one by one.
func (s *Strings) InsertAll(names []string) {
	if s.n > 0 || len(names) < chunkSize {
		for _, name := range names {
			s.Insert(name)
		}
		return
	}
	all := slices.Compact(slices.Sorted(slices.Values(names)))
	for i := 0; i < len(all); i += chunkSize / 2 {
		c := all[i:min(i+chunkSize/2, len(all))]
		s.chunks = append(s.chunks, c[:len(c):len(c)])
	}
	s.n = len(all)
}

// Contains reports whether name is in the set.
func (s *Strings) Contains(name string) bool {
	if len(s.chunks) == 0 {
		return false
	}
	_, found := slices.BinarySearch(s.chunks[s.chunkFor(name)], name)
	return found
}

// All calls yield with every string in ascending order until it returns
// false.
func (s *Strings) All(yield func(string) bool) {
	for _, c := range s.chunks {
		for _, name := range c {
			if !yield(name) {
				return
			}
		}
	}
}

// WithPrefix returns, in ascending order, the strings that start with
// prefix; it looks only at those and at most one other.
func (s *Strings) WithPrefix(prefix string) []string {
	var out []string
	if len(s.chunks) == 0 {
		return nil
	}
	ci := s.chunkFor(prefix)
	i, _ := slices.BinarySearch(s.chunks[ci], prefix)
	for ; ci < len(s.chunks); ci, i = ci+1, 0 {
		for _, name := range s.chunks[ci][i:] {
			if !strings.HasPrefix(name, prefix) {
				return out
			}
			out = append(out, name)
		}
	}
	return out
}
