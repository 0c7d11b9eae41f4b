package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/iridium-vm/iridium/internal/safefile"
)

// NodeIDFile is the name of the file, in the data directory, that keeps a
// node's ID.
const NodeIDFile = "node_id"

// LoadOrCreateNodeID returns the node ID kept in dir/node_id, creating the
// directory and a new random UUID (version 4) there on first use.
func LoadOrCreateNodeID(dir string) (string, error) {
	path := filepath.Join(dir, NodeIDFile)
	data, err := loadOrCreateFile(path, 0o644, func() ([]byte, error) {
		id, err := newUUID()
		return []byte(id + "\n"), err
	})
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(data))
	if !isUUID(id) {
		return "", fmt.Errorf("node id in %s is %q, not a UUID", path, id)
	}
	return id, nil
}

// newUUID returns a random version 4 UUID in its usual text form.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate node id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// maxSmallFile bounds the node ID and cookie files in the data directory.
const maxSmallFile = 4096

// loadOrCreateFile returns the content of path, a regular file of at most
// maxSmallFile bytes (checked before reading, so a FIFO or a device there
// is refused, not read); if the file does not exist
// it creates dir and the file (exclusively, with mode perm) holding make().
// When two processes race, the loser reads the winner's file.
func loadOrCreateFile(path string, perm fs.FileMode, make func() ([]byte, error)) ([]byte, error) {
	data, _, err := safefile.Read(path, maxSmallFile)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	content, err := make()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		data, _, err := safefile.Read(path, maxSmallFile)
		return data, err
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return content, nil
}
