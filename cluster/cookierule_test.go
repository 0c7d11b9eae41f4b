package cluster

import (
	"errors"
	"testing"
)

// TestCheckCookie: the cookies an offline guesser tries first are refused
// (the docs' old example among them); random ones of the minimum length
// and passphrases with more to them pass.
func TestCheckCookie(t *testing.T) {
	t.Parallel()
	weak := []string{
		"", "c", "e2e-secret", "not-the-secret", // too short
		"correct-horse-battery", "correct horse battery staple", "CorrectHorseBatteryStaple",
		"my-secret-cookie-2024", "iridium-cluster-secret", "passwordpassword", "password1234567890",
		"1234567812345678", "0000000000000000", "9876543210987654",
		"abababababababababab", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"changeme_changeme",
	}
	for _, c := range weak {
		if err := CheckCookie([]byte(c)); !errors.Is(err, ErrWeakCookie) {
			t.Errorf("CheckCookie(%q) = %v, want ErrWeakCookie", c, err)
		}
	}
	strong := []string{
		"9f86d081884c7d65", "e2e-secret/TestClusterJoin", "pty-events/TestEvents",
		"correct-horse-battery-8f3a9c2d77", "tangerine velvet quorum obelisk",
		"a cookie of sixteen bytes or more", "82719304657382910",
		"test cookie: not a secret", // five words: more than the rule refuses
	}
	for _, c := range strong {
		if err := CheckCookie([]byte(c)); err != nil {
			t.Errorf("CheckCookie(%q) = %v, want nil", c, err)
		}
	}
	for range 100 {
		c, err := NewCookie()
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckCookie(c); err != nil || len(c) != 64 {
			t.Fatalf("NewCookie() = %q (%v), want 64 hex digits that pass", c, err)
		}
	}
}

// FuzzCheckCookie: any bytes get an answer, never a panic; a refusal
// always wraps ErrWeakCookie.
func FuzzCheckCookie(f *testing.F) {
	for _, seed := range []string{"", "correct-horse-battery", "1234567812345678", "\xff\xfe\x00", "ab12cd34ef56ab78"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, cookie []byte) {
		if err := CheckCookie(cookie); err != nil && !errors.Is(err, ErrWeakCookie) {
			t.Fatalf("CheckCookie(%q) = %v, not ErrWeakCookie", cookie, err)
		}
	})
}
