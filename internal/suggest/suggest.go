// Package suggest finds the word a user probably meant, for "did you
// mean" hints in the assembler and the REPL.
package suggest

import "strings"

// Closest returns the candidate nearest to word by edit distance, if one
// is nearer than maxDistance, or "". Of candidates equally near, the first
// wins.
func Closest(word string, candidates []string, maxDistance int) string {
	best, bestDist := "", maxDistance
	for _, c := range candidates {
		if d := Distance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in bytes: the
// fewest insertions, deletions and substitutions that turn one into the
// other.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Prefixed returns the candidate that starts with word, if only one does;
// else the one candidate that shares the longest start with word, if
// that start has at least minShared bytes and no other candidate shares
// as much, or, of those that share as much, the one that shares the
// longest end with it (at least a byte) if no other does. So "!regs"
// finds "!registers" ("!reg", and "s"), even beside "!register".
func Prefixed(word string, candidates []string, minShared int) string {
	var starting []string
	for _, c := range candidates {
		if strings.HasPrefix(c, word) {
			starting = append(starting, c)
		}
	}
	if len(starting) == 1 {
		return starting[0]
	}
	if len(starting) > 1 {
		return ""
	}
	var best []string
	bestLen := 0
	for _, c := range candidates {
		n := sharedPrefix(word, c)
		switch {
		case n > bestLen:
			best, bestLen = []string{c}, n
		case n == bestLen:
			best = append(best, c)
		}
	}
	if bestLen < minShared {
		return ""
	}
	if len(best) == 1 {
		return best[0]
	}
	return longestEnd(word[bestLen:], best)
}

// longestEnd returns the one candidate that shares the longest end (at
// least a byte) with rest, or "" if none does or several share as much.
func longestEnd(rest string, candidates []string) string {
	best, bestLen, tie := "", 0, false
	for _, c := range candidates {
		n := 0
		for n < len(rest) && n < len(c) && rest[len(rest)-1-n] == c[len(c)-1-n] {
			n++
		}
		switch {
		case n > bestLen:
			best, bestLen, tie = c, n, false
		case n == bestLen:
			tie = true
		}
	}
	if tie || bestLen == 0 {
		return ""
	}
	return best
}

func sharedPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
