package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// foreignProtocolError is a peer's first bytes that are not a frame but
// the start of another protocol: an SSH version line ("SSH-2.0-..."), an
// HTTP request or response. Dialled, such a peer is the wrong port, often
// the node's SSH port (-p) given for its cluster port (-P); its Error says
// so. A client of that protocol that dialled this node is worded by
// acceptedForeign.
type foreignProtocolError struct {
	protocol string // "SSH", "HTTP"
	greeting string // what the bytes were, as "an SSH version line"
}

// foreignGreetings are the starts of other protocols that a cluster port
// may see first, with what they are. Each, read as a frame header, is a
// length of over a billion bytes, so no frame is taken for one.
var foreignGreetings = []struct {
	prefix, protocol, greeting string
}{
	{"SSH-", "SSH", "an SSH version line"},
	{"HTTP/", "HTTP", "an HTTP response"},
	{"GET ", "HTTP", "an HTTP request"},
	{"HEAD ", "HTTP", "an HTTP request"},
	{"POST ", "HTTP", "an HTTP request"},
	{"PUT ", "HTTP", "an HTTP request"},
	{"OPTIO", "HTTP", "an HTTP request"},
	{"DELET", "HTTP", "an HTTP request"},
	{"PATCH", "HTTP", "an HTTP request"},
	{"CONNE", "HTTP", "an HTTP request"},
}

// foreignProtocol returns the protocol whose start header (a frame
// header's bytes) is, or nil.
func foreignProtocol(header []byte) *foreignProtocolError {
	for _, g := range foreignGreetings {
		n := min(len(g.prefix), len(header))
		if n > 0 && bytes.Equal(header[:n], []byte(g.prefix[:n])) {
			return &foreignProtocolError{protocol: g.protocol, greeting: g.greeting}
		}
	}
	return nil
}

// Error words it for the dialer: the port dialled is another protocol's.
func (e *foreignProtocolError) Error() string {
	return fmt.Sprintf("that is an %s port, not a cluster port (it sent %s); "+
		"a node's cluster port is the one it listens on with -P/--server-bind-port, %d unless set, "+
		"and is shown by !cluster_members", e.protocol, e.greeting, DefaultBindPort)
}

// Unwrap makes it a protocol error, as any frame that is not one.
func (e *foreignProtocolError) Unwrap() error { return errProtocol }

// foreignAnswerTimeout bounds the write of the answer to a foreign client.
const foreignAnswerTimeout = time.Second

// acceptedForeign is the error of an inbound connection whose first read
// failed with err, when the peer spoke another protocol (nil otherwise):
// a client of it dialled this node's cluster port. The client is told, in
// words its program may show (an HTTP client shows the body of a 400
// response; ssh -v shows a line sent before the version line).
func (n *Node) acceptedForeign(conn net.Conn, err error) error {
	var f *foreignProtocolError
	if !errors.As(err, &f) {
		return nil
	}
	text := fmt.Sprintf("this is the cluster port of Iridium node %q, not an %s port", n.cfg.Alias, f.protocol)
	if f.protocol == "HTTP" {
		text = "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + text + "\n"
	} else {
		text += "\r\n"
	}
	conn.SetDeadline(time.Now().Add(foreignAnswerTimeout))
	if _, err := conn.Write([]byte(text)); err == nil {
		closeGently(conn)
	}
	return fmt.Errorf("%w: it sent %s to the cluster port (an %s client given the cluster port)", ErrNotANode, f.greeting, f.protocol)
}

// closeGently ends conn's sending and reads what the peer still sends
// (a bounded amount, within conn's deadline) until it closes too: closed
// with unread input, a connection is reset, and the peer may lose the
// answer it was sent.
func closeGently(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		io.Copy(io.Discard, io.LimitReader(conn, maxForeignDrain))
	}
}

// maxForeignDrain bounds what closeGently reads.
const maxForeignDrain = 64 << 10
