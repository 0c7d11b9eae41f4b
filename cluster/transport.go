package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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
type TCPTransport struct {
	// SourceHost, when it is an IP address and not a wildcard, is the
	// address outgoing connections leave from: a node that dials from the
	// address it listens on shows its peers one address. New sets it to
	// Config.BindHost. Default "": the system picks.
	SourceHost string
}

// Listen binds a TCP listener on address.
func (TCPTransport) Listen(ctx context.Context, address string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", address)
}

// Dial opens a TCP connection to address, from SourceHost if set.
func (t TCPTransport) Dial(ctx context.Context, address string) (net.Conn, error) {
	return sourceDialer(t.SourceHost, address).DialContext(ctx, "tcp", address)
}

// sourceDialer returns a dialer for address whose connections leave from
// host, when host is an IP address other than a wildcard ("0.0.0.0",
// "::"); else one that lets the system pick. The system picks too when
// one of host and address is a loopback address and the other an IP
// address that is not (a packet from 127.0.0.1 cannot reach another
// machine). A peer of the other address family is unreachable from host,
// and the dial says so.
func sourceDialer(host, address string) *net.Dialer {
	d := &net.Dialer{}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return d
	}
	if to, _, err := net.SplitHostPort(address); err == nil {
		if toIP := net.ParseIP(to); toIP != nil && toIP.IsLoopback() != ip.IsLoopback() {
			return d
		}
	}
	d.LocalAddr = &net.TCPAddr{IP: ip}
	return d
}

// TLSTransport runs TCP connections through TLS with one configuration for
// both directions: it must hold this node's certificate, and a CA pool in
// both RootCAs and ClientCAs (TLSConfig builds such a configuration). The
// TLS handshake completes before Dial returns, and on the first read of an
// accepted connection, which the node bounds by Config.HandshakeTimeout.
type TLSTransport struct {
	// Config is used for accepting and for dialing.
	Config *tls.Config
	// SourceHost is the address outgoing connections leave from, as for
	// TCPTransport.
	SourceHost string
}

// Listen binds a TCP listener on address whose connections speak TLS.
func (t TLSTransport) Listen(ctx context.Context, address string) (net.Listener, error) {
	ln, err := TCPTransport{}.Listen(ctx, address)
	if err != nil {
		return nil, err
	}
	return tlsListener{Listener: ln, config: t.Config}, nil
}

// tlsListener serves TLS on accepted connections, and answers a peer
// that speaks the plain protocol with a plain Refuse that says why.
type tlsListener struct {
	net.Listener
	config *tls.Config
}

// Accept returns the next connection, wrapped in TLS.
func (l tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(&plainSniffer{Conn: c}, l.config), nil
}

// plainSniffer looks at the first bytes of a connection: a TLS client
// starts with a handshake record (byte 22); anything else is a peer
// without TLS, which gets a plain Refuse naming the mismatch.
type plainSniffer struct {
	net.Conn
	looked bool
}

func (s *plainSniffer) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if s.looked || n == 0 {
		return n, err
	}
	s.looked = true
	if p[0] != 0x16 {
		if frame, merr := newFrameCodec(PreAuthMaxFrameSize).marshal(&refuse{Code: codeTLS, Reason: "this node speaks TLS"}); merr == nil {
			s.Conn.Write(frame)
		}
		return 0, fmt.Errorf("%w: the peer does not speak TLS; this node has --tls-cert", ErrTLSMismatch)
	}
	return n, err
}

// Dial connects to address and completes the TLS handshake. A peer that
// answers without TLS gives an error wrapping ErrTLSMismatch.
func (t TLSTransport) Dial(ctx context.Context, address string) (net.Conn, error) {
	d := tls.Dialer{NetDialer: sourceDialer(t.SourceHost, address), Config: t.Config}
	c, err := d.DialContext(ctx, "tcp", address)
	var header tls.RecordHeaderError
	if errors.As(err, &header) {
		return nil, fmt.Errorf("%w: the peer at %s does not speak TLS; this node has --tls-cert", ErrTLSMismatch, address)
	}
	return c, err
}
