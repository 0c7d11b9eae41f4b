//go:build unix

package cluster

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// A link's socket is read and written with raw system calls where the
// system has them (rawsys_linux.go): the socket is non-blocking, so a
// call never waits in the kernel, and a raw one does not tell the Go
// runtime it entered a system call. The runtime's monitor thread
// (sysmon), asleep while the node is idle, is woken by every call it is
// told of; an idle mesh's CPU is mostly such wake-ups, two or three
// threads for every frame (docs/performance.md, "Where an idle node's
// CPU goes").

// rawConnOf returns the raw connection of conn for tryWrite and
// rawReader, or nil when conn is not a socket (a TLS connection, a pipe
// in a test).
func rawConnOf(conn net.Conn) syscall.RawConn {
	if _, ok := conn.(*net.TCPConn); !ok {
		return nil
	}
	raw, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// tryWrite writes what of p the socket takes without waiting, and returns
// how many bytes that was: 0 when its buffer is full.
func tryWrite(raw syscall.RawConn, p []byte) (int, error) {
	var written int
	var werr error
	err := raw.Write(func(fd uintptr) bool {
		for {
			written, werr = sysWrite(fd, p)
			if !errors.Is(werr, syscall.EINTR) {
				return true // done, whatever came of it: never wait here
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errors.Is(werr, syscall.EAGAIN):
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return written, nil
}

// rawReader reads a socket with sysRead, waiting for it to be readable
// in the runtime's network poller as net.Conn's Read does (deadlines
// included). It reads before it waits, as net.Conn does: the poller's
// notice of data that came since the last read is cleared when a read
// begins (internal/poll's prepareRead), so waiting first could wait for
// data that is already there.
type rawReader struct {
	raw syscall.RawConn
}

// readerOf returns what a link reads conn with: a rawReader for a
// socket, else conn itself.
func readerOf(conn net.Conn) io.Reader {
	if raw := rawConnOf(conn); raw != nil {
		return rawReader{raw: raw}
	}
	return conn
}

func (r rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	err := r.raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = sysRead(fd, p)
			switch {
			case errors.Is(rerr, syscall.EINTR):
				continue
			case errors.Is(rerr, syscall.EAGAIN):
				return false // wait until the socket is readable
			}
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
