// Package safefile reads files whose names came from outside (a command
// line, a REPL line, a flag): only regular files are read, and only after
// their size has been checked, so that a FIFO cannot block the reader and
// a device such as /dev/zero cannot exhaust memory.
package safefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
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
	var b bytes.Buffer
	fi, err := readInto(path, max, &b)
	if err != nil {
		return nil, fi, err
	}
	return b.Bytes(), fi, nil
}

// ReadString is Read into a string, without a second copy of the bytes
// (an assembly file is assembled from a string).
func ReadString(path string, max int64) (string, fs.FileInfo, error) {
	var b strings.Builder
	fi, err := readInto(path, max, &b)
	if err != nil {
		return "", fi, err
	}
	return b.String(), fi, nil
}

// buffer is what readInto fills: a bytes.Buffer or a strings.Builder.
type buffer interface {
	io.Writer
	Grow(n int)
	Len() int
}

// readInto reads the file at path into b, as Read says.
func readInto(path string, max int64, b buffer) (fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return nil, fmt.Errorf("%s: %w", path, pathErr.Err)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fi, fmt.Errorf("%s is %s, %w", path, describe(fi.Mode()), ErrNotRegular)
	}
	if fi.Size() > max {
		return fi, fmt.Errorf("%s is %d bytes, %w of %d bytes", path, fi.Size(), ErrTooLarge, max)
	}
	// The file may grow between the check and the read: read one byte
	// more than allowed to notice it (+1 also makes room for the read
	// that finds the end).
	b.Grow(int(fi.Size()) + 1)
	if _, err := io.Copy(b, io.LimitReader(f, max+1)); err != nil {
		return fi, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(b.Len()) > max {
		return fi, fmt.Errorf("%s grew while read, %w of %d bytes", path, ErrTooLarge, max)
	}
	return fi, nil
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
