package cluster

import (
	"context"
	"crypto/tls"
	"net"
)

// Transport opens the connections a node uses: a listener for the
// connections peers make, and outgoing connections to peers. Every
// connection it returns must support deadlines. Implementations must be
// safe for concurrent use.
type Transport interface {
	// Listen binds address ("host:port") and returns its listener.
	Listen(ctx context.Context, address string) (net.Listener, error)
	// Dial connects to address ("host:port"), giving up when ctx ends.
	Dial(ctx context.Context, address string) (net.Conn, error)
}

// TCPTransport is the plain TCP Transport, the default.
type TCPTransport struct{}

// Listen binds a TCP listener on address.
func (TCPTransport) Listen(ctx context.Context, address string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", address)
}

// Dial opens a TCP connection to address.
func (TCPTransport) Dial(ctx context.Context, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", address)
}

// TLSTransport runs TCP connections through TLS with one configuration for
// both directions: it must hold this node's certificate, and a CA pool in
// both RootCAs and ClientCAs (TLSConfig builds such a configuration). The
// TLS handshake completes before Dial returns, and on the first read of an
// accepted connection, which the node bounds by Config.HandshakeTimeout.
type TLSTransport struct {
	// Config is used for accepting and for dialing.
	Config *tls.Config
}

// Listen binds a TCP listener on address whose connections speak TLS.
func (t TLSTransport) Listen(ctx context.Context, address string) (net.Listener, error) {
	ln, err := TCPTransport{}.Listen(ctx, address)
	if err != nil {
		return nil, err
	}
	return tls.NewListener(ln, t.Config), nil
}

// Dial connects to address and completes the TLS handshake.
func (t TLSTransport) Dial(ctx context.Context, address string) (net.Conn, error) {
	d := tls.Dialer{Config: t.Config}
	return d.DialContext(ctx, "tcp", address)
}
