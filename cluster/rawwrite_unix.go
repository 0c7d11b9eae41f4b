//go:build unix

package cluster

import (
	"errors"
	"net"
	"syscall"
)

// rawConnOf returns the raw connection of conn for tryWrite, or nil when
// conn is not a socket (a TLS connection, a pipe in a test).
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
			written, werr = syscall.Write(int(fd), p)
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
