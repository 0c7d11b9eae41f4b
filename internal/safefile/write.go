package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Replace writes data to path. A regular file (or a path that does not
// exist yet) is written through a temporary file in the same directory
// and a rename, so that a failed write leaves what was at path before (or
// nothing), never half a file; the file gets mode perm. A symbolic link
// is followed, so the link stays and its target is replaced. Anything
// else that exists at path (a device such as /dev/null or /dev/stdout, a
// FIFO) is written in place: renaming over it would replace the device
// itself, for every program on the machine (a FIFO that nothing reads is
// refused). A directory is refused.
func Replace(path string, data []byte, perm os.FileMode) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil && !fi.Mode().IsRegular():
		return writeInPlace(path, data)
	case err == nil:
		if path, err = filepath.EvalSymlinks(path); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeInPlace writes data to an existing file that is not regular: a
// device such as /dev/null, or a pipe such as /dev/stdout. It is opened
// without blocking, so that a FIFO with no reader is refused at once
// rather than waited on.
func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		return fmt.Errorf("%s is a FIFO that nothing reads", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
