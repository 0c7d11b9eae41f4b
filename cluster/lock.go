package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// NodeIDLock holds the node ID file of a data directory for one process,
// so that a second process cannot start a node with the same ID (it would
// take over the first one's place in the cluster).
type NodeIDLock struct {
	file *os.File
}

// LockNodeID loads or creates the node ID in dir (see LoadOrCreateNodeID)
// and locks its file for this process. A second process that tries while
// the lock is held gets an error wrapping ErrNodeIDLocked that says so.
// The lock ends with Release or with the process.
func LockNodeID(dir string) (string, *NodeIDLock, error) {
	id, err := LoadOrCreateNodeID(dir)
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, NodeIDFile)
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("open %s to lock it: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLockHeld) {
			return "", nil, fmt.Errorf("%w: another process holds %s (a node with the same data directory and alias runs); give this one its own --node-alias or --data-root-dir",
				ErrNodeIDLocked, path)
		}
		return "", nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return id, &NodeIDLock{file: f}, nil
}

// errLockHeld is what lockFile returns when another process holds the
// lock (lock_unix.go, lock_windows.go).
var errLockHeld = errors.New("the lock is held")

// Release gives the lock up. It may be called more than once.
func (l *NodeIDLock) Release() error {
	if l == nil || l.file == nil {
		return nil
	}
	err := l.file.Close() // closing the file drops the lock
	l.file = nil
	return err
}
