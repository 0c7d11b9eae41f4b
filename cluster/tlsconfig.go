package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/iridium-vm/iridium/internal/safefile"
)

// TLSConfig builds a TLS configuration for cluster links from PEM files:
// this node's certificate and key, and the CA that signs every node's
// certificate. The result serves both directions with mutual
// authentication: as a server it requires a client certificate from that
// CA, as a client it checks the server's certificate against that CA. Host
// names are not checked: nodes are dialed by address, and any certificate
// the cluster CA signed belongs to a cluster node.
func TLSConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	var pem [3][]byte
	for i, path := range []string{certFile, keyFile, caFile} {
		data, _, err := safefile.Read(path, MaxTLSFileSize)
		if err != nil {
			return nil, fmt.Errorf("read TLS file: %w", err)
		}
		pem[i] = data
	}
	cert, err := tls.X509KeyPair(pem[0], pem[1])
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem[2]) {
		return nil, fmt.Errorf("TLS CA %s holds no PEM certificate", caFile)
	}
	return NewTLSConfig(cert, pool), nil
}

// MaxTLSFileSize bounds each PEM file TLSConfig reads: a certificate
// chain, a key or a CA bundle is a few KiB; a system-wide CA bundle is
// about 200 KiB.
const MaxTLSFileSize = 1 << 20

// NewTLSConfig is TLSConfig for a certificate and a CA pool already in
// memory.
func NewTLSConfig(cert tls.Certificate, ca *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca,
		RootCAs:      ca,
		// The server's chain is checked below against the cluster CA,
		// without the host name check that InsecureSkipVerify turns off.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeerChain(cs, ca)
		},
	}
}

// verifyPeerChain checks that the peer presented a certificate signed by
// the cluster CA. On the server side crypto/tls has checked it already;
// checking again costs little.
func verifyPeerChain(cs tls.ConnectionState, ca *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: peer presented no certificate")
	}
	intermediates := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         ca,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("tls: peer certificate is not from the cluster CA: %w", err)
	}
	return nil
}
