package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/iridium-vm/iridium/internal/safefile"
)

// maxAuthorizedKeysSize bounds the authorized_keys file read.
const maxAuthorizedKeysSize = 1 << 20

// ErrNoAuthorizedKey is wrapped by the error of a start with no
// authorized key.
var ErrNoAuthorizedKey = errors.New("no authorized key")

// ErrWritableByOthers is wrapped by the error of an authorized keys file,
// or a directory holding it, that its group or others may write: any of
// them could authorize a key of theirs.
var ErrWritableByOthers = errors.New("writable by its group or by others")

// authorizedKey is one usable line of the authorized_keys file.
type authorizedKey struct {
	comment     string
	fingerprint string // SHA256:...
}

// authorizedKeys is the authorized_keys file, read again when its size or
// modification time changes. The keys are indexed by their wire form.
type authorizedKeys struct {
	path string

	mu       sync.Mutex
	keys     map[string]authorizedKey
	size     int64
	modTime  time.Time
	warnings []string
	// reported is the text of the last error refresh returned, so that
	// an error that persists is reported once, not at every connection.
	reported string
}

// loadAuthorizedKeys reads path; a file with no usable key is an error
// that says how to add one.
func loadAuthorizedKeys(path string) (*authorizedKeys, error) {
	a := &authorizedKeys{path: path}
	if err := a.reload(); err != nil {
		return nil, err
	}
	if len(a.keys) == 0 {
		return nil, noKeyError(path)
	}
	return a, nil
}

// noKeyError says how to authorise a key, on one line: it goes to a
// terminal and to the daemon's log, whose text format would show a line
// break as a literal \n.
func noKeyError(path string) error {
	return fmt.Errorf("remote access: %w in %s; add your public key with: cat ~/.ssh/id_ed25519.pub >> %s (ssh-keygen -t ed25519 makes one if you have none)", ErrNoAuthorizedKey, path, path)
}

// reload reads the file anew. A missing file means no key.
func (a *authorizedKeys) reload() error {
	data, fi, err := safefile.Read(a.path, maxAuthorizedKeysSize)
	if errors.Is(err, fs.ErrNotExist) {
		a.mu.Lock()
		a.keys, a.warnings, a.size, a.modTime = nil, nil, -1, time.Time{}
		a.mu.Unlock()
		return nil
	}
	if err != nil {
		return fmt.Errorf("authorized keys: %w", err)
	}
	if err := checkNotWritableByOthers(a.path, fi); err != nil {
		return err
	}
	keys, warnings := parseAuthorizedKeys(a.path, data)
	a.mu.Lock()
	a.keys, a.warnings, a.size, a.modTime = keys, warnings, fi.Size(), fi.ModTime()
	a.mu.Unlock()
	return nil
}

// refresh reloads the file if its size or time changed since the last
// read. A file, or directory, others may write is refused whether it
// changed or not (a chmod changes neither size nor time); the keys read
// before stay. It returns why it could not read the file, once for the
// same reason.
func (a *authorizedKeys) refresh() error {
	fi, err := os.Stat(a.path)
	a.mu.Lock()
	same := err == nil && fi.Size() == a.size && fi.ModTime().Equal(a.modTime)
	gone := errors.Is(err, fs.ErrNotExist) && a.size == -1
	a.mu.Unlock()
	switch {
	case same:
		return a.report(checkNotWritableByOthers(a.path, fi))
	case gone:
		return a.report(nil)
	}
	return a.report(a.reload())
}

// report returns err unless it is the error reported last.
func (a *authorizedKeys) report(err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil {
		a.reported = ""
		return nil
	}
	if err.Error() == a.reported {
		return nil
	}
	a.reported = err.Error()
	return err
}

// checkNotWritableByOthers refuses, as OpenSSH's StrictModes does, the
// authorized keys file at path, of FileInfo fi, when its group or others
// may write it or a directory holding it: the file's own directory, and
// the directory of the file a symbolic link leads to.
func checkNotWritableByOthers(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return writableByOthers(path, fi.Mode())
	}
	dirs := []string{filepath.Dir(path)}
	if real, err := filepath.EvalSymlinks(path); err == nil && filepath.Dir(real) != dirs[0] {
		dirs = append(dirs, filepath.Dir(real))
	}
	for _, dir := range dirs {
		di, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("authorized keys: %w", err)
		}
		if di.Mode().Perm()&0o022 != 0 {
			return writableByOthers(dir, di.Mode())
		}
	}
	return nil
}

// writableByOthers is the error for path, of mode, that others may write.
func writableByOthers(path string, mode fs.FileMode) error {
	return fmt.Errorf("authorized keys: %s is %w (mode %04o), so any of them could authorize a key; fix it with: chmod go-w %s",
		path, ErrWritableByOthers, mode.Perm(), path)
}

// lookup returns the authorized key k, if it is one.
func (a *authorizedKeys) lookup(k ssh.PublicKey) (authorizedKey, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ak, ok := a.keys[string(k.Marshal())]
	return ak, ok
}

// takeWarnings returns the problems of the last read, once.
func (a *authorizedKeys) takeWarnings() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.warnings
	a.warnings = nil
	return w
}

// parseAuthorizedKeys reads authorized_keys lines. A line that is not a
// public key, or that has options (from=, command=, ...) that this server
// does not enforce, is skipped with a warning naming its line: granting a
// restricted key full access would be worse than refusing it.
func parseAuthorizedKeys(path string, data []byte) (map[string]authorizedKey, []string) {
	keys := make(map[string]authorizedKey)
	var warnings []string
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, comment, options, _, err := ssh.ParseAuthorizedKey(line)
		switch {
		case err != nil:
			warnings = append(warnings, fmt.Sprintf("%s:%d: not a public key, skipped", path, i+1))
		case len(options) > 0:
			warnings = append(warnings, fmt.Sprintf("%s:%d: key options such as from= or command= are not supported; the key is skipped", path, i+1))
		default:
			keys[string(key.Marshal())] = authorizedKey{comment: comment, fingerprint: ssh.FingerprintSHA256(key)}
		}
	}
	return keys, warnings
}
