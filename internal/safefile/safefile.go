// Package safefile reads files whose names came from outside (a command
// line, a REPL line, a flag): only regular files are read, and only after
// their size has been checked, so that a FIFO cannot block the reader and
// a device such as /dev/zero cannot exhaust memory.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped by Read's error for a path that names a
// directory, a FIFO, a socket or a device.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by Read's error for a file over the size limit.
var ErrTooLarge = errors.New("over the size limit")

// Read returns the contents of the regular file at path, of at most max
// bytes, and its FileInfo. The file is opened without blocking (a FIFO
// opens at once) and checked with fstat before a byte is read, so the
// check and the read are of the same file. Errors name the path.
func Read(path string, max int64) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return nil, nil, fmt.Errorf("%s: %w", path, pathErr.Err)
		}
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, fmt.Errorf("%s is %s, %w", path, describe(fi.Mode()), ErrNotRegular)
	}
	if fi.Size() > max {
		return nil, fi, fmt.Errorf("%s is %d bytes, %w of %d bytes", path, fi.Size(), ErrTooLarge, max)
	}
	// The file may grow between the check and the read: read one byte
	// more than allowed to notice it.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fi, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fi, fmt.Errorf("%s grew while read, %w of %d bytes", path, ErrTooLarge, max)
	}
	return data, fi, nil
}

// describe names the kind of a file that is not regular.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
