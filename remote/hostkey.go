package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/iridium-vm/iridium/internal/safefile"
)

// maxHostKeySize bounds the host key file read: an OpenSSH ed25519 key is
// about 400 bytes.
const maxHostKeySize = 64 << 10

// LoadOrCreateHostKey returns the host key kept at path, making an
// ed25519 key there (mode 0600, its directory 0700) when there is no
// file; created says it was made. A key file that others may read, or
// that is not a private key, is an error that names the file.
func LoadOrCreateHostKey(path string) (key ssh.Signer, created bool, err error) {
	key, err = loadHostKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createHostKey(path)
		return key, err == nil, err
	}
	return key, false, err
}

// loadHostKey reads the host key kept at path; no file is an error that
// wraps fs.ErrNotExist.
func loadHostKey(path string) (ssh.Signer, error) {
	data, fi, err := safefile.Read(path, maxHostKeySize)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("host key %s: mode %v lets others read it; run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	key, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	return key, nil
}

// createHostKey writes a new ed25519 key to path, which must not exist
// (O_EXCL: two processes starting at once cannot both write it).
func createHostKey(path string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "iridium host key")
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if _, err := f.Write(pem.EncodeToMemory(block)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("host key: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("host key: write %s: %w", path, err)
	}
	return ssh.NewSignerFromKey(priv)
}
