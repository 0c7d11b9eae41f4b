//go:build !unix

package cluster

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// rawConnOf returns nil: writeNow is for unix sockets; links elsewhere
// write through their writer.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// tryWrite is never called where rawConnOf gives nil.
func tryWrite(syscall.RawConn, []byte) (int, error) {
	return 0, errors.New("cluster: no raw writes on this system")
}

// readerOf returns conn: links here read through net.Conn.
func readerOf(conn net.Conn) io.Reader { return conn }
