//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package testkit

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// lockPort takes the lock of port in dir without waiting. The lock is
// held while the returned file is open, and dropped by the kernel if the
// process dies.
func lockPort(t testing.TB, dir string, port int) (*os.File, bool) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatalf("testkit.Ports: %v", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, false
	}
	if err != nil {
		f.Close()
		t.Fatalf("testkit.Ports: locking %s: %v", f.Name(), err)
	}
	return f, true
}
