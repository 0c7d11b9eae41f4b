package cluster

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CookieFile is the name of the file, in the data directory, that keeps
// the cluster cookie.
const CookieFile = "cookie"

// Labels that make the two proofs of a handshake differ, so one side's
// proof can never be reflected back as the other's.
const (
	proofLabelAcceptor = "iridium cluster v1 acceptor"
	proofLabelDialer   = "iridium cluster v1 dialer"
)

// LoadOrCreateCookie returns the cluster cookie kept in dir/cookie and the
// file's path. On first use it creates the file with mode 0600 holding 32
// random bytes in hex. It refuses a cookie file that others may read.
// Copy the file to every node of the cluster.
func LoadOrCreateCookie(dir string) (cookie []byte, path string, err error) {
	path = filepath.Join(dir, CookieFile)
	data, err := loadOrCreateFile(path, 0o600, func() ([]byte, error) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("generate cookie: %w", err)
		}
		return []byte(hex.EncodeToString(b[:]) + "\n"), nil
	})
	if err != nil {
		return nil, path, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, path, fmt.Errorf("stat %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, path, fmt.Errorf("cookie file %s has mode %v; others may read it (chmod 600 %s)",
			path, info.Mode().Perm(), path)
	}
	cookie = []byte(strings.TrimSpace(string(data)))
	if len(cookie) == 0 {
		return nil, path, fmt.Errorf("cookie file %s is empty", path)
	}
	return cookie, path, nil
}

// newNonce returns nonceSize fresh random bytes.
func newNonce() ([]byte, error) {
	n := make([]byte, nonceSize)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return n, nil
}

// handshakeProof is HMAC-SHA256 keyed by the cookie over a label, both
// nonces and both aliases. dialer and acceptor name the two ends, whichever
// side computes the proof, so both ends compute the same transcript.
func handshakeProof(cookie []byte, label string, dialerNonce, acceptorNonce []byte, dialer, acceptor string) []byte {
	mac := hmac.New(sha256.New, cookie)
	for _, part := range [][]byte{[]byte(label), dialerNonce, acceptorNonce, []byte(dialer), []byte(acceptor)} {
		var length [4]byte
		length[0], length[1], length[2], length[3] = byte(len(part)>>24), byte(len(part)>>16), byte(len(part)>>8), byte(len(part))
		mac.Write(length[:]) // length-prefix every part: no ambiguous concatenation
		mac.Write(part)
	}
	return mac.Sum(nil)
}
