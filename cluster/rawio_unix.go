//go:build unix

package cluster

import (
	"errors"
	"io"
	"net"
	"os"
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

// rawConnOf returns the raw connection of conn for rawWriterOf and
// readerOf, or nil when conn is not a socket (a TLS connection, a pipe
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

// rawWriter writes a socket without waiting (tryWrite). Its call to
// sysWrite is made once, with its arguments and results in the struct,
// so that a write allocates nothing: a closure made per write, which the
// runtime's RawConn.Write keeps, would be allocated with what it
// captures, three objects a frame. One goroutine at a time uses it: the
// holder of the link's writeMu.
type rawWriter struct {
	raw     syscall.RawConn
	write   func(fd uintptr) bool // w.writeFD, bound once
	p       []byte                // what the call writes
	written int
	err     error
}

// rawWriterOf returns the rawWriter of conn, or nil when conn is not a
// socket of this system.
func rawWriterOf(conn net.Conn) *rawWriter {
	raw := rawConnOf(conn)
	if raw == nil {
		return nil
	}
	w := &rawWriter{raw: raw}
	w.write = w.writeFD
	return w
}

// maxRawWrite is the most a write makes raw: copying more into the
// socket's buffer keeps the goroutine's processor (and a stop of the
// world for the collector) waiting that long, so a larger write is one
// the runtime is told of.
const maxRawWrite = 64 << 10

// writeFD writes w.p to fd once, retrying only an interrupted call.
func (w *rawWriter) writeFD(fd uintptr) bool {
	for {
		if len(w.p) > maxRawWrite {
			w.written, w.err = syscall.Write(int(fd), w.p)
		} else {
			w.written, w.err = sysWrite(fd, w.p)
		}
		if !errors.Is(w.err, syscall.EINTR) {
			return true // done, whatever came of it: never wait here
		}
	}
}

// tryWrite writes what of p the socket takes without waiting, and returns
// how many bytes that was: 0 when its buffer is full.
func (w *rawWriter) tryWrite(p []byte) (int, error) {
	w.p = p
	err := w.raw.Write(w.write)
	written, werr := w.written, w.err
	w.p, w.err = nil, nil
	switch {
	case err != nil:
		return 0, err
	case errors.Is(werr, syscall.EAGAIN):
		return 0, nil
	case werr != nil:
		return 0, os.NewSyscallError("write", werr)
	}
	return written, nil
}

// rawReader reads a socket with sysRead, waiting for it to be readable
// in the runtime's network poller as net.Conn's Read does (deadlines
// included). It reads before it waits, as net.Conn does: the poller's
// notice of data that came since the last read is cleared when a read
// begins (internal/poll's prepareRead), so waiting first could wait for
// data that is already there. Like rawWriter, it binds its call once and
// allocates nothing a read; one goroutine uses it, the link's reader.
// The race detector does not see the kernel's writes into a raw read's
// buffer; it is the reader's own (bufio's), which nothing else touches.
type rawReader struct {
	raw  syscall.RawConn
	read func(fd uintptr) bool // r.readFD, bound once
	p    []byte                // where the call reads to
	n    int
	err  error
}

// readerOf returns what a link reads conn with: a rawReader for a
// socket, else conn itself.
func readerOf(conn net.Conn) io.Reader {
	if raw := rawConnOf(conn); raw != nil {
		r := &rawReader{raw: raw}
		r.read = r.readFD
		return r
	}
	return conn
}

// readFD reads fd into r.p once, retrying an interrupted call; it reports
// false, to wait for the socket, when there is nothing to read.
func (r *rawReader) readFD(fd uintptr) bool {
	for {
		r.n, r.err = sysRead(fd, r.p)
		switch {
		case errors.Is(r.err, syscall.EINTR):
			continue
		case errors.Is(r.err, syscall.EAGAIN):
			return false // wait until the socket is readable
		}
		return true
	}
}

func (r *rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p = p
	err := r.raw.Read(r.read)
	n, rerr := r.n, r.err
	r.p, r.err = nil, nil
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, os.NewSyscallError("read", rerr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
