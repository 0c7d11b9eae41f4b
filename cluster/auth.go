package cluster

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/iridium-vm/iridium/internal/safefile"
	"golang.org/x/crypto/argon2"
)

// CookieFile is the name of the file, in the data directory, that keeps
// the cluster cookie.
const CookieFile = "cookie"

// Labels that make the two proofs of a handshake differ, so one side's
// proof can never be reflected back as the other's.
const (
	proofLabelAcceptor = "iridium cluster v2 acceptor"
	proofLabelDialer   = "iridium cluster v2 dialer"
)

// The cookie is stretched once, when a node is made, with argon2id, and
// the result keys every handshake proof: a recorded handshake then costs
// an attacker one argon2id run per guessed cookie. The salt is fixed (all
// nodes must derive the same key); it only separates this use of the
// cookie from any other.
const (
	kdfSalt    = "iridium cluster cookie v2"
	kdfTime    = 1
	kdfMemory  = 16 << 10 // KiB: 16 MiB
	kdfThreads = 1
	kdfKeySize = 32
)

// MinCookieLength is the shortest cookie CheckCookie accepts, in bytes.
const MinCookieLength = 16

// MaxCookieFileSize is the largest cookie file ReadCookieFile accepts.
const MaxCookieFileSize = 4096

// DeriveCookieKey stretches a cookie into the key that signs handshakes
// (argon2id: 1 pass over 16 MiB, one thread). It costs tens of
// milliseconds; New calls it unless Config.CookieKey is set, so a caller
// that makes several nodes from one cookie may call it once.
func DeriveCookieKey(cookie []byte) []byte {
	return argon2.IDKey(cookie, []byte(kdfSalt), kdfTime, kdfMemory, kdfThreads, kdfKeySize)
}

// ReadCookieFile reads a cookie from path: a regular file (never a FIFO or
// a device) of at most MaxCookieFileSize bytes that only its owner may
// read or write, all checked before a byte is read. Surrounding white
// space is trimmed; an empty cookie is an error.
func ReadCookieFile(path string) ([]byte, error) {
	data, info, err := safefile.Read(path, MaxCookieFileSize)
	if err != nil {
		return nil, fmt.Errorf("cookie file: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("cookie file %s has mode %v; others may read it (chmod 600 %s)", path, perm, path)
	}
	cookie := []byte(strings.TrimSpace(string(data)))
	if len(cookie) == 0 {
		return nil, fmt.Errorf("cookie file %s is empty", path)
	}
	return cookie, nil
}

// LoadOrCreateCookie returns the cluster cookie kept in dir/cookie and the
// file's path. On first use it creates the file with mode 0600 holding
// NewCookie's 32 random bytes in hex. It refuses a cookie file that
// others may read. Copy the file to every node of the cluster.
func LoadOrCreateCookie(dir string) (cookie []byte, path string, err error) {
	path = filepath.Join(dir, CookieFile)
	_, err = loadOrCreateFile(path, 0o600, func() ([]byte, error) {
		cookie, err := NewCookie()
		return append(cookie, '\n'), err
	})
	if err != nil {
		return nil, path, err
	}
	cookie, err = ReadCookieFile(path)
	return cookie, path, err
}

// newNonce returns nonceSize fresh random bytes.
func newNonce() ([]byte, error) {
	n := make([]byte, nonceSize)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return n, nil
}

// handshakeProof is HMAC-SHA256 keyed by the derived cookie key over a label, both
// nonces and both aliases. dialer and acceptor name the two ends, whichever
// side computes the proof, so both ends compute the same transcript.
func handshakeProof(key []byte, label string, dialerNonce, acceptorNonce []byte, dialer, acceptor string) []byte {
	mac := hmac.New(sha256.New, key)
	// Length-prefixed parts: no ambiguous concatenation.
	mac.Write(appendParts(nil, []byte(label), dialerNonce, acceptorNonce, []byte(dialer), []byte(acceptor)))
	return mac.Sum(nil)
}
