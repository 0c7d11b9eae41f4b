//go:build !unix

package cluster

import (
	"errors"
	"io"
	"net"
)

// rawWriter is unix's; there is none here.
type rawWriter struct{}

// rawWriterOf returns nil: writeNow is for unix sockets; links elsewhere
// write through their writer.
func rawWriterOf(net.Conn) *rawWriter { return nil }

// tryWrite is never called where rawWriterOf gives nil.
func (*rawWriter) tryWrite([]byte) (int, error) {
	return 0, errors.New("cluster: no raw writes on this system")
}

// readerOf returns conn: links here read through net.Conn.
func readerOf(conn net.Conn) io.Reader { return conn }
