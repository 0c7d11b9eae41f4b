package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrWeakCookie is wrapped by CheckCookie's error for a cookie that is
// easy to guess.
var ErrWeakCookie = errors.New("the cluster cookie is easy to guess")

// commonWords are words people choose for a secret, or put in one. A
// cookie made of a few of them (and separators, and digits counted up)
// is refused: an offline guesser tries such lists first. It is short on
// purpose: it catches the obvious, and the length rule the rest.
var commonWords = strings.Fields(`
	password passwd pass passphrase secret secrets cookie cookies key keys token
	cluster clusters node nodes iridium erlang beam elixir otp vm shell repl
	test tests testing demo example sample default changeme change me my our
	your the an and of to for is it this that not no yes
	admin administrator root user guest login letmein welcome hello world
	foo bar baz qux abc xyz asdf qwerty zxcv
	correct horse battery staple monkey dragon master shadow sunshine
	princess football baseball iloveyou love trustno one two three
	super very long strong safe good great private shared
	local localhost server client dev prod staging
`)

// CheckCookie reports why cookie is easy to guess, or nil. A cookie must
// have at least MinCookieLength bytes, more than four different
// characters, and more to it than a few common words and runs of digits
// in order ("correct-horse-battery", "secret-cookie-2024" and
// "1234567812345678" are refused). The cookie LoadOrCreateCookie and
// NewCookie make (32 random bytes in hex) always passes.
func CheckCookie(cookie []byte) error {
	switch {
	case len(cookie) < MinCookieLength:
		return fmt.Errorf("%w: it has %d bytes, fewer than %d", ErrWeakCookie, len(cookie), MinCookieLength)
	case distinctBytes(cookie) < 5:
		return fmt.Errorf("%w: it repeats %d different characters", ErrWeakCookie, distinctBytes(cookie))
	case isWordsAndCounting(string(cookie)):
		return fmt.Errorf("%w: it is made of common words and digits in order", ErrWeakCookie)
	}
	return nil
}

// NewCookie returns a fresh random cookie: 32 random bytes in hex.
func NewCookie() ([]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generate cookie: %w", err)
	}
	return []byte(hex.EncodeToString(b[:])), nil
}

func distinctBytes(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}

// isWordsAndCounting reports whether s is at most four common words
// (each run of letters split into such words), digits that count up or
// down or repeat, fewer than eight other digits, and separators.
func isWordsAndCounting(s string) bool {
	runs := splitRuns(strings.ToLower(s))
	words, digits := 0, 0
	for _, run := range runs {
		switch r := []rune(run); {
		case unicode.IsLetter(r[0]):
			n, ok := segmentWords(run)
			if !ok {
				return false
			}
			words += n
		case unicode.IsDigit(r[0]):
			if !isCounting(run) {
				digits += len(run)
			}
		}
	}
	return len(runs) > 0 && words <= 4 && digits < 8
}

// splitRuns splits s into runs of letters and runs of digits, dropping
// everything else (separators).
func splitRuns(s string) []string {
	var runs []string
	start, kind := -1, 0
	for i, r := range s + " " {
		k := 0
		switch {
		case unicode.IsLetter(r):
			k = 1
		case unicode.IsDigit(r):
			k = 2
		}
		if k != kind {
			if kind != 0 {
				runs = append(runs, s[start:i])
			}
			start, kind = i, k
		}
	}
	return runs
}

// segmentWords splits a run of letters into common words, and says how
// few it takes, or that it cannot be done.
func segmentWords(run string) (int, bool) {
	const none = 1 << 30
	fewest := make([]int, len(run)+1) // fewest[i]: words that make run[:i]
	for i := 1; i <= len(run); i++ {
		fewest[i] = none
		for _, w := range commonWords {
			if len(w) <= i && fewest[i-len(w)] < none && run[i-len(w):i] == w {
				fewest[i] = min(fewest[i], fewest[i-len(w)]+1)
			}
		}
	}
	return fewest[len(run)], fewest[len(run)] < none
}

// isCounting reports whether a run of digits steps by the same -1, 0 or
// +1 (mod 10) from each digit to the next, or repeats such a run:
// "1234", "9876", "0000", "12341234".
func isCounting(run string) bool {
	for period := 2; period <= len(run)/2; period++ {
		if steps(run[:period]) && strings.Repeat(run[:period], len(run)/period+1)[:len(run)] == run {
			return true
		}
	}
	return steps(run)
}

// steps reports whether a run of digits steps by the same -1, 0 or +1
// (mod 10) from each digit to the next.
func steps(run string) bool {
	if len(run) < 2 {
		return false
	}
	step := (int(run[1]) - int(run[0]) + 10) % 10
	if step != 0 && step != 1 && step != 9 {
		return false
	}
	for i := 2; i < len(run); i++ {
		if (int(run[i])-int(run[i-1])+10)%10 != step {
			return false
		}
	}
	return true
}
